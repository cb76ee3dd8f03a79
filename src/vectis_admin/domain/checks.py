"""Test Connection as an operator reads it: ordered steps, each with a verdict and a fix.

The seed's troubleshooting asks three questions — is the registry reachable, are the credentials
valid, does the image exist — and operators lose hours when the answer is just "failed". The
probe (an adapter) runs the steps and reports *what failed*; this module owns the vocabulary of
failures and turns each into a plain-language message and a fix hint. No I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from vectis_admin.domain.registries import RegistryKind, TlsMode

__all__ = [
    "CheckReport",
    "CheckStep",
    "ProbeTarget",
    "TagList",
    "RegistryFailure",
    "Step",
    "StepStatus",
    "explain",
    "STEP_ORDER",
]


class RegistryFailure(StrEnum):
    """Why a registry call failed: one value per answer Test Connection gives."""

    UNKNOWN_HOST = "unknown_host"
    BLOCKED_ADDRESS = "blocked_address"
    CONNECTION_REFUSED = "connection_refused"
    TIMEOUT = "timeout"
    NETWORK_ERROR = "network_error"
    TLS_UNKNOWN_CA = "tls_unknown_ca"
    TLS_HOSTNAME_MISMATCH = "tls_hostname_mismatch"
    TLS_ERROR = "tls_error"
    NOT_A_REGISTRY = "not_a_registry"
    AUTHENTICATION_REQUIRED = "authentication_required"
    CREDENTIALS_REJECTED = "credentials_rejected"
    CREDENTIALS_UNUSABLE = "credentials_unusable"  # e.g. no ECR token could be minted
    ACCESS_DENIED = "access_denied"
    REPOSITORY_MISSING = "repository_missing"
    TAG_MISSING = "tag_missing"
    NO_AMD64_VARIANT = "no_amd64_variant"
    RATE_LIMITED = "rate_limited"
    RESPONSE_TOO_LARGE = "response_too_large"
    SERVER_ERROR = "server_error"
    BAD_RESPONSE = "bad_response"


class Step(StrEnum):
    DNS = "dns"
    TCP = "tcp"
    TLS = "tls"
    API_VERSION = "api_version"
    AUTH_SCHEME = "auth_scheme"
    CREDENTIALS = "credentials"
    REPOSITORY = "repository"
    IMAGE = "image"


STEP_ORDER: tuple[Step, ...] = tuple(Step)

STEP_TITLES: dict[Step, str] = {
    Step.DNS: "Host name resolves",
    Step.TCP: "Port accepts connections",
    Step.TLS: "TLS certificate is trusted",
    Step.API_VERSION: "Speaks the registry API v2",
    Step.AUTH_SCHEME: "Authentication scheme",
    Step.CREDENTIALS: "Credentials accepted",
    Step.REPOSITORY: "Repository readable",
    Step.IMAGE: "Image and tag exist",
}


class StepStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    WARNING = "warning"
    SKIPPED = "skipped"  # not applicable (plain HTTP has no TLS) or an earlier step failed


@dataclass(frozen=True, kw_only=True)
class CheckStep:
    step: Step
    status: StepStatus
    message: str
    hint: str = ""
    latency_ms: float | None = None
    failure: RegistryFailure | None = None

    @property
    def title(self) -> str:
        return STEP_TITLES[self.step]


@dataclass(frozen=True, kw_only=True)
class CheckReport:
    registry: str
    image: str | None
    steps: tuple[CheckStep, ...]
    digest: str | None = None
    media_type: str | None = None
    platforms: tuple[str, ...] | None = None
    round_trips: int = 0
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return all(
            s.status in (StepStatus.PASSED, StepStatus.WARNING, StepStatus.SKIPPED)
            for s in self.steps
        ) and any(s.status is StepStatus.PASSED for s in self.steps)

    @property
    def failure(self) -> CheckStep | None:
        return next((s for s in self.steps if s.status is StepStatus.FAILED), None)

    @property
    def summary(self) -> str:
        """One line for the registry card and the audit trail."""
        failed = self.failure
        if failed is not None:
            return f"{failed.title}: {failed.message}"
        if self.digest:
            return f"OK: {self.image} is {self.digest}"
        return "OK: registry reachable and credentials accepted"


@dataclass(frozen=True, kw_only=True)
class ProbeTarget:
    label: str
    kind: RegistryKind
    host: str  # the registry's normalised URL: host[:port]
    tls_mode: TlsMode
    ca_bundle: str | None
    credentials: Mapping[str, str] = field(repr=False)
    repository: str | None  # path inside the registry, e.g. cpoder/vectis-server
    reference: str | None  # tag or digest

    @property
    def image(self) -> str | None:
        if not self.repository:
            return None
        sep = "@" if self.reference and ":" in self.reference else ":"
        return f"{self.host}/{self.repository}{sep}{self.reference or 'latest'}"


@dataclass(frozen=True, kw_only=True)
class TagList:
    """Tags in the registry's order; `complete` is False when the page limit cut the listing."""

    repository: str
    tags: tuple[str, ...]
    complete: bool
    pages: int


def explain(failure: RegistryFailure, *, host: str, image: str | None) -> tuple[str, str]:
    """(message, fix hint) for a failure, in the operator's terms."""
    target = image or "the image"
    table: dict[RegistryFailure, tuple[str, str]] = {
        RegistryFailure.UNKNOWN_HOST: (
            f"{host} does not resolve (DNS)",
            "Check the registry URL for typos; from inside the cluster the same name must "
            "resolve (private DNS zones, split-horizon DNS).",
        ),
        RegistryFailure.BLOCKED_ADDRESS: (
            f"{host} resolves to an address the console refuses to contact",
            "Link-local and cloud metadata addresses are blocked; if this registry really "
            "lives there, add its network to VECTIS_ALLOWED_NETWORKS.",
        ),
        RegistryFailure.CONNECTION_REFUSED: (
            f"{host} refused the connection",
            "Check the port in the URL and that the registry is running; firewalls and "
            "security groups must let the cluster's nodes reach it too.",
        ),
        RegistryFailure.TIMEOUT: (
            f"{host} did not answer in time",
            "The host is reachable but silent: check firewalls, proxies and the registry's "
            "health. Nodes behind the same network path will fail the same way.",
        ),
        RegistryFailure.NETWORK_ERROR: (
            f"the connection to {host} failed",
            "Check the network path between the console, the nodes and the registry.",
        ),
        RegistryFailure.TLS_UNKNOWN_CA: (
            f"the certificate of {host} is signed by an unknown authority",
            "Add the registry's CA bundle (PEM) to this registry; the nodes' container runtime "
            "needs the same CA (e.g. /etc/containerd/certs.d/<host>/ca.crt).",
        ),
        RegistryFailure.TLS_HOSTNAME_MISMATCH: (
            f"the certificate of {host} is not valid for that name",
            "Use the host name the certificate was issued for, or reissue the certificate "
            "with this name in its subject alternative names.",
        ),
        RegistryFailure.TLS_ERROR: (
            f"the TLS handshake with {host} failed",
            "Check that the port serves HTTPS (or mark the registry as plain HTTP for "
            "development) and that the certificate is current.",
        ),
        RegistryFailure.NOT_A_REGISTRY: (
            f"{host} answers HTTP but is not a container registry (no /v2/ API)",
            "Point the URL at the registry's API host (Docker Hub: docker.io; Harbor: the "
            "Harbor host itself), not at a web UI or a proxy path.",
        ),
        RegistryFailure.AUTHENTICATION_REQUIRED: (
            f"{host} requires authentication and no credentials are set",
            "Turn on 'Requires authentication' and give a user name and password or token.",
        ),
        RegistryFailure.CREDENTIALS_REJECTED: (
            "credentials rejected: the registry refused this user name and password/token",
            "Check the user name, and that the token is current and not revoked; update the "
            "password here, then redeploy the clusters that use this registry.",
        ),
        RegistryFailure.CREDENTIALS_UNUSABLE: (
            "no registry password could be derived from the stored credentials",
            "For ECR the console mints a 12-hour token from the AWS keys: check that AWS is "
            "reachable from the console and that its clock is right.",
        ),
        RegistryFailure.ACCESS_DENIED: (
            f"authenticated, but not allowed to pull {target}",
            "Grant this account pull (read) access to the repository — GHCR: read:packages "
            "and package access; Harbor: add the robot to the project; ECR: "
            "ecr:BatchGetImage on the repository.",
        ),
        RegistryFailure.REPOSITORY_MISSING: (
            f"the repository of {target} does not exist",
            "Check the image path (organisation/name, lowercase); it may live in another "
            "registry or project.",
        ),
        RegistryFailure.TAG_MISSING: (
            f"{target} does not exist: the repository is there, the tag is not",
            "Pick a tag the registry lists (see the tags list), or push this one.",
        ),
        RegistryFailure.NO_AMD64_VARIANT: (
            f"{target} has no linux/amd64 variant",
            "Vectis nodes run linux/amd64: build and push a multi-platform image that includes it.",
        ),
        RegistryFailure.RATE_LIMITED: (
            f"{host} is rate limiting pulls (429 Too Many Requests)",
            "Authenticate (Docker Hub gives authenticated accounts a higher allowance), use "
            "a mirror or a private registry, or wait until the limit window resets.",
        ),
        RegistryFailure.RESPONSE_TOO_LARGE: (
            f"{host} sent a response larger than the console accepts",
            "This is not what a registry sends for these requests; check the URL.",
        ),
        RegistryFailure.SERVER_ERROR: (
            f"{host} answered with a server error",
            "The registry itself is failing: check its status page or logs, then retry.",
        ),
        RegistryFailure.BAD_RESPONSE: (
            f"{host} sent an answer the registry protocol does not allow",
            "Check that the URL points at a registry and not at a proxy rewriting answers.",
        ),
    }
    return table[failure]
