"""Why a pod cannot pull its image, read from what Kubernetes reports — and how to fix it.

Operators see `ImagePullBackOff` and a runtime message written for engineers of containerd,
CRI-O or Docker. This module maps the container's waiting reason plus the kubelet / runtime
event texts to one cause and one fix. It never guesses: a message no rule recognises is reported
as UNKNOWN with the raw text. Rules are ordered most specific first (an ECR "token has expired"
is also a 401; Docker Hub's "pull access denied" is ambiguous by design and reported as such).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = ["PullCause", "PullDiagnosis", "diagnosis_for", "explain_pull_failure"]


class PullCause(StrEnum):
    BAD_CREDENTIALS = "bad_credentials"
    EXPIRED_TOKEN = "expired_token"
    DENIED = "denied"
    REPOSITORY_MISSING = "repository_missing"
    TAG_MISSING = "tag_missing"
    MISSING_OR_NO_ACCESS = "missing_or_no_access"  # Docker Hub's deliberate ambiguity
    NO_PLATFORM = "no_platform"
    INVALID_IMAGE_NAME = "invalid_image_name"
    DNS = "dns"
    REFUSED = "connection_refused"
    TIMEOUT = "timeout"
    TLS_UNKNOWN_CA = "tls_unknown_ca"
    TLS_HOSTNAME = "tls_hostname_mismatch"
    PLAIN_HTTP_REGISTRY = "plain_http_registry"
    RATE_LIMITED = "rate_limited"
    SECRET_MISSING = "pull_secret_missing"
    SECRET_NOT_MATCHING = "pull_secret_not_matching"
    NEVER_PULL = "never_pull"
    UNKNOWN = "unknown"


@dataclass(frozen=True, kw_only=True)
class PullDiagnosis:
    cause: PullCause
    summary: str
    fix: str
    evidence: str  # the message the verdict rests on (or every text, for UNKNOWN)

    @property
    def known(self) -> bool:
        return self.cause is not PullCause.UNKNOWN


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


# (cause, pattern) most specific first. Sources: kubelet images/types.go and image_manager.go,
# containerd remotes/docker (resolver, authorizer), CRI-O/containers-image, Docker daemon,
# registry error bodies (OCI distribution-spec error codes), ECR's and Docker Hub's own texts.
_RULES: Final[tuple[tuple[PullCause, re.Pattern[str]], ...]] = (
    (PullCause.SECRET_MISSING, _rx(r"unable to retrieve some image pull secrets",
                                   r"FailedToRetrieveImagePullSecret")),
    (PullCause.EXPIRED_TOKEN, _rx(r"authorization token has expired",
                                  r"token has expired", r"expired.{0,20}token")),
    (PullCause.NO_PLATFORM, _rx(r"no match for platform in manifest",
                                r"no matching manifest for \S+ in the manifest list",
                                r"image with reference .* was found but does not match the "
                                r"specified platform", r"choosing an image from manifest list")),
    (PullCause.MISSING_OR_NO_ACCESS, _rx(r"pull access denied.{0,40}repository does not exist "
                                         r"or may require authorization",
                                         r"repository does not exist or may require")),
    (PullCause.RATE_LIMITED, _rx(r"toomanyrequests", r"429 too many requests",
                                 r"pull rate limit", r"rate limit exceeded")),
    (PullCause.TLS_UNKNOWN_CA, _rx(r"x509: certificate signed by unknown authority",
                                   r"certificate verify failed: unable to get local issuer",
                                   r"self[- ]signed certificate in certificate chain")),
    (PullCause.TLS_HOSTNAME, _rx(r"x509: certificate is valid for .*, not ",
                                 r"x509: certificate is not valid for any names",
                                 r"certificate is valid for .* not ")),
    (PullCause.PLAIN_HTTP_REGISTRY, _rx(r"server gave HTTP response to HTTPS client")),
    (PullCause.DNS, _rx(r"no such host", r"server misbehaving",
                        r"temporary failure in name resolution", r"name or service not known")),
    (PullCause.REFUSED, _rx(r"connection refused")),
    (PullCause.TIMEOUT, _rx(r"i/o timeout", r"TLS handshake timeout", r"context deadline exceeded",
                            r"network is unreachable", r"no route to host",
                            r"Client\.Timeout exceeded")),
    (PullCause.BAD_CREDENTIALS, _rx(r"401 Unauthorized", r"unauthorized: authentication required",
                                    r"unauthorized: incorrect username or password",
                                    r"invalid username/password", r"no basic auth credentials",
                                    r"failed to fetch (?:anonymous|oauth) token",
                                    r"\bUNAUTHORIZED\b", r"authentication required")),
    (PullCause.DENIED, _rx(r"403 Forbidden", r"denied: requested access to the resource is denied",
                           r"\bdenied:", r"\bDENIED\b", r"insufficient_scope")),
    (PullCause.REPOSITORY_MISSING, _rx(r"name unknown", r"NAME_UNKNOWN",
                                       r"repository name not known to registry",
                                       r"repository .* not found",
                                       r"The repository with name .* does not exist")),
    (PullCause.TAG_MISSING, _rx(r"manifest unknown", r"MANIFEST_UNKNOWN",
                                r"failed to resolve reference .*: not found",
                                r"manifest for .* not found", r"not found: manifest unknown",
                                r"reading manifest .* in .*: manifest unknown")),
    (PullCause.INVALID_IMAGE_NAME, _rx(r"invalid reference format", r"couldn't parse image",
                                       r"Failed to apply default image tag",
                                       r"invalid image name")),
)  # fmt: skip

_FIXES: Final[dict[PullCause, tuple[str, str]]] = {
    PullCause.BAD_CREDENTIALS: (
        "the registry rejected the credentials of the pull secret",
        "Update the password/token of the registry in the console (Rotate), which re-syncs "
        "every copy of the pull secret, then redeploy the cluster.",
    ),
    PullCause.EXPIRED_TOKEN: (
        "the pull secret holds a short-lived token (ECR) that has expired",
        "Refresh the registry's token (the console re-mints ECR tokens from the AWS keys and "
        "pushes them to every copy); check the background refresher's state.",
    ),
    PullCause.DENIED: (
        "the credentials are valid but not allowed to pull this repository",
        "Grant pull access to this repository to the account (GHCR: read:packages and "
        "package access; Harbor: add the robot to the project; ECR: ecr:BatchGetImage).",
    ),
    PullCause.REPOSITORY_MISSING: (
        "the image's repository does not exist in the registry",
        "Check the image path (organisation/name, lowercase) in the cluster definition.",
    ),
    PullCause.TAG_MISSING: (
        "the repository exists but not this tag (or digest)",
        "Pick a tag the registry lists (Registries → tags), or push this one.",
    ),
    PullCause.MISSING_OR_NO_ACCESS: (
        "Docker Hub answers the same for a missing repository and for missing or insufficient "
        "credentials (pull access denied … may require authorization)",
        "Run the cluster diagnosis: it checks with the stored credentials whether the "
        "repository exists; if private, make sure the pull secret is referenced and valid.",
    ),
    PullCause.NO_PLATFORM: (
        "the image has no variant for the node's platform",
        "Push a multi-platform image that includes the nodes' platform (linux/amd64).",
    ),
    PullCause.INVALID_IMAGE_NAME: (
        "the image reference is not valid",
        "Fix the image reference in the cluster definition (lowercase path, tag of at most "
        "128 characters, digest as sha256:…).",
    ),
    PullCause.DNS: (
        "the node cannot resolve the registry's host name",
        "Check the registry URL, and the cluster's DNS (private zones must be resolvable from "
        "the nodes, not only from the console).",
    ),
    PullCause.REFUSED: (
        "the registry refused the node's connection",
        "Check the registry's port and that it runs; firewalls must let the nodes reach it.",
    ),
    PullCause.TIMEOUT: (
        "the node could not reach the registry in time",
        "Check the network path from the nodes (firewall, proxy, egress rules, routes).",
    ),
    PullCause.TLS_UNKNOWN_CA: (
        "the nodes do not trust the registry's certificate authority",
        "Install the registry's CA on every node's container runtime "
        "(/etc/containerd/certs.d/<host>/ca.crt) or use a publicly trusted certificate.",
    ),
    PullCause.TLS_HOSTNAME: (
        "the registry's certificate is not valid for the host name in the image",
        "Use the host name the certificate names, or reissue the certificate.",
    ),
    PullCause.PLAIN_HTTP_REGISTRY: (
        "the registry speaks plain HTTP and the nodes expect HTTPS",
        "Serve the registry over TLS, or declare it insecure in every node's container "
        "runtime configuration (development only).",
    ),
    PullCause.RATE_LIMITED: (
        "the registry is rate limiting pulls (Docker Hub's pull limit)",
        "Authenticate pulls (a Docker Hub account has a higher allowance), use a mirror or a "
        "private registry, or wait for the window to reset.",
    ),
    PullCause.SECRET_MISSING: (
        "the pull secret the pod references does not exist in its namespace",
        "Re-sync the registry's pull secret (Registries → Sync) so registry-secret-{id} exists "
        "in the namespace, then let the pod retry or redeploy.",
    ),
    PullCause.SECRET_NOT_MATCHING: (
        "the pull secret exists but its server key does not match the image's host under "
        "kubelet's rules, so it is not used",
        "Point the cluster at the registry the image really comes from; re-sync the secret.",
    ),
    PullCause.NEVER_PULL: (
        "the pod's pull policy is Never and the image is not on the node",
        "Set imagePullPolicy to IfNotPresent or Always (the console's Deployment does).",
    ),
}

_REASON_CAUSES: Final[dict[str, PullCause]] = {
    "InvalidImageName": PullCause.INVALID_IMAGE_NAME,
    "ErrImageNeverPull": PullCause.NEVER_PULL,
}


def explain_pull_failure(reason: str | None, messages: Iterable[str]) -> PullDiagnosis:
    """One diagnosis from a container's waiting reason and the related messages.

    `messages`: the container's waiting message, then the pod's event messages (kubelet
    `Failed` events carry the runtime's error text). The most specific rule that matches any
    message wins; a reason alone decides only for InvalidImageName / ErrImageNeverPull.
    """
    texts = [m.strip() for m in messages if m and m.strip()]
    for cause, pattern in _RULES:
        for text in texts:
            if pattern.search(text):
                summary, fix = _FIXES[cause]
                return PullDiagnosis(cause=cause, summary=summary, fix=fix, evidence=text)
    if reason in _REASON_CAUSES:
        cause = _REASON_CAUSES[reason]
        summary, fix = _FIXES[cause]
        return PullDiagnosis(
            cause=cause, summary=summary, fix=fix, evidence=texts[0] if texts else reason
        )
    return PullDiagnosis(
        cause=PullCause.UNKNOWN,
        summary="the console does not recognise this message; it is shown as Kubernetes "
        "reported it",
        fix="Read the raw message below; run the cluster diagnosis for live checks.",
        evidence="\n".join(texts) or (reason or ""),
    )


def diagnosis_for(cause: PullCause, evidence: str) -> PullDiagnosis:
    """A diagnosis established by a live check rather than by a message."""
    summary, fix = _FIXES[cause]
    return PullDiagnosis(cause=cause, summary=summary, fix=fix, evidence=evidence)
