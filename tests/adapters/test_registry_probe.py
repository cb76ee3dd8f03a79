"""Test Connection, step by step, against real registries: every failure class produced for real.

Servers: Debian's docker-registry (anonymous, htpasswd, token auth with our token server, TLS
with a generated CA), moto for ECR tokens, and three tiny peers for what no registry does on
purpose: a socket that accepts and never answers, a plain web server, a 429 with Docker Hub's
rate-limit headers.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.support.aws import MotoServer, ecr_backed_registry, ecr_login
from tests.support.clock import FakeClock
from tests.support.images import ChallengeAuth, PushedManifest, push_image, push_index
from tests.support.net import free_port
from tests.support.registry_server import RegistryServer, make_tls_material
from tests.support.token_server import TokenServer
from vectis_admin.adapters.registry.ecr import EcrTokenProvider
from vectis_admin.adapters.registry.probe import ProbeTarget, RegistryProbe
from vectis_admin.domain.checks import CheckReport, RegistryFailure, Step, StepStatus
from vectis_admin.domain.network_policy import NetworkPolicy, parse_networks
from vectis_admin.domain.registries import RegistryKind, TlsMode

READER_PW = "reader-pw-" + "5e1f"
ROBOT_PW = "robot-pw-" + "a77c"
PUSH_PW = "pusher-pw-" + "0b2d"
ALICE_PW = "alice-pw-" + "c3d4"
REPO = "cpoder/vectis-server"
MOTO_EXPIRY = datetime(2015, 1, 1, tzinfo=UTC)


def status_of(report: CheckReport) -> dict[Step, StepStatus]:
    return {s.step: s.status for s in report.steps}


def failed(report: CheckReport) -> tuple[Step, RegistryFailure | None]:
    step = report.failure
    assert step is not None, report
    return step.step, step.failure


def make_probe(clock: FakeClock | None = None, **kwargs: object) -> RegistryProbe:
    clock = clock or FakeClock(datetime.now(UTC))
    moto_url = kwargs.pop("moto_url", None)
    return RegistryProbe(
        policy=kwargs.pop("policy", NetworkPolicy()),  # type: ignore[arg-type]
        clock=clock.now,
        ecr=EcrTokenProvider(clock=clock.now, endpoint_url=moto_url),  # type: ignore[arg-type]
        timeout=float(kwargs.pop("timeout", 3.0)),  # type: ignore[arg-type]
        endpoints=kwargs.pop("endpoints", None),  # type: ignore[arg-type]
    )


def target(
    host: str,
    reference: str | None = "oci",
    *,
    repository: str | None = REPO,
    credentials: Mapping[str, str] | None = None,
    kind: RegistryKind = RegistryKind.GENERIC,
    tls_mode: TlsMode = TlsMode.PLAIN_HTTP,
    ca_bundle: str | None = None,
) -> ProbeTarget:
    return ProbeTarget(
        label="test",
        kind=kind,
        host=host,
        tls_mode=tls_mode,
        ca_bundle=ca_bundle,
        credentials=dict(credentials or {}),
        repository=repository,
        reference=reference,
    )


@pytest.fixture(scope="module")
def token_registry() -> Iterator[tuple[RegistryServer, dict[str, PushedManifest]]]:
    with (
        TokenServer(
            users={"pusher": PUSH_PW, "reader": READER_PW, "robot": ROBOT_PW},
            acl={
                "pusher": {"*": ["pull", "push"]},
                "reader": {"cpoder/*": ["pull"]},
                "robot": {"team-a/*": ["pull"]},  # a pull-only robot of another project
            },
            anonymous={"public/*": ["pull"]},
        ) as tokens,
        RegistryServer(token_server=tokens) as registry,
    ):
        with httpx.Client(auth=ChallengeAuth("pusher", PUSH_PW), trust_env=False) as http:
            pushed = {
                "oci": push_image(registry.url, REPO, "oci", fmt="oci", client=http),
                "docker": push_image(registry.url, REPO, "docker", fmt="docker", client=http),
                "oci-index": push_index(registry.url, REPO, "oci-index", fmt="oci", client=http),
                "docker-list": push_index(
                    registry.url, REPO, "docker-list", fmt="docker", client=http
                ),
                "arm64": push_image(
                    registry.url, REPO, "arm64", platform="linux/arm64", client=http
                ),
                "arm-index": push_index(
                    registry.url, REPO, "arm-index", platforms=("linux/arm64",), client=http
                ),
                "public": push_image(registry.url, "public/tool", "1.0", client=http),
            }
        yield registry, pushed


READER = {"username": "reader", "password": READER_PW}


@pytest.mark.parametrize("tag", ["oci", "docker", "oci-index", "docker-list"])
def test_token_registry_all_manifest_types_pass_with_their_digest(
    token_registry: tuple[RegistryServer, dict[str, PushedManifest]], tag: str
) -> None:
    registry, pushed = token_registry
    report = make_probe().check(target(registry.host, tag, credentials=READER))
    assert report.ok, report
    assert [s.step for s in report.steps] == list(Step)
    statuses = status_of(report)
    assert statuses[Step.TLS] is StepStatus.WARNING  # plain HTTP is flagged, not hidden
    assert all(statuses[s] is StepStatus.PASSED for s in list(Step) if s is not Step.TLS)
    assert report.digest == pushed[tag].digest
    assert report.platforms and "linux/amd64" in report.platforms[0]
    assert "Bearer" in report.steps[4].message
    timed = [
        s for s in report.steps if s.status is StepStatus.PASSED and s.step is not Step.AUTH_SCHEME
    ]
    assert all(s.latency_ms is not None for s in timed)  # the scheme is read from the ping
    assert report.summary.startswith("OK")


@pytest.mark.parametrize("tag", ["arm64", "arm-index"])
def test_image_without_amd64_variant(
    token_registry: tuple[RegistryServer, dict[str, PushedManifest]], tag: str
) -> None:
    registry, _ = token_registry
    report = make_probe().check(target(registry.host, tag, credentials=READER))
    assert failed(report) == (Step.IMAGE, RegistryFailure.NO_AMD64_VARIANT)
    assert report.platforms == ("linux/arm64",)
    assert "linux/amd64" in report.failure.message  # type: ignore[union-attr]


def test_wrong_password_is_credentials_rejected_and_never_shown(
    token_registry: tuple[RegistryServer, dict[str, PushedManifest]],
) -> None:
    registry, _ = token_registry
    wrong = "wrong-" + READER_PW
    report = make_probe().check(
        target(registry.host, credentials={"username": "reader", "password": wrong})
    )
    assert failed(report) == (Step.CREDENTIALS, RegistryFailure.CREDENTIALS_REJECTED)
    assert "credentials rejected" in report.failure.message  # type: ignore[union-attr]
    assert status_of(report)[Step.IMAGE] is StepStatus.SKIPPED
    assert wrong not in repr(report) and wrong not in report.summary


def test_pull_only_robot_on_a_repository_it_cannot_read_is_denied(
    token_registry: tuple[RegistryServer, dict[str, PushedManifest]],
) -> None:
    registry, _ = token_registry
    robot = {"username": "robot", "password": ROBOT_PW}
    report = make_probe().check(target(registry.host, credentials=robot))
    assert status_of(report)[Step.CREDENTIALS] is StepStatus.PASSED
    assert failed(report) == (Step.REPOSITORY, RegistryFailure.ACCESS_DENIED)
    assert "pull" in report.failure.hint  # type: ignore[union-attr]


def test_missing_repository_and_missing_tag(
    token_registry: tuple[RegistryServer, dict[str, PushedManifest]],
) -> None:
    registry, _ = token_registry
    probe = make_probe()
    no_repo = probe.check(target(registry.host, repository="cpoder/nope", credentials=READER))
    assert failed(no_repo) == (Step.REPOSITORY, RegistryFailure.REPOSITORY_MISSING)
    no_tag = probe.check(target(registry.host, "9.9.9", credentials=READER))
    assert failed(no_tag) == (Step.IMAGE, RegistryFailure.TAG_MISSING)
    assert status_of(no_tag)[Step.REPOSITORY] is StepStatus.PASSED


def test_anonymous_pull_of_a_public_repository(
    token_registry: tuple[RegistryServer, dict[str, PushedManifest]],
) -> None:
    registry, pushed = token_registry
    report = make_probe().check(target(registry.host, "1.0", repository="public/tool"))
    assert report.ok, report
    assert status_of(report)[Step.CREDENTIALS] is StepStatus.SKIPPED
    assert report.digest == pushed["public"].digest


def test_registry_without_image_path_checks_credentials_only(
    token_registry: tuple[RegistryServer, dict[str, PushedManifest]],
) -> None:
    registry, _ = token_registry
    report = make_probe().check(target(registry.host, None, repository=None, credentials=READER))
    assert report.ok
    assert status_of(report)[Step.IMAGE] is StepStatus.SKIPPED
    assert report.summary == "OK: registry reachable and credentials accepted"


def test_warm_check_costs_one_round_trip(
    token_registry: tuple[RegistryServer, dict[str, PushedManifest]],
) -> None:
    registry, _ = token_registry
    probe = make_probe()
    cold = probe.check(target(registry.host, "oci-index", credentials=READER), warm=True)
    assert cold.ok and cold.round_trips <= 5
    warm = probe.check(target(registry.host, "oci-index", credentials=READER), warm=True)
    assert warm.ok and warm.round_trips == 1
    assert warm.digest == cold.digest
    probe.forget()


def test_htpasswd_registry_basic_auth() -> None:
    with RegistryServer(users={"alice": ALICE_PW}) as registry:
        with httpx.Client(auth=("alice", ALICE_PW), trust_env=False) as http:
            pushed = push_image(registry.url, REPO, "latest", client=http)
        probe = make_probe()
        ok = probe.check(
            target(registry.host, "latest", credentials={"username": "alice", "password": ALICE_PW})
        )
        assert ok.ok and ok.digest == pushed.digest
        assert "Basic" in ok.steps[4].message
        bad = probe.check(
            target(registry.host, "latest", credentials={"username": "alice", "password": "nope"})
        )
        assert failed(bad) == (Step.CREDENTIALS, RegistryFailure.CREDENTIALS_REJECTED)
        anonymous = probe.check(target(registry.host, "latest"))
        assert failed(anonymous) == (Step.REPOSITORY, RegistryFailure.AUTHENTICATION_REQUIRED)


def test_tls_unknown_ca_then_trusted_with_the_bundle_then_hostname_mismatch() -> None:
    with RegistryServer(tls=True) as registry:
        push_image(registry.url, REPO, "latest", verify=registry.ssl_context())
        probe = make_probe()
        host = f"localhost:{registry.port}"
        untrusted = probe.check(target(host, "latest", tls_mode=TlsMode.VERIFY))
        assert failed(untrusted) == (Step.TLS, RegistryFailure.TLS_UNKNOWN_CA)
        assert "CA bundle" in untrusted.failure.hint  # type: ignore[union-attr]
        ca = registry.ca_pem.decode()  # type: ignore[union-attr]
        trusted = probe.check(target(host, "latest", tls_mode=TlsMode.VERIFY, ca_bundle=ca))
        assert trusted.ok, trusted
        assert "certificate trusted" in trusted.steps[2].message
        skipped = probe.check(target(host, "latest", tls_mode=TlsMode.SKIP_VERIFY))
        assert skipped.ok and status_of(skipped)[Step.TLS] is StepStatus.WARNING
    material = make_tls_material(("registry.invalid-name.test",))
    with RegistryServer(tls=material) as other:
        mismatch = make_probe().check(
            target(
                other.host, "latest", tls_mode=TlsMode.VERIFY, ca_bundle=material.ca_pem.decode()
            )
        )
        assert failed(mismatch) == (Step.TLS, RegistryFailure.TLS_HOSTNAME_MISMATCH)


def test_closed_port_is_connection_refused() -> None:
    report = make_probe().check(target(f"127.0.0.1:{free_port()}"))
    assert failed(report) == (Step.TCP, RegistryFailure.CONNECTION_REFUSED)
    assert status_of(report)[Step.DNS] is StepStatus.PASSED


def test_unknown_host() -> None:
    report = make_probe().check(target("registry.example.invalid"))
    assert failed(report) == (Step.DNS, RegistryFailure.UNKNOWN_HOST)


@pytest.fixture
def silent_socket() -> Iterator[int]:
    """Accepts connections (the kernel's backlog) and never says a word."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield int(server.getsockname()[1])


@pytest.mark.parametrize(
    ("tls_mode", "step"), [(TlsMode.VERIFY, Step.TLS), (TlsMode.PLAIN_HTTP, Step.API_VERSION)]
)
def test_silent_server_times_out(silent_socket: int, tls_mode: TlsMode, step: Step) -> None:
    report = make_probe(timeout=0.5).check(target(f"127.0.0.1:{silent_socket}", tls_mode=tls_mode))
    assert failed(report) == (step, RegistryFailure.TIMEOUT)
    assert status_of(report)[Step.TCP] is StepStatus.PASSED


class _Peer(BaseHTTPRequestHandler):
    """A web server that is not a registry, or one that rate-limits (chosen by the path)."""

    def do_GET(self) -> None:
        if self.path == "/v2/" and self.server.mode == "hub":  # type: ignore[attr-defined]
            self._answer(200, b"{}", {"Docker-Distribution-API-Version": "registry/2.0"})
        elif self.server.mode == "hub":  # type: ignore[attr-defined]
            body = json.dumps(
                {
                    "errors": [
                        {
                            "code": "TOOMANYREQUESTS",
                            "message": "You have reached your pull rate limit.",
                        }
                    ]
                }
            ).encode()
            self._answer(
                429,
                body,
                {
                    "ratelimit-limit": "100;w=21600",
                    "ratelimit-remaining": "0;w=21600",
                    "docker-ratelimit-source": "127.0.0.1",
                    "Retry-After": "3600",
                },
            )
        else:
            self._answer(404, b"<html>Not Found</html>", {"Content-Type": "text/html"})

    do_HEAD = do_GET

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(params=["web", "hub"])
def peer(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Peer)
    server.mode = request.param  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield request.param, f"127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_not_a_registry_and_rate_limited(peer: tuple[str, str]) -> None:
    mode, host = peer
    report = make_probe().check(target(host, "latest"))
    if mode == "web":
        assert failed(report) == (Step.API_VERSION, RegistryFailure.NOT_A_REGISTRY)
    else:
        step, failure = failed(report)
        assert failure is RegistryFailure.RATE_LIMITED
        assert "Allowance: 100 pulls per 6 h" in report.failure.hint  # type: ignore[union-attr]
        assert "Retry after 3600 s" in report.failure.hint  # type: ignore[union-attr]


def test_ssrf_guard_refuses_metadata_addresses_and_honours_the_allow_list(
    token_registry: tuple[RegistryServer, dict[str, PushedManifest]],
) -> None:
    metadata = make_probe().check(target("169.254.169.254"))
    assert failed(metadata) == (Step.DNS, RegistryFailure.BLOCKED_ADDRESS)
    registry, _ = token_registry
    blocking = NetworkPolicy(blocked=parse_networks("127.0.0.0/8", field="b"))
    assert (
        failed(make_probe(policy=blocking).check(target(registry.host, credentials=READER)))[1]
        is RegistryFailure.BLOCKED_ADDRESS
    )
    allowing = NetworkPolicy(
        blocked=parse_networks("127.0.0.0/8", field="b"),
        allowed=parse_networks("127.0.0.1", field="a"),
    )
    assert make_probe(policy=allowing).check(target(registry.host, credentials=READER)).ok


def test_ecr_end_to_end_with_moto_token_and_expiry() -> None:
    with MotoServer() as moto:
        creds = ecr_login(moto.endpoint_url)
        with ecr_backed_registry(creds) as registry:
            with httpx.Client(auth=(creds.username, creds.password), trust_env=False) as http:
                pushed = push_image(registry.url, REPO, "1.0", client=http)
            ecr_host = creds.registry_host
            clock = FakeClock(MOTO_EXPIRY - timedelta(hours=12))
            probe = make_probe(
                clock, moto_url=moto.endpoint_url, endpoints={ecr_host: registry.url}
            )
            keys = {
                "access_key_id": "AKIA" + "E" * 16,
                "secret_access_key": "moto-accepts-anything",
                "region": "us-east-1",
            }
            ecr = target(
                ecr_host, "1.0", kind=RegistryKind.ECR, tls_mode=TlsMode.VERIFY, credentials=keys
            )
            report = probe.check(ecr)
            assert report.ok, report
            assert report.digest == pushed.digest
            assert "accepted for AWS" in report.steps[5].message
            clock.current = MOTO_EXPIRY + timedelta(minutes=1)  # the token is now past its life
            expired = probe.check(ecr)
            assert failed(expired) == (Step.CREDENTIALS, RegistryFailure.CREDENTIALS_UNUSABLE)
            assert "expired" in expired.failure.message  # type: ignore[union-attr]
