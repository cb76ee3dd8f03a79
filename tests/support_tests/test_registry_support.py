"""The registry test infrastructure works against the real ``docker-registry`` binary.

Raw httpx only: these tests prove the fixtures, not the product.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator

import httpx
import jwt
import pytest

from tests.support.aws import MotoServer, ecr_backed_registry, ecr_login
from tests.support.images import (
    ACCEPT_ALL_MANIFESTS,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
    BearerToken,
    ChallengeAuth,
    Platform,
    PushedManifest,
    parse_challenge,
    push_image,
    push_index,
)
from tests.support.registry_server import RegistryServer, make_tls_material
from tests.support.token_server import TokenServer, parse_scope

SERVICE = "test-registry"


def _client(registry: RegistryServer) -> httpx.Client:
    return registry.client()


def _token(ts: TokenServer, scope: str, auth: tuple[str, str] | None = None) -> str:
    response = httpx.get(
        ts.realm, params={"service": ts.service, "scope": scope}, auth=auth, trust_env=False
    )
    assert response.status_code == 200, response.text
    body = response.json()
    token = body.get("access_token") or body["token"]
    assert isinstance(token, str)
    return token


# ---------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def token_server() -> Iterator[TokenServer]:
    with TokenServer(
        service=SERVICE,
        users={"pusher": "push-pw", "reader": "read-pw", "nogrant": "none-pw"},
        acl={"pusher": {"*": ["pull", "push"]}, "reader": {"org/*": ["pull"]}},
        anonymous={"public/*": ["pull"]},
    ) as ts:
        yield ts


@pytest.fixture(scope="module")
def token_registry(token_server: TokenServer) -> Iterator[RegistryServer]:
    with RegistryServer(token_server=token_server) as registry:
        yield registry


@pytest.fixture(scope="module")
def pushed(token_registry: RegistryServer) -> dict[str, PushedManifest]:
    """One image of each of the four manifest types, pushed with a token (ChallengeAuth)."""
    auth = ChallengeAuth("pusher", "push-pw")
    with httpx.Client(auth=auth, trust_env=False) as client:
        url = token_registry.url
        result = {
            OCI_MANIFEST: push_image(url, "org/app", "oci", fmt="oci", client=client),
            DOCKER_MANIFEST: push_image(url, "org/app", "docker", fmt="docker", client=client),
            OCI_INDEX: push_index(
                url, "org/app", "oci-index", ["linux/amd64", "linux/arm64"], client=client
            ),
            DOCKER_MANIFEST_LIST: push_index(
                url, "org/app", "docker-list", ["linux/arm64/v8"], fmt="docker", client=client
            ),
        }
        result["public"] = push_image(url, "public/tool", "1.0", client=client)
    assert auth.token_requests <= 3  # tokens are cached per repository
    return result


@pytest.fixture(scope="module")
def htpasswd_registry() -> Iterator[RegistryServer]:
    with RegistryServer(users={"alice": "alice-pw"}) as registry:
        yield registry


# ---------------------------------------------------------------------------------- anonymous


def test_anonymous_registry_ping_push_and_restart() -> None:
    with RegistryServer() as registry, _client(registry) as client:
        assert registry.host.startswith("127.0.0.1:")
        ping = client.get("/v2/")
        assert ping.status_code == 200
        assert ping.headers["Docker-Distribution-API-Version"] == "registry/2.0"
        image = push_image(registry.url, "solo/app", "v1")
        port = registry.port
        registry.restart()
        assert registry.port == port
        head = client.head("/v2/solo/app/manifests/v1", headers={"Accept": ACCEPT_ALL_MANIFESTS})
        assert head.status_code == 200
        assert head.headers["Docker-Content-Digest"] == image.digest
        assert (registry.data_dir / "docker").is_dir()
        assert "listening on 127.0.0.1" in registry.log_text()
    assert not registry.running


# ---------------------------------------------------------------------------------- htpasswd


def test_htpasswd_challenge_then_ok(htpasswd_registry: RegistryServer) -> None:
    with _client(htpasswd_registry) as client:
        anonymous = client.get("/v2/")
        assert anonymous.status_code == 401
        assert anonymous.headers["WWW-Authenticate"] == 'Basic realm="basic-realm"'
        assert anonymous.json()["errors"][0]["code"] == "UNAUTHORIZED"
        assert client.get("/v2/", auth=("alice", "wrong")).status_code == 401
        assert client.get("/v2/", auth=("alice", "alice-pw")).status_code == 200


def test_htpasswd_users_are_reloaded_live(htpasswd_registry: RegistryServer) -> None:
    with _client(htpasswd_registry) as client:
        htpasswd_registry.set_user("bob", "bob-pw")
        assert client.get("/v2/", auth=("bob", "bob-pw")).status_code == 200
        htpasswd_registry.set_user("bob", "bob-pw-2")
        assert client.get("/v2/", auth=("bob", "bob-pw")).status_code == 401
        assert client.get("/v2/", auth=("bob", "bob-pw-2")).status_code == 200
        htpasswd_registry.remove_user("bob")
        assert client.get("/v2/", auth=("bob", "bob-pw-2")).status_code == 401
        assert client.get("/v2/", auth=("alice", "alice-pw")).status_code == 200


def test_htpasswd_push_with_basic_auth(htpasswd_registry: RegistryServer) -> None:
    image = push_image(
        htpasswd_registry.url,
        "team/svc",
        "1",
        fmt="docker",
        auth=httpx.BasicAuth("alice", "alice-pw"),
    )
    with _client(htpasswd_registry) as client:
        head = client.head(
            "/v2/team/svc/manifests/1",
            headers={"Accept": ACCEPT_ALL_MANIFESTS},
            auth=("alice", "alice-pw"),
        )
    assert head.status_code == 200
    assert head.headers["Docker-Content-Digest"] == image.digest
    assert head.headers["Content-Type"] == DOCKER_MANIFEST


# ---------------------------------------------------------------------------------- token


def test_token_challenge_on_ping(token_registry: RegistryServer, token_server: TokenServer) -> None:
    with _client(token_registry) as client:
        ping = client.get("/v2/")
    assert ping.status_code == 401
    assert ping.headers["WWW-Authenticate"] == (
        f'Bearer realm="{token_server.realm}",service="{SERVICE}"'
    )
    scheme, params = parse_challenge(ping.headers["WWW-Authenticate"])
    assert scheme == "bearer"
    assert params == {"realm": token_server.realm, "service": SERVICE}


@pytest.mark.parametrize(
    "media_type", [OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_MANIFEST_LIST]
)
def test_token_head_manifest_digest(
    token_registry: RegistryServer,
    token_server: TokenServer,
    pushed: dict[str, PushedManifest],
    media_type: str,
) -> None:
    image = pushed[media_type]
    token = _token(token_server, "repository:org/app:pull", auth=("reader", "read-pw"))
    with _client(token_registry) as client:
        head = client.head(
            f"/v2/org/app/manifests/{image.reference}",
            headers={"Accept": ACCEPT_ALL_MANIFESTS, "Authorization": f"Bearer {token}"},
        )
        assert head.status_code == 200
        assert head.headers["Docker-Content-Digest"] == image.digest
        assert head.headers["Content-Type"] == media_type
        assert int(head.headers["Content-Length"]) == image.size
        for child in image.children:  # children are reachable by digest
            by_digest = client.head(
                f"/v2/org/app/manifests/{child.digest}",
                headers={"Accept": ACCEPT_ALL_MANIFESTS, "Authorization": f"Bearer {token}"},
            )
            assert by_digest.status_code == 200


def test_index_platforms(pushed: dict[str, PushedManifest]) -> None:
    only_arm = pushed[DOCKER_MANIFEST_LIST]
    assert [c.platform for c in only_arm.children] == [Platform("linux", "arm64", "v8")]
    both = pushed[OCI_INDEX]
    assert both.child("linux/amd64").digest != both.child("linux/arm64").digest
    assert both.child("linux/arm64").media_type == OCI_MANIFEST


def test_token_missing_tag_and_repository(
    token_registry: RegistryServer, token_server: TokenServer, pushed: dict[str, PushedManifest]
) -> None:
    token = _token(token_server, "repository:org/app:pull", auth=("reader", "read-pw"))
    headers = {"Accept": ACCEPT_ALL_MANIFESTS, "Authorization": f"Bearer {token}"}
    with _client(token_registry) as client:
        head = client.head("/v2/org/app/manifests/nope", headers=headers)
        assert head.status_code == 404
        assert head.content == b""
        get = client.get("/v2/org/app/manifests/nope", headers=headers)
        assert get.status_code == 404
        assert get.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
        token2 = _token(token_server, "repository:org/ghost:pull", auth=("reader", "read-pw"))
        missing_repo = client.get(
            "/v2/org/ghost/manifests/latest",
            headers={"Accept": ACCEPT_ALL_MANIFESTS, "Authorization": f"Bearer {token2}"},
        )
        assert missing_repo.status_code == 404
        assert missing_repo.json()["errors"][0]["code"] in {"MANIFEST_UNKNOWN", "NAME_UNKNOWN"}


def test_token_without_grant_is_insufficient_scope(
    token_registry: RegistryServer, token_server: TokenServer, pushed: dict[str, PushedManifest]
) -> None:
    response = httpx.get(
        token_server.realm,
        params={"service": SERVICE, "scope": "repository:org/app:pull"},
        auth=("nogrant", "none-pw"),
        trust_env=False,
    )
    assert response.status_code == 200  # valid credentials, nothing granted
    token = response.json()["token"]
    with _client(token_registry) as client:
        head = client.head(
            "/v2/org/app/manifests/oci",
            headers={"Accept": ACCEPT_ALL_MANIFESTS, "Authorization": f"Bearer {token}"},
        )
    assert head.status_code == 401
    assert head.headers["WWW-Authenticate"] == (
        f'Bearer realm="{token_server.realm}",service="{SERVICE}",'
        'scope="repository:org/app:pull",error="insufficient_scope"'
    )
    assert token_server.journal[-1].granted == ()


def test_token_wrong_password_is_401_and_journal_has_no_password(
    token_server: TokenServer,
) -> None:
    token_server.clear_journal()
    response = httpx.get(
        token_server.realm,
        params=[("service", SERVICE), ("scope", "repository:org/app:pull"), ("scope", "x:y:z")],
        auth=("reader", "bad-password"),
        trust_env=False,
    )
    assert response.status_code == 401
    (entry,) = token_server.journal
    assert entry.basic_auth and entry.username == "reader" and entry.status == 401
    assert entry.scopes == ("repository:org/app:pull", "x:y:z")
    assert "bad-password" not in repr(token_server.journal)


def test_anonymous_token_for_public_repository(
    token_registry: RegistryServer, token_server: TokenServer, pushed: dict[str, PushedManifest]
) -> None:
    token = _token(token_server, "repository:public/tool:pull")
    assert token_server.journal[-1].basic_auth is False
    with _client(token_registry) as client:
        head = client.head(
            "/v2/public/tool/manifests/1.0",
            headers={"Accept": ACCEPT_ALL_MANIFESTS, "Authorization": f"Bearer {token}"},
        )
    assert head.status_code == 200
    assert head.headers["Docker-Content-Digest"] == pushed["public"].digest


def test_rejected_tokens_are_invalid_token_with_reason_in_log(
    token_registry: RegistryServer, token_server: TokenServer
) -> None:
    with TokenServer(service=SERVICE) as other:
        foreign = other.mint({"org/app": ["pull"]})
    expired = token_server.mint({"org/app": ["pull"]}, lifetime=-120)  # beyond 60 s leeway
    wrong_audience = token_server.mint({"org/app": ["pull"]}, audience="elsewhere")
    with _client(token_registry) as client:
        for token in (foreign, expired, wrong_audience):
            head = client.head("/v2/org/app/manifests/oci", auth=BearerToken(token))
            assert head.status_code == 401
            assert head.headers["WWW-Authenticate"].endswith(',error="invalid_token"')
    log = token_registry.log_text()
    # An untrusted signing key leaves no reason in the log (distribution 2.8.2); these do:
    assert "token not to be used after" in log
    assert 'token intended for another audience: \\"elsewhere\\"' in log


def test_token_variants_kid_header_and_oauth2_post() -> None:
    with (
        TokenServer(
            service=SERVICE,
            key_id_style="kid",
            token_field="access_token",
            expires_in=None,
            users={"u": "p"},
            acl={"u": {"a/b": ["pull"]}},
            path="/oauth2/token",
        ) as ts,
        RegistryServer(token_server=ts) as registry,
        _client(registry) as client,
    ):
        get = httpx.get(ts.realm, params={"scope": "repository:a/b:pull"}, auth=("u", "p"))
        body = get.json()
        assert set(body) == {"access_token", "issued_at"}
        header = jwt.get_unverified_header(body["access_token"])
        assert header["alg"] == "RS256" and "x5c" not in header
        assert header["kid"] == ts.key_id
        assert re.fullmatch(r"([A-Z2-7]{4}:){11}[A-Z2-7]{4}", ts.key_id)
        ping = client.get("/v2/", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert ping.status_code == 200
        # OAuth2 POST (ACR style): password grant → refresh token → refresh grant.
        form = {
            "grant_type": "password",
            "service": SERVICE,
            "client_id": "vectis",
            "username": "u",
            "password": "p",
            "scope": "repository:a/b:pull",
        }
        first = httpx.post(ts.realm, data=form)
        assert first.status_code == 200
        refresh = first.json()["refresh_token"]
        second = httpx.post(
            ts.realm,
            data={
                "grant_type": "refresh_token",
                "service": SERVICE,
                "client_id": "vectis",
                "refresh_token": refresh,
                "scope": "repository:a/b:pull",
            },
        )
        assert second.status_code == 200
        assert second.json()["scope"] == "repository:a/b:pull"
        head = client.head(
            "/v2/a/b/manifests/x",
            headers={"Authorization": f"Bearer {second.json()['access_token']}"},
        )
        assert head.status_code == 404  # authorised, just not there
        assert httpx.post(ts.realm, data={**form, "password": "bad"}).status_code == 401
        assert httpx.post(ts.realm, data={**form, "client_id": ""}).status_code == 400
        assert [e.grant_type for e in ts.journal[-4:]] == [
            "password",
            "refresh_token",
            "password",
            "password",
        ]


def test_parse_scope() -> None:
    assert parse_scope("repository:org/app:pull,push") == (
        "repository",
        "org/app",
        ("pull", "push"),
    )
    assert parse_scope("repository(plugin):h:5000/a:pull") == ("repository", "h:5000/a", ("pull",))
    assert parse_scope("registry:catalog:*") == ("registry", "catalog", ("*",))
    assert parse_scope("garbage") is None


# ---------------------------------------------------------------------------------- TLS


def test_tls_trusted_ca_unknown_ca_and_hostname_mismatch() -> None:
    with RegistryServer(tls=True) as registry:
        assert registry.url.startswith("https://127.0.0.1:")
        assert registry.ca_pem.startswith(b"-----BEGIN CERTIFICATE-----")
        with httpx.Client(verify=registry.ssl_context(), trust_env=False) as client:
            assert client.get(f"{registry.url}/v2/").status_code == 200
        image = push_image(registry.url, "tls/app", "1", verify=registry.ssl_context())
        assert image.digest.startswith("sha256:")
        with (
            httpx.Client(trust_env=False) as client,
            pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
        ):
            client.get(f"{registry.url}/v2/")
    other_name = make_tls_material(("registry.invalid",))
    with (
        RegistryServer(tls=other_name) as registry,
        httpx.Client(verify=registry.ssl_context(), trust_env=False) as client,
        pytest.raises(httpx.ConnectError, match="mismatch"),
    ):
        client.get(f"{registry.url}/v2/")
    assert isinstance(other_name.ssl_context(), ssl.SSLContext)
    expired = make_tls_material(expired=True)
    with (
        RegistryServer(tls=expired) as registry,
        httpx.Client(verify=registry.ssl_context(), trust_env=False) as client,
        pytest.raises(httpx.ConnectError, match="certificate has expired"),
    ):
        client.get(f"{registry.url}/v2/")


# ---------------------------------------------------------------------------------- ECR


def test_moto_ecr_token_opens_htpasswd_registry() -> None:
    with MotoServer() as moto:
        ecr = moto.client("ecr")
        ecr.create_repository(repositoryName="vectis/app")
        creds = ecr_login(moto.endpoint_url)
    assert creds.username == "AWS"
    assert creds.registry_host == "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    assert creds.expires_at.year == 2015 and creds.expires_at.tzinfo is not None
    with ecr_backed_registry(creds) as registry, _client(registry) as client:
        challenge = client.get("/v2/")
        assert challenge.status_code == 401
        assert challenge.headers["WWW-Authenticate"] == (f'Basic realm="{creds.proxy_endpoint}/"')
        assert client.get("/v2/", auth=(creds.username, creds.password)).status_code == 200
        image = push_image(
            registry.url, "vectis/app", "1.0", auth=httpx.BasicAuth(creds.username, creds.password)
        )
        head = client.head(
            "/v2/vectis/app/manifests/1.0",
            headers={"Accept": ACCEPT_ALL_MANIFESTS},
            auth=(creds.username, creds.password),
        )
        assert head.headers["Docker-Content-Digest"] == image.digest
