"""Test Connection against a real registry: the ordered steps of `domain.checks`, for real.

DNS (with the SSRF guard on every resolved address), TCP and TLS are probed with plain sockets so
each gets its own verdict and latency; the API steps go through `RegistryClient`. The guard is
also handed to the client, so token realms and redirect targets are checked before contact.

A probe keeps recently used clients (token cache, known auth scheme) for `warm` checks, used by
bulk work such as verifying every image before a credential rotation: a warm check of another
tag of a registry costs one round trip. Operator-triggered checks are always cold.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, NoReturn, TypeVar

from vectis_admin.adapters.registry.client import (
    PingResult,
    RegistryClient,
    RegistryError,
    TagList,
    tls_failure,
)
from vectis_admin.adapters.registry.ecr import EcrCredentialsRejected, EcrTokenProvider
from vectis_admin.domain.checks import (
    STEP_ORDER,
    CheckReport,
    CheckStep,
    ProbeTarget,
    RegistryFailure,
    Step,
    StepStatus,
    explain,
)
from vectis_admin.domain.network_policy import NetworkPolicy
from vectis_admin.domain.registries import RegistryKind, TlsMode, ecr_host_parts
from vectis_admin.errors import UpstreamError

__all__ = ["ProbeTarget", "RegistryProbe", "REQUIRED_PLATFORM"]

REQUIRED_PLATFORM = "linux/amd64"  # what Vectis nodes run
_T = TypeVar("_T")
_WARM_SECONDS = 300


class _StepFailed(Exception):
    def __init__(self, failure: RegistryFailure, detail: str, extra_hint: str = "") -> None:
        super().__init__(detail)
        self.failure = failure
        self.detail = detail
        self.extra_hint = extra_hint


@dataclass
class _Warm:
    client: RegistryClient
    ping: PingResult
    at: float


class RegistryProbe:
    def __init__(
        self,
        *,
        policy: NetworkPolicy,
        clock: Callable[[], datetime],
        ecr: EcrTokenProvider,
        timeout: float = 10.0,
        endpoints: Mapping[str, str] | None = None,
    ) -> None:
        self._policy = policy
        self._clock = clock
        self._ecr = ecr
        self._timeout = timeout
        # host -> "scheme://host:port" to contact instead (tests map ECR hosts to a local
        # registry; operators could map a registry to a private endpoint).
        self._endpoints = dict(endpoints or {})
        self._warm: dict[str, _Warm] = {}
        self._platforms: dict[str, str | None] = {}
        self._lock = threading.Lock()

    # --- public ------------------------------------------------------------------------------

    def check(self, target: ProbeTarget, *, warm: bool = False) -> CheckReport:
        run = _Run(target)
        scheme, host = self._contact(target)
        key = self._key(target)
        cached = self._warm_client(key) if warm else None
        if cached is not None:
            before = cached.client.round_trips
            for step in (Step.DNS, Step.TCP, Step.TLS, Step.API_VERSION, Step.AUTH_SCHEME):
                run.passed(step, f"verified {time.monotonic() - cached.at:.0f} s ago", 0.0)
            try:
                if target.credentials:
                    run.passed(Step.CREDENTIALS, "accepted earlier; token reused", 0.0)
                else:
                    run.record(Step.CREDENTIALS, StepStatus.SKIPPED, "no credentials: anonymous")
                self._image_steps(run, cached.client, target)
            except _StepFailed:
                pass
            return run.report(round_trips=cached.client.round_trips - before)
        client: RegistryClient | None = None
        try:
            port = 80 if scheme == "http" else 443
            addresses = run.step(Step.DNS, lambda: self._resolve(host, port))
            resolved = ", ".join(address for address, _ in addresses)
            run.passed(Step.DNS, f"{_split(host, port)[0]} → {resolved}")
            sock = run.step(Step.TCP, lambda: self._connect(addresses, host))
            run.passed(Step.TCP, f"connected to {host}")
            self._tls_step(run, sock, scheme, host, target)
            with self._client(target, scheme, host, login=(None, None)) as anonymous:
                try:
                    ping = run.step(Step.API_VERSION, anonymous.ping)
                finally:
                    run.round_trips += anonymous.round_trips
            run.passed(Step.API_VERSION, _api_message(ping))
            run.passed(Step.AUTH_SCHEME, _scheme_message(ping))
            login: tuple[str | None, str | None] = (None, None)
            if target.credentials and not ping.requires_auth:
                run.record(
                    Step.CREDENTIALS,
                    StepStatus.WARNING,
                    "the registry asks for no credentials; the stored ones are not used",
                )
            elif target.credentials:
                login = run.step(Step.CREDENTIALS, lambda: self.login(target))
            client = authed = self._client(target, scheme, host, login=login)
            authed.adopt(ping)
            if login[0] is not None:
                scope_repo = target.repository or "vectis-admin/credential-check"
                run.step(Step.CREDENTIALS, lambda: authed.check_credentials(scope_repo))
                run.passed(Step.CREDENTIALS, f"accepted for {login[0]}")
            elif not target.credentials:
                run.record(Step.CREDENTIALS, StepStatus.SKIPPED, "no credentials set: anonymous")
            self._image_steps(run, client, target)
            if warm:  # kept for the next warm check; closed by forget() or replacement
                self._remember(key, client, ping)
                run.round_trips += client.round_trips
                client = None
        except _StepFailed:
            pass
        finally:
            if client is not None:
                run.round_trips += client.round_trips
                client.close()
        return run.report(round_trips=run.round_trips)

    def tags(self, target: ProbeTarget, *, page_size: int = 100, max_pages: int = 10) -> TagList:
        if not target.repository:
            raise UpstreamError("no image path: give the repository whose tags to list")
        scheme, host = self._contact(target)
        with self._client(target, scheme, host, login=self.login(target)) as client:
            return client.list_tags(target.repository, page_size=page_size, max_pages=max_pages)

    def forget(self) -> None:
        with self._lock:
            for warm in self._warm.values():
                warm.client.close()
            self._warm.clear()

    # --- steps -------------------------------------------------------------------------------

    def _resolve(self, host: str, default_port: int) -> list[tuple[str, int]]:
        name, port = _split(host, default_port)
        if name.endswith(".invalid") or name == "invalid":
            raise _StepFailed(RegistryFailure.UNKNOWN_HOST, f"{name} is a reserved .invalid name")
        try:
            infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise _StepFailed(
                RegistryFailure.UNKNOWN_HOST, f"{name} does not resolve ({exc.strerror})"
            ) from None
        addresses = list(dict.fromkeys((str(info[4][0]), port) for info in infos))
        for address, _ in addresses:
            refusal = self._policy.refusal(address)
            if refusal:
                raise _StepFailed(RegistryFailure.BLOCKED_ADDRESS, refusal)
        return addresses

    def _connect(self, addresses: list[tuple[str, int]], host: str) -> socket.socket:
        last: _StepFailed | None = None
        for address in addresses:
            try:
                return socket.create_connection(address, timeout=self._timeout)
            except ConnectionRefusedError:
                last = _StepFailed(RegistryFailure.CONNECTION_REFUSED, f"{host} refused")
            except TimeoutError:
                last = _StepFailed(
                    RegistryFailure.TIMEOUT, f"no TCP answer within {self._timeout:g} s"
                )
            except OSError as exc:
                last = _StepFailed(RegistryFailure.NETWORK_ERROR, exc.strerror or str(exc))
        assert last is not None
        raise last

    def _tls_step(
        self, run: _Run, sock: socket.socket, scheme: str, host: str, target: ProbeTarget
    ) -> None:
        if scheme == "http":
            sock.close()
            run.record(
                Step.TLS,
                StepStatus.WARNING,
                "plain HTTP: nothing is encrypted (registry marked insecure)",
                "Use TLS outside development.",
            )
            return

        def handshake() -> str:
            context = _ssl_context(target)
            sock.settimeout(self._timeout)
            try:
                with context.wrap_socket(sock, server_hostname=_split(host, 443)[0]) as tls:
                    return tls.version() or "TLS"
            except TimeoutError:
                raise _StepFailed(
                    RegistryFailure.TIMEOUT,
                    f"the TLS handshake got no answer within {self._timeout:g} s",
                ) from None
            except ssl.SSLError as exc:
                error = tls_failure(exc, where=host, host=_split(host, 443)[0])
                raise _StepFailed(error.reason, error.message) from None
            except OSError as exc:
                raise _StepFailed(RegistryFailure.NETWORK_ERROR, str(exc)) from None
            finally:
                sock.close()

        version = run.step(Step.TLS, handshake)
        if target.tls_mode is TlsMode.SKIP_VERIFY:
            run.record(
                Step.TLS,
                StepStatus.WARNING,
                f"{version}, certificate NOT verified (registry marked insecure)",
                "Add the registry's CA bundle and switch TLS back to verify.",
            )
        else:
            run.passed(Step.TLS, f"{version}, certificate trusted")

    def _image_steps(self, run: _Run, client: RegistryClient, target: ProbeTarget) -> None:
        if not target.repository:
            for step in (Step.REPOSITORY, Step.IMAGE):
                run.record(step, StepStatus.SKIPPED, "no image path set: give an image to check")
            return
        reference = target.reference or "latest"
        try:
            info = run.step(
                Step.REPOSITORY, lambda: client.head_manifest(target.repository or "", reference)
            )
        except _StepFailed as failed:
            if failed.failure is RegistryFailure.TAG_MISSING:
                run.steps.pop()
                run.passed(Step.REPOSITORY, f"{target.repository} is readable")
                run.record(
                    Step.IMAGE,
                    StepStatus.FAILED,
                    *explain(failed.failure, host=target.host, image=target.image),
                    failure=failed.failure,
                )
            raise
        run.passed(Step.REPOSITORY, f"{target.repository} is readable")
        run.digest, run.media_type = info.digest, info.media_type
        repository = target.repository
        run.platforms = run.step(
            Step.IMAGE,
            lambda: (
                info.platforms
                if info.platforms is not None or not info.digest
                else self._single_platform(client, repository, info.digest)
            ),
        )
        if run.platforms and REQUIRED_PLATFORM not in {p.split("/v")[0] for p in run.platforms}:
            run.record(
                Step.IMAGE,
                StepStatus.FAILED,
                *explain(RegistryFailure.NO_AMD64_VARIANT, host=target.host, image=target.image),
                failure=RegistryFailure.NO_AMD64_VARIANT,
            )
            raise _StepFailed(RegistryFailure.NO_AMD64_VARIANT, "no linux/amd64")
        shown = ", ".join(run.platforms) if run.platforms else "platform unknown"
        run.passed(Step.IMAGE, f"{target.image} is {info.digest} ({shown})")

    def _single_platform(
        self, client: RegistryClient, repository: str, digest: str
    ) -> tuple[str, ...] | None:
        with self._lock:
            known = digest in self._platforms
            platform = self._platforms.get(digest)
        if not known:
            platform = client.manifest_platform(repository, digest)
            with self._lock:
                self._platforms[digest] = platform
        return (platform,) if platform else None

    # --- plumbing ----------------------------------------------------------------------------

    def _contact(self, target: ProbeTarget) -> tuple[Literal["https", "http"], str]:
        override = self._endpoints.get(target.host)
        if override:
            given, _, where = override.partition("://")
            return ("http" if given == "http" else "https"), where.rstrip("/")
        scheme: Literal["https", "http"] = (
            "http" if target.tls_mode is TlsMode.PLAIN_HTTP else "https"
        )
        host = "registry-1.docker.io" if target.kind is RegistryKind.DOCKER_HUB else target.host
        return scheme, host

    def _client(
        self,
        target: ProbeTarget,
        scheme: Literal["https", "http"],
        host: str,
        *,
        login: tuple[str | None, str | None],
    ) -> RegistryClient:
        username, password = login
        return RegistryClient(
            host=host,
            scheme=scheme,
            username=username,
            password=password,
            verify=_ssl_context(target),
            timeout=self._timeout,
            clock=self._clock,
            host_guard=self._guard,
        )

    def login(self, target: ProbeTarget) -> tuple[str | None, str | None]:
        """The user name and password a pull uses (for ECR, a freshly minted token)."""
        creds = target.credentials
        if not creds:
            return None, None
        if target.kind is RegistryKind.ECR:
            parts = ecr_host_parts(target.host)
            try:
                token = self._ecr.token(
                    access_key_id=creds["access_key_id"],
                    secret_access_key=creds["secret_access_key"],
                    region=creds.get("region") or (parts[1] if parts else "us-east-1"),
                    account=parts[0] if parts else None,
                    role_arn=creds.get("role_arn") or None,
                )
            except EcrCredentialsRejected as exc:
                raise RegistryError(RegistryFailure.CREDENTIALS_REJECTED, exc.message) from None
            except UpstreamError as exc:
                raise RegistryError(RegistryFailure.CREDENTIALS_UNUSABLE, exc.message) from None
            return token.username, token.password
        return creds.get("username") or None, creds.get("password") or None

    def _guard(self, host: str) -> None:
        """SSRF guard for every host the client contacts: literal addresses and names."""
        name = host.strip("[]")
        try:
            infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
        except socket.gaierror:
            return  # the client reports the DNS failure itself
        for info in infos:
            refusal = self._policy.refusal(str(info[4][0]))
            if refusal:
                raise RegistryError(RegistryFailure.BLOCKED_ADDRESS, f"{host}: {refusal}")

    def _key(self, target: ProbeTarget) -> str:
        material = "\0".join(
            [
                target.host,
                target.tls_mode.value,
                target.ca_bundle or "",
                *(f"{k}={v}" for k, v in sorted(target.credentials.items())),
            ]
        )
        return hashlib.sha256(material.encode()).hexdigest()

    def _warm_client(self, key: str) -> _Warm | None:
        with self._lock:
            warm = self._warm.get(key)
            if warm and time.monotonic() - warm.at < _WARM_SECONDS:
                return warm
            return None

    def _remember(self, key: str, client: RegistryClient, ping: PingResult) -> None:
        with self._lock:
            old = self._warm.pop(key, None)
            self._warm[key] = _Warm(client=client, ping=ping, at=time.monotonic())
        if old is not None:
            old.client.close()


class _Run:
    """The steps of one check as they happen."""

    def __init__(self, target: ProbeTarget) -> None:
        self.target = target
        self.steps: list[CheckStep] = []
        self.digest: str | None = None
        self.media_type: str | None = None
        self.platforms: tuple[str, ...] | None = None
        self.round_trips = 0
        self._latency: float | None = None

    def step(self, step: Step, action: Callable[[], _T]) -> _T:
        """Run one step's action, timed; a failure is recorded with its explanation and ends
        the check (raised as _StepFailed). The caller records the success message."""
        start = time.perf_counter()
        try:
            result = action()
        except RegistryError as exc:
            self._fail(step, start, exc.reason, exc.message, _rate_hint(exc))
        except _StepFailed as exc:
            self._fail(step, start, exc.failure, exc.detail, exc.extra_hint)
        self._latency = (time.perf_counter() - start) * 1000
        return result

    def _fail(
        self, step: Step, start: float, failure: RegistryFailure, detail: str, extra: str
    ) -> NoReturn:
        self._latency = (time.perf_counter() - start) * 1000
        message, hint = explain(failure, host=self.target.host, image=self.target.image)
        if detail and detail not in message:
            message = f"{message} — {detail}"
        self.record(step, StepStatus.FAILED, message, f"{hint} {extra}".strip(), failure=failure)
        raise _StepFailed(failure, detail)

    def record(
        self,
        step: Step,
        status: StepStatus,
        message: str,
        hint: str = "",
        *,
        failure: RegistryFailure | None = None,
    ) -> None:
        self.steps.append(
            CheckStep(
                step=step,
                status=status,
                message=message,
                hint=hint,
                latency_ms=self._latency,
                failure=failure,
            )
        )
        self._latency = None

    def passed(self, step: Step, message: str, latency_ms: float | None = None) -> None:
        if latency_ms is not None:
            self._latency = latency_ms
        self.record(step, StepStatus.PASSED, message)

    def report(self, *, round_trips: int) -> CheckReport:
        done = {s.step for s in self.steps}
        failed = any(s.status is StepStatus.FAILED for s in self.steps)
        for step in STEP_ORDER:
            if step not in done:
                why = "not run: an earlier step failed" if failed else "not applicable"
                self.steps.append(CheckStep(step=step, status=StepStatus.SKIPPED, message=why))
        order = {step: i for i, step in enumerate(STEP_ORDER)}
        steps = sorted(self.steps, key=lambda s: order[s.step])
        return CheckReport(
            registry=self.target.label,
            image=self.target.image,
            steps=tuple(steps),
            digest=self.digest,
            media_type=self.media_type,
            platforms=self.platforms,
            round_trips=round_trips,
        )


def _rate_hint(exc: RegistryError) -> str:
    if exc.reason is not RegistryFailure.RATE_LIMITED:
        return ""
    parts = []
    if exc.rate_limit is not None:
        window = exc.rate_limit.window_seconds
        per = f" per {window / 3600:g} h" if window else ""
        parts.append(f"Allowance: {exc.rate_limit.limit} pulls{per}.")
    if exc.retry_after is not None:
        parts.append(f"Retry after {exc.retry_after:.0f} s.")
    return " ".join(parts)


def _split(host: str, default_port: int) -> tuple[str, int]:
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        return name, int(rest[1:]) if rest.startswith(":") else default_port
    name, _, port = host.partition(":")
    return name, int(port) if port else default_port


def _ssl_context(target: ProbeTarget) -> ssl.SSLContext:
    if target.tls_mode is TlsMode.SKIP_VERIFY:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cadata=target.ca_bundle or None)


def _scheme_message(ping: PingResult) -> str:
    if not ping.requires_auth:
        return "none: the registry allows anonymous access"
    if ping.auth_scheme == "bearer":
        return f"Bearer tokens from {ping.realm}"
    return f"{(ping.auth_scheme or 'unknown').title()} authentication"


def _api_message(ping: PingResult) -> str:
    version = ping.api_version or "no version header"
    return f"/v2/ answered {ping.status} ({version})"
