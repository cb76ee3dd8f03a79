"""The registry client against real `docker-registry` servers (anonymous, htpasswd, token, TLS).

Protocol corners a real server cannot be made to produce (a cross-host redirect, a 429 with
Docker Hub's headers, a 403, an oversized body, Link pagination, which distribution 2.8 does not
implement for tags) use `httpx.MockTransport`.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.support.clock import FakeClock
from tests.support.images import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
    ChallengeAuth,
    PushedManifest,
    push_image,
    push_index,
)
from tests.support.registry_server import RegistryServer, make_tls_material
from tests.support.token_server import TokenServer
from vectis_admin.adapters.registry.client import (
    RegistryClient,
    RegistryError,
    RegistryFailure,
)
from vectis_admin.domain.challenges import ACCEPT_MANIFESTS, RateLimit
from vectis_admin.errors import UpstreamError

SERVICE = "test-registry"
ALICE_PW = "alice-Pw-7d1f"  # test-only htpasswd password
READER_PW = "reader-Pw-93ab"  # test-only token-server password
ALL_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_MANIFEST_LIST)
TAG_OF = {
    OCI_MANIFEST: "oci",
    DOCKER_MANIFEST: "docker",
    OCI_INDEX: "oci-index",
    DOCKER_MANIFEST_LIST: "docker-list",
}
PLATFORMS_OF = {
    OCI_MANIFEST: None,
    DOCKER_MANIFEST: None,
    OCI_INDEX: ("linux/amd64", "linux/arm64"),
    DOCKER_MANIFEST_LIST: ("linux/amd64", "linux/arm64/v8"),
}


class CountingTransport(httpx.HTTPTransport):
    """A real transport that remembers every request it sent (round trips)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path))
        return super().handle_request(request)


def reason_of(call: Callable[[], object]) -> RegistryError:
    with pytest.raises(RegistryError) as exc:
        call()
    assert isinstance(exc.value, UpstreamError)
    return exc.value


def push_all_types(url: str, name: str, client: httpx.Client) -> dict[str, PushedManifest]:
    return {
        OCI_MANIFEST: push_image(url, name, "oci", fmt="oci", client=client),
        DOCKER_MANIFEST: push_image(url, name, "docker", fmt="docker", client=client),
        OCI_INDEX: push_index(
            url, name, "oci-index", ["linux/amd64", "linux/arm64"], client=client
        ),
        DOCKER_MANIFEST_LIST: push_index(
            url, name, "docker-list", ["linux/amd64", "linux/arm64/v8"], fmt="docker", client=client
        ),
    }


# --- fixtures: each server starts once per module ---------------------------------------------


@pytest.fixture(scope="module")
def anonymous() -> Iterator[RegistryServer]:
    with RegistryServer() as registry:
        push_image(registry.url, "solo/app", "v1")
        for n in range(1, 6):
            push_image(registry.url, "many/tags", f"t{n}")
        push_index(registry.url, "arm/only", "1", ["linux/arm64"])
        yield registry


@pytest.fixture(scope="module")
def htpasswd() -> Iterator[tuple[RegistryServer, dict[str, PushedManifest]]]:
    with RegistryServer(users={"alice": ALICE_PW}) as registry:
        with httpx.Client(auth=httpx.BasicAuth("alice", ALICE_PW), trust_env=False) as client:
            pushed = push_all_types(registry.url, "team/app", client)
        yield registry, pushed


@pytest.fixture(scope="module")
def token_server() -> Iterator[TokenServer]:
    with TokenServer(
        service=SERVICE,
        users={"pusher": "push-only-pw", "reader": READER_PW, "nogrant": "nogrant-pw"},
        acl={"pusher": {"*": ["pull", "push"]}, "reader": {"org/*": ["pull"]}},
        anonymous={"public/*": ["pull"]},
    ) as ts:
        yield ts


@pytest.fixture(scope="module")
def token_registry(
    token_server: TokenServer,
) -> Iterator[tuple[RegistryServer, dict[str, PushedManifest]]]:
    with RegistryServer(token_server=token_server) as registry:
        auth = ChallengeAuth("pusher", "push-only-pw")
        with httpx.Client(auth=auth, trust_env=False) as client:
            pushed = push_all_types(registry.url, "org/app", client)
            pushed["public"] = push_image(registry.url, "public/tool", "1.0", client=client)
        yield registry, pushed


def client_for(registry: RegistryServer, **kwargs: object) -> RegistryClient:
    kwargs.setdefault("scheme", "https" if registry.tls else "http")
    return RegistryClient(host=registry.host, timeout=5.0, **kwargs)  # type: ignore[arg-type]


# --- anonymous registry ----------------------------------------------------------------------


def test_anonymous_ping_head_and_missing_things(anonymous: RegistryServer) -> None:
    with client_for(anonymous) as client:
        ping = client.ping()
        assert (ping.status, ping.api_version, ping.auth_scheme) == (200, "registry/2.0", None)
        assert not ping.requires_auth
        assert client.check_credentials("solo/app").auth_scheme is None
        info = client.head_manifest("solo/app", "v1")
        assert info.media_type == OCI_MANIFEST and info.digest is not None
        assert info.size is not None and info.platforms is None and info.rate_limit is None
        by_digest = client.head_manifest("solo/app", info.digest)
        assert by_digest.digest == info.digest
        tag = reason_of(lambda: client.head_manifest("solo/app", "nope"))
        assert tag.reason is RegistryFailure.TAG_MISSING and tag.status == 404
        assert tag.error_codes == ("MANIFEST_UNKNOWN",)
        repo = reason_of(lambda: client.head_manifest("ghost/app", "v1"))
        assert repo.reason is RegistryFailure.REPOSITORY_MISSING
        # distribution 2.8 says MANIFEST_UNKNOWN for the manifest, NAME_UNKNOWN for the tags.
        assert repo.error_codes == ("MANIFEST_UNKNOWN", "NAME_UNKNOWN")
        digest = reason_of(lambda: client.head_manifest("solo/app", "sha256:" + "0" * 64))
        assert digest.reason is RegistryFailure.TAG_MISSING and "digest" in digest.message


def test_index_with_only_arm64_lists_its_platform(anonymous: RegistryServer) -> None:
    with client_for(anonymous) as client:
        info = client.head_manifest("arm/only", "1")
    assert info.is_index and info.media_type == OCI_INDEX
    assert info.platforms == ("linux/arm64",)


def test_real_registry_lists_all_tags_ignoring_page_size(anonymous: RegistryServer) -> None:
    with client_for(anonymous) as client:
        tags = client.list_tags("many/tags", page_size=2)
        # distribution 2.8.2 ignores `n` for tags and sends no Link: one page, all tags.
        assert sorted(tags.tags) == ["t1", "t2", "t3", "t4", "t5"]
        assert (tags.complete, tags.pages) == (True, 1)
        missing = reason_of(lambda: client.list_tags("ghost/app"))
    assert missing.reason is RegistryFailure.REPOSITORY_MISSING
    assert missing.error_codes == ("NAME_UNKNOWN",)


# --- htpasswd registry -----------------------------------------------------------------------


@pytest.mark.parametrize("media_type", ALL_TYPES)
def test_htpasswd_right_credentials_give_the_pushed_digest(
    htpasswd: tuple[RegistryServer, dict[str, PushedManifest]], media_type: str
) -> None:
    registry, pushed = htpasswd
    with client_for(registry, username="alice", password=ALICE_PW) as client:
        info = client.head_manifest("team/app", TAG_OF[media_type])
    assert info.digest == pushed[media_type].digest
    assert info.media_type == media_type
    assert info.size == pushed[media_type].size
    assert info.platforms == PLATFORMS_OF[media_type]


def test_htpasswd_ping_and_credentials(
    htpasswd: tuple[RegistryServer, dict[str, PushedManifest]],
) -> None:
    registry, _ = htpasswd
    transport = CountingTransport()
    with client_for(registry, username="alice", password=ALICE_PW, transport=transport) as client:
        ping = client.ping()
        assert (ping.status, ping.auth_scheme, ping.realm) == (401, "basic", "basic-realm")
        check = client.check_credentials("team/app")
        assert (check.auth_scheme, check.authenticated) == ("basic", True)
        client.head_manifest("team/app", "oci")
    # ping, /v2/ with Basic, then the HEAD sends Basic up front.
    assert transport.sent == [
        ("GET", "/v2/"),
        ("GET", "/v2/"),
        ("HEAD", "/v2/team/app/manifests/oci"),
    ]


def test_htpasswd_wrong_password_is_rejected_and_never_shown(
    htpasswd: tuple[RegistryServer, dict[str, PushedManifest]],
) -> None:
    registry, _ = htpasswd
    wrong = "Wr0ng-Secret-Value"
    with client_for(registry, username="alice", password=wrong) as client:
        checked = reason_of(lambda: client.check_credentials("team/app"))
        headed = reason_of(lambda: client.head_manifest("team/app", "oci"))
        shown = f"{client!r} {checked} {checked!r} {headed} {headed!r}"
    assert checked.reason is RegistryFailure.CREDENTIALS_REJECTED
    assert headed.reason is RegistryFailure.CREDENTIALS_REJECTED
    assert "'alice'" in str(checked)
    assert wrong not in shown


def test_htpasswd_without_credentials_requires_authentication(
    htpasswd: tuple[RegistryServer, dict[str, PushedManifest]],
) -> None:
    registry, _ = htpasswd
    with client_for(registry) as client:
        assert reason_of(lambda: client.check_credentials("team/app")).reason is (
            RegistryFailure.AUTHENTICATION_REQUIRED
        )
        assert reason_of(lambda: client.head_manifest("team/app", "oci")).reason is (
            RegistryFailure.AUTHENTICATION_REQUIRED
        )


# --- token registry --------------------------------------------------------------------------


@pytest.mark.parametrize("media_type", ALL_TYPES)
def test_token_registry_digests(
    token_registry: tuple[RegistryServer, dict[str, PushedManifest]], media_type: str
) -> None:
    registry, pushed = token_registry
    with client_for(registry, username="reader", password=READER_PW) as client:
        info = client.head_manifest("org/app", TAG_OF[media_type])
    assert info.digest == pushed[media_type].digest
    assert info.platforms == PLATFORMS_OF[media_type]


def test_token_fetched_with_basic_and_cached(
    token_registry: tuple[RegistryServer, dict[str, PushedManifest]], token_server: TokenServer
) -> None:
    registry, pushed = token_registry
    token_server.clear_journal()
    transport = CountingTransport()
    clock = FakeClock()
    with client_for(
        registry, username="reader", password=READER_PW, transport=transport, clock=clock.now
    ) as client:
        ping = client.ping()
        assert (ping.auth_scheme, ping.realm, ping.service) == (
            "bearer",
            token_server.realm,
            SERVICE,
        )
        check = client.check_credentials("org/app")
        assert (check.auth_scheme, check.authenticated) == ("bearer", True)
        first = client.head_manifest("org/app", "oci")
        second = client.head_manifest("org/app", "docker")
        assert first.digest == pushed[OCI_MANIFEST].digest
        assert second.digest == pushed[DOCKER_MANIFEST].digest
        assert len(token_server.journal) == 1
        (entry,) = token_server.journal
        assert (entry.basic_auth, entry.username, entry.scopes, entry.service) == (
            True,
            "reader",
            ("repository:org/app:pull",),
            SERVICE,
        )
        # Cold: ping, token, HEAD (3 round trips); warm: one HEAD each.
        assert transport.sent == [
            ("GET", "/v2/"),
            ("GET", "/token"),
            ("HEAD", "/v2/org/app/manifests/oci"),
            ("HEAD", "/v2/org/app/manifests/docker"),
        ]
        clock.advance(seconds=296)  # token lifetime 300 s, 5 s safety margin
        client.head_manifest("org/app", "oci")
        assert len(token_server.journal) == 2
        assert transport.sent[-2:] == [("GET", "/token"), ("HEAD", "/v2/org/app/manifests/oci")]


def test_token_head_without_ping_takes_the_challenge(
    token_registry: tuple[RegistryServer, dict[str, PushedManifest]],
) -> None:
    registry, _ = token_registry
    transport = CountingTransport()
    with client_for(registry, username="reader", password=READER_PW, transport=transport) as client:
        client.head_manifest("org/app", "oci")
    assert [path for _, path in transport.sent] == [
        "/v2/org/app/manifests/oci",
        "/token",
        "/v2/org/app/manifests/oci",
    ]


def test_token_endpoint_rejects_wrong_password(
    token_registry: tuple[RegistryServer, dict[str, PushedManifest]], token_server: TokenServer
) -> None:
    registry, _ = token_registry
    with client_for(registry, username="reader", password="not-the-password") as client:
        checked = reason_of(lambda: client.check_credentials("org/app"))
        headed = reason_of(lambda: client.head_manifest("org/app", "oci"))
    assert checked.reason is RegistryFailure.CREDENTIALS_REJECTED
    assert headed.reason is RegistryFailure.CREDENTIALS_REJECTED
    assert "token service" in checked.message
    assert "not-the-password" not in f"{checked} {headed}"
    assert token_server.journal[-1].status == 401


def test_user_without_grant_is_denied(
    token_registry: tuple[RegistryServer, dict[str, PushedManifest]],
) -> None:
    registry, _ = token_registry
    with client_for(registry, username="nogrant", password="nogrant-pw") as client:
        check = client.check_credentials("org/app")  # valid credentials, token grants nothing
        assert check.authenticated
        denied = reason_of(lambda: client.head_manifest("org/app", "oci"))
    assert denied.reason is RegistryFailure.ACCESS_DENIED
    assert denied.status == 401 and "nogrant" in denied.message


def test_anonymous_token_for_public_repository(
    token_registry: tuple[RegistryServer, dict[str, PushedManifest]], token_server: TokenServer
) -> None:
    registry, pushed = token_registry
    with client_for(registry) as client:
        check = client.check_credentials("public/tool")
        assert (check.auth_scheme, check.authenticated) == ("bearer", False)
        assert token_server.journal[-1].basic_auth is False
        info = client.head_manifest("public/tool", "1.0")
        assert info.digest == pushed["public"].digest
        private = reason_of(lambda: client.head_manifest("org/app", "oci"))
    assert private.reason is RegistryFailure.AUTHENTICATION_REQUIRED


def test_token_registry_missing_repository_and_tag(
    token_registry: tuple[RegistryServer, dict[str, PushedManifest]],
) -> None:
    registry, _ = token_registry
    with client_for(registry, username="reader", password=READER_PW) as client:
        repo = reason_of(lambda: client.head_manifest("org/ghost", "latest"))
        tag = reason_of(lambda: client.head_manifest("org/app", "nope"))
        tags = client.list_tags("org/app")
    assert repo.reason is RegistryFailure.REPOSITORY_MISSING
    assert tag.reason is RegistryFailure.TAG_MISSING
    assert set(tags.tags) == {"oci", "docker", "oci-index", "docker-list"}


# --- network and TLS failures ----------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_connection_refused() -> None:
    with RegistryClient(host=f"127.0.0.1:{_closed_port()}", scheme="http") as client:
        error = reason_of(client.ping)
    assert error.reason is RegistryFailure.CONNECTION_REFUSED


def test_unknown_host_fails_without_network_traffic() -> None:
    def no_traffic(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"nothing may be sent, got {request.url}")

    with RegistryClient(
        host="registry.vectis.invalid", transport=httpx.MockTransport(no_traffic)
    ) as client:
        error = reason_of(client.ping)
    assert error.reason is RegistryFailure.UNKNOWN_HOST
    assert "registry.vectis.invalid" in error.message


def test_dns_failure_is_unknown_host() -> None:
    def dns_fails(request: httpx.Request) -> httpx.Response:
        try:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        except socket.gaierror as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc

    with RegistryClient(host="nxdomain.example", transport=httpx.MockTransport(dns_fails)) as c:
        error = reason_of(c.ping)
    assert error.reason is RegistryFailure.UNKNOWN_HOST


def test_silent_server_times_out() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # connections complete in the backlog, nothing ever answers
        host = f"127.0.0.1:{listener.getsockname()[1]}"
        with RegistryClient(host=host, scheme="http", timeout=0.3) as client:
            error = reason_of(client.ping)
    assert error.reason is RegistryFailure.TIMEOUT


class _NotARegistry(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = b"<html><body>Welcome to nginx!</body></html>"
        status = 200 if self.path == "/" else 404
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_plain_web_server_is_not_a_registry() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotARegistry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with RegistryClient(host=f"127.0.0.1:{server.server_address[1]}", scheme="http") as c:
            error = reason_of(c.ping)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert error.reason is RegistryFailure.NOT_A_REGISTRY and error.status == 404


def test_tls_unknown_ca_then_trusted_with_the_bundle() -> None:
    with RegistryServer(tls=True) as registry:
        pushed = push_image(registry.url, "tls/app", "1", verify=registry.ssl_context())
        with client_for(registry) as client:
            error = reason_of(client.ping)
        assert error.reason is RegistryFailure.TLS_UNKNOWN_CA
        assert "CA bundle" in error.message
        with client_for(registry, verify=registry.ssl_context()) as client:
            assert client.ping().status == 200
            assert client.head_manifest("tls/app", "1").digest == pushed.digest


def test_tls_hostname_mismatch() -> None:
    other_name = make_tls_material(("registry.invalid",))
    with (
        RegistryServer(tls=other_name) as registry,
        client_for(registry, verify=registry.ssl_context()) as client,
    ):
        error = reason_of(client.ping)
    assert error.reason is RegistryFailure.TLS_HOSTNAME_MISMATCH


def test_https_to_a_plain_http_registry_is_a_tls_error(anonymous: RegistryServer) -> None:
    with RegistryClient(host=anonymous.host, scheme="https") as client:
        error = reason_of(client.ping)
    assert error.reason is RegistryFailure.TLS_ERROR


# --- protocol corners (MockTransport) --------------------------------------------------------

REGISTRY = "registry.example.com"


def mock_client(
    handler: Callable[[httpx.Request], httpx.Response], **kwargs: object
) -> RegistryClient:
    return RegistryClient(
        host=REGISTRY,
        transport=httpx.MockTransport(handler),
        **kwargs,  # type: ignore[arg-type]
    )


def test_redirect_to_another_host_never_carries_authorization() -> None:
    seen: list[tuple[str, str | None]] = []
    digest = "sha256:" + "a" * 64

    def handler(request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization")
        seen.append((f"{request.url.host}{request.url.path}", auth))
        if request.url.host == "cdn.example.net":
            return httpx.Response(
                200,
                headers={"Docker-Content-Digest": digest, "Content-Type": OCI_MANIFEST},
            )
        if auth is None:
            return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})
        if request.url.path.endswith("/manifests/1"):
            return httpx.Response(307, headers={"Location": "/v2/a/b/manifests/moved"})
        return httpx.Response(302, headers={"Location": "https://cdn.example.net/m/abc"})

    with mock_client(handler, username="u", password="redirect-pw") as client:
        info = client.head_manifest("a/b", "1")
    assert info.digest == digest
    assert [(where, auth is not None) for where, auth in seen] == [
        ("registry.example.com/v2/a/b/manifests/1", False),
        ("registry.example.com/v2/a/b/manifests/1", True),
        ("registry.example.com/v2/a/b/manifests/moved", True),  # same origin keeps it
        ("cdn.example.net/m/abc", False),
    ]


def test_too_many_redirects() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "/v2/"})

    with mock_client(handler) as client:
        assert reason_of(client.ping).reason is RegistryFailure.BAD_RESPONSE


HUB_LIMIT = {
    "ratelimit-limit": "100;w=21600",
    "ratelimit-remaining": "0;w=21600",
    "docker-ratelimit-source": "192.0.2.7",
}


def test_rate_limited_keeps_retry_after_and_limits() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "HEAD":
            return httpx.Response(429, headers={**HUB_LIMIT, "Retry-After": "3600"})
        raise AssertionError("a 429 must not trigger a GET")

    with mock_client(handler) as client:
        error = reason_of(lambda: client.head_manifest("library/nginx", "latest"))
    assert error.reason is RegistryFailure.RATE_LIMITED and error.status == 429
    assert error.retry_after == 3600.0
    assert error.rate_limit == RateLimit(
        limit=100, remaining=0, window_seconds=21600, source="192.0.2.7"
    )


def test_rate_limit_message_and_http_date_retry_after() -> None:
    clock = FakeClock()
    later = clock.now() + timedelta(minutes=10)

    def handler(request: httpx.Request) -> httpx.Response:
        body = {
            "errors": [
                {
                    "code": "TOOMANYREQUESTS",
                    "message": "You have reached your pull rate limit. " + "x" * 600,
                }
            ]
        }
        return httpx.Response(
            429,
            json=body,
            headers={"Retry-After": later.strftime("%a, %d %b %Y %H:%M:%S GMT")},
        )

    with mock_client(handler, clock=clock.now) as client:
        error = reason_of(lambda: client.list_tags("library/nginx"))
    assert error.retry_after == 600.0
    assert error.error_codes == ("TOOMANYREQUESTS",)
    assert "pull rate limit" in error.message and len(error.message) < 400


def test_head_reads_rate_limit_headers() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["accept"] == ACCEPT_MANIFESTS
        return httpx.Response(
            200,
            headers={
                **HUB_LIMIT,
                "ratelimit-remaining": "76;w=21600",
                "Docker-Content-Digest": "sha256:" + "b" * 64,
                "Content-Type": DOCKER_MANIFEST,
                "Content-Length": "525",
            },
        )

    with mock_client(handler) as client:
        info = client.head_manifest("library/nginx", "latest")
    assert info.rate_limit is not None and info.rate_limit.remaining == 76
    assert (info.size, info.platforms) == (525, None)


def test_403_denied() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            403, json={"errors": [{"code": "DENIED", "message": "requested access is denied"}]}
        )

    with mock_client(handler, username="robot$ci", password="robot-pw") as client:
        headed = reason_of(lambda: client.head_manifest("proj/app", "1"))
        listed = reason_of(lambda: client.list_tags("proj/app"))
    assert headed.reason is listed.reason is RegistryFailure.ACCESS_DENIED
    assert "robot$ci" in headed.message
    assert listed.error_codes == ("DENIED",)  # a HEAD has no body to carry the code


def test_oversized_index_body_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Type": OCI_INDEX, "Docker-Content-Digest": "sha256:" + "c" * 64}
        if request.method == "HEAD":
            return httpx.Response(200, headers=headers)
        return httpx.Response(200, headers=headers, content=b"{" + b" " * 5000 + b"}")

    with mock_client(handler, max_response_bytes=1024) as client:
        error = reason_of(lambda: client.head_manifest("a/b", "1"))
    assert error.reason is RegistryFailure.RESPONSE_TOO_LARGE


def test_tags_follow_relative_link_pages() -> None:
    pages = {
        None: (["a", "b"], '</v2/x/y/tags/list?n=2&last=b>; rel="next"'),
        "b": (["c", "d"], '</v2/x/y/tags/list?n=2&last=d>; rel="next"'),
        "d": (["e"], None),
    }
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        tags, link = pages[request.url.params.get("last")]
        headers = {"Link": link} if link else {}
        return httpx.Response(200, json={"name": "x/y", "tags": tags}, headers=headers)

    with mock_client(handler) as client:
        full = client.list_tags("x/y", page_size=2)
        cut = client.list_tags("x/y", page_size=2, max_pages=2)
    assert (full.tags, full.complete, full.pages) == (("a", "b", "c", "d", "e"), True, 3)
    assert (cut.tags, cut.complete, cut.pages) == (("a", "b", "c", "d"), False, 2)
    assert requested[0] == f"https://{REGISTRY}/v2/x/y/tags/list?n=2"


def test_tags_link_to_another_host_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={"name": "x/y", "tags": ["a"]},
            headers={"Link": '<https://evil.example/v2/x/y/tags/list?last=a>; rel="next"'},
        )

    with mock_client(handler, username="u", password="pw") as client:
        error = reason_of(lambda: client.list_tags("x/y"))
    assert error.reason is RegistryFailure.BAD_RESPONSE


def test_upstream_text_is_cut_and_scrubbed() -> None:
    password = "echoed-Secret-42"

    def handler(request: httpx.Request) -> httpx.Response:
        if "authorization" not in request.headers:
            return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})
        echo = f"boom: {request.headers['authorization']} {password} "
        return httpx.Response(500, text=echo + "y" * 1000)

    with mock_client(handler, username="u", password=password) as client:
        error = reason_of(lambda: client.list_tags("a/b"))
    assert error.reason is RegistryFailure.SERVER_ERROR
    assert password not in error.message and "boom: Basic *** ***" in error.message
    assert len(error.message) < 400


def test_unreadable_challenge_is_a_bad_response() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, headers={"WWW-Authenticate": 'Bearer realm="unclosed'})

    with mock_client(handler) as client:
        assert reason_of(client.ping).reason is RegistryFailure.BAD_RESPONSE


def test_token_response_without_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example.com":
            return httpx.Response(200, content=json.dumps({"expires_in": 60}).encode())
        return httpx.Response(
            401,
            headers={"WWW-Authenticate": 'Bearer realm="https://auth.example.com/token"'},
        )

    with mock_client(handler) as client:
        error = reason_of(lambda: client.head_manifest("a/b", "1"))
    assert error.reason is RegistryFailure.BAD_RESPONSE and "token" in error.message


def test_docker_io_maps_to_its_api_host_and_repr_hides_password() -> None:
    with RegistryClient(host="docker.io", username="me", password="dckr_pat_" + "x" * 8) as c:
        assert c.host == "registry-1.docker.io"
        assert "dckr_pat" not in repr(c) and "dckr_pat" not in repr(vars(c))


def test_acr_refresh_token_is_exchanged_by_oauth2_post() -> None:
    """Azure AD login: user 00000000-…, password = a refresh token, POSTed to the realm."""
    from vectis_admin.adapters.registry.client import ACR_REFRESH_TOKEN_USER

    with (
        TokenServer(
            service=SERVICE,
            users={"pusher": "pusher-pw", "aad-user": "unused-pw"},
            acl={"pusher": {"*": ["pull", "push"]}, "aad-user": {"team/*": ["pull"]}},
        ) as tokens,
        RegistryServer(token_server=tokens) as registry,
    ):
        with httpx.Client(auth=ChallengeAuth("pusher", "pusher-pw"), trust_env=False) as http:
            pushed = push_image(registry.url, "team/app", "1", client=http)
        refresh = tokens.issue_refresh_token("aad-user")
        with RegistryClient(
            host=registry.host, scheme="http", username=ACR_REFRESH_TOKEN_USER, password=refresh
        ) as client:
            client.ping()
            assert client.check_credentials("team/app").authenticated
            assert client.head_manifest("team/app", "1").digest == pushed.digest
        posts = [r for r in tokens.journal if r.method == "POST"]
        assert posts and posts[-1].grant_type == "refresh_token" and posts[-1].status == 200
        tokens.revoke_refresh_tokens()
        with RegistryClient(
            host=registry.host, scheme="http", username=ACR_REFRESH_TOKEN_USER, password=refresh
        ) as client:
            client.ping()
            error = reason_of(lambda: client.check_credentials("team/app"))
        assert error.reason is RegistryFailure.CREDENTIALS_REJECTED
        assert refresh not in error.message
