"""The registry protocol is read as docker reads it (REGISTRY-REFERENCE A2-A8, B1-B5)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from vectis_admin.domain.challenges import (
    ACCEPT_MANIFESTS,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
    Challenge,
    ChallengeParseError,
    IssuedToken,
    MalformedResponse,
    RateLimit,
    choose_challenge,
    media_type_of,
    next_link,
    parse_error_body,
    parse_token_response,
    parse_www_authenticate,
    platforms_of,
    pull_scope,
    rate_limit_of,
    registry_api_host,
    token_request_params,
)
from vectis_admin.errors import UpstreamError

RECEIVED = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)


def as_tuples(challenges: list[Challenge]) -> list[tuple[str, dict[str, str]]]:
    return [(c.scheme, dict(c.params)) for c in challenges]


# --- WWW-Authenticate ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
            'scope="repository:samalba/my-app:pull,push"',
            [
                (
                    "bearer",
                    {
                        "realm": "https://auth.docker.io/token",
                        "service": "registry.docker.io",
                        "scope": "repository:samalba/my-app:pull,push",
                    },
                )
            ],
            id="docker-hub-comma-in-scope",
        ),
        pytest.param(
            'Bearer realm="https://ghcr.io/token",service="ghcr.io",'
            'scope="repository:user/image:pull"',
            [
                (
                    "bearer",
                    {
                        "realm": "https://ghcr.io/token",
                        "service": "ghcr.io",
                        "scope": "repository:user/image:pull",
                    },
                )
            ],
            id="ghcr-placeholder-scope",
        ),
        pytest.param(
            'Basic realm="https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/",'
            'service="ecr.amazonaws.com"',
            [
                (
                    "basic",
                    {
                        "realm": "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/",
                        "service": "ecr.amazonaws.com",
                    },
                )
            ],
            id="ecr-basic",
        ),
        pytest.param(
            'Bearer realm="https://myreg.azurecr.io/oauth2/token",service="myreg.azurecr.io"',
            [
                (
                    "bearer",
                    {
                        "realm": "https://myreg.azurecr.io/oauth2/token",
                        "service": "myreg.azurecr.io",
                    },
                )
            ],
            id="acr",
        ),
        pytest.param(
            'Bearer realm="https://harbor.example.com/service/token",service="harbor-registry"',
            [
                (
                    "bearer",
                    {
                        "realm": "https://harbor.example.com/service/token",
                        "service": "harbor-registry",
                    },
                )
            ],
            id="harbor",
        ),
        pytest.param(
            'Bearer realm="http://127.0.0.1:5001/token",service="test-registry",'
            'scope="repository:org/app:pull",error="insufficient_scope"',
            [
                (
                    "bearer",
                    {
                        "realm": "http://127.0.0.1:5001/token",
                        "service": "test-registry",
                        "scope": "repository:org/app:pull",
                        "error": "insufficient_scope",
                    },
                )
            ],
            id="insufficient-scope",
        ),
        pytest.param(
            'Basic realm="basic-realm", Bearer realm="https://a.example/token",service="s"',
            [
                ("basic", {"realm": "basic-realm"}),
                ("bearer", {"realm": "https://a.example/token", "service": "s"}),
            ],
            id="two-challenges",
        ),
        pytest.param(
            'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
            [
                ("newauth", {"realm": "apps", "type": "1", "title": 'Login to "apps"'}),
                ("basic", {"realm": "simple"}),
            ],
            id="rfc7235-example",
        ),
        pytest.param(
            'BEARER Realm="https://X.example/Token",SERVICE="Reg"',
            [("bearer", {"realm": "https://X.example/Token", "service": "Reg"})],
            id="case-insensitive-names-values-kept",
        ),
        pytest.param(
            'Basic realm="back\\\\slash \\q"',
            [("basic", {"realm": "back\\slash q"})],
            id="backslash-escapes",
        ),
        pytest.param(
            'Bearer realm = "x" ,  service = reg',
            [("bearer", {"realm": "x", "service": "reg"})],
            id="whitespace-around-equals",
        ),
        pytest.param(
            ' , Basic realm="a" ,, ,',
            [("basic", {"realm": "a"})],
            id="empty-list-elements",
        ),
        pytest.param(
            "Basic , realm=a",
            [("basic", {"realm": "a"})],
            id="empty-element-before-first-param",
        ),
        pytest.param(
            'Bearer realm="r",scope="repository:a:pull repository:h:5000/b:pull,push"',
            [
                (
                    "bearer",
                    {"realm": "r", "scope": "repository:a:pull repository:h:5000/b:pull,push"},
                )
            ],
            id="several-scopes-and-port-in-name",
        ),
        pytest.param(
            "Bearer realm=https://auth.example/token,service=reg",
            [("bearer", {"realm": "https://auth.example/token", "service": "reg"})],
            id="unquoted-url-values",
        ),
        pytest.param(
            'Basic realm="first", realm="second"',
            [("basic", {"realm": "first"})],
            id="duplicate-param-first-wins",
        ),
        pytest.param('Basic realm=""', [("basic", {"realm": ""})], id="empty-quoted-value"),
        pytest.param("Basic", [("basic", {})], id="scheme-only"),
        pytest.param("Basic, Bearer", [("basic", {}), ("bearer", {})], id="schemes-only"),
        pytest.param("", [], id="empty-header"),
        pytest.param("   ", [], id="blank-header"),
    ],
)
def test_parses_challenges(header: str, expected: list[tuple[str, dict[str, str]]]) -> None:
    assert as_tuples(parse_www_authenticate(header)) == expected


@pytest.mark.parametrize(
    ("header", "token68", "then"),
    [
        ("Negotiate abc==", "abc==", []),
        ("Negotiate a/b+c=, Basic realm=x", "a/b+c=", [("basic", {"realm": "x"})]),
    ],
)
def test_token68(header: str, token68: str, then: list[tuple[str, dict[str, str]]]) -> None:
    first, *rest = parse_www_authenticate(header)
    assert first.scheme == "negotiate" and first.token68 == token68 and dict(first.params) == {}
    assert as_tuples(rest) == then


@pytest.mark.parametrize(
    "header",
    [
        'Basic realm="never closed',
        'Basic realm="ends in backslash\\',
        'Basic realm="line\nbreak"',
        'Basic realm="x" junk',
        'Basic realm="x"junk',
        '"Basic" realm=x',
        "Basic realm=x,=y",
        "Basic/x realm=y",
        "=",
    ],
)
def test_malformed_challenges_raise_our_error_only(header: str) -> None:
    with pytest.raises(ChallengeParseError) as exc:
        parse_www_authenticate(header)
    assert isinstance(exc.value, UpstreamError)


def test_challenge_accessors() -> None:
    (challenge,) = parse_www_authenticate(
        'Bearer realm="r",service="s",scope="repository:a:pull",error="invalid_token"'
    )
    assert (challenge.realm, challenge.service, challenge.scope, challenge.error) == (
        "r",
        "s",
        "repository:a:pull",
        "invalid_token",
    )
    assert Challenge("basic").realm is None


@pytest.mark.parametrize(
    ("header", "scheme"),
    [
        ('Basic realm="a", Bearer realm="b"', "bearer"),
        ('Bearer realm="b", Basic realm="a"', "bearer"),
        ('Basic realm="a"', "basic"),
        ("Negotiate abc=", None),
        ("", None),
    ],
)
def test_choose_challenge_prefers_bearer(header: str, scheme: str | None) -> None:
    chosen = choose_challenge(parse_www_authenticate(header))
    assert (chosen.scheme if chosen else None) == scheme


@pytest.mark.parametrize(
    ("path", "scope"),
    [
        ("library/nginx", "repository:library/nginx:pull"),
        ("org/team/app", "repository:org/team/app:pull"),
    ],
)
def test_pull_scope(path: str, scope: str) -> None:
    assert pull_scope(path) == scope


@pytest.mark.parametrize("path", ["", "a b", "a\n"])
def test_pull_scope_refuses_non_paths(path: str) -> None:
    with pytest.raises(ValueError):
        pull_scope(path)


@pytest.mark.parametrize(
    ("header", "username", "expected"),
    [
        (
            'Bearer realm="r",service="registry.docker.io",scope="repository:x:pull"',
            "alice",
            [
                ("service", "registry.docker.io"),
                ("account", "alice"),
                ("scope", "repository:org/app:pull"),
            ],
        ),
        ('Bearer realm="https://ghcr.io/token"', None, [("scope", "repository:org/app:pull")]),
    ],
)
def test_token_request_params_use_our_scope(
    header: str, username: str | None, expected: list[tuple[str, str]]
) -> None:
    (challenge,) = parse_www_authenticate(header)
    params = token_request_params(challenge, scopes=[pull_scope("org/app")], username=username)
    assert params == expected


# --- token responses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "value", "expires_at"),
    [
        pytest.param(
            {"token": "t-old", "access_token": "t-new", "expires_in": 300},
            "t-new",
            RECEIVED + timedelta(seconds=300),
            id="access-token-preferred",
        ),
        pytest.param({"token": "t"}, "t", RECEIVED + timedelta(seconds=60), id="ghcr-no-expiry"),
        pytest.param(
            {"access_token": "t", "expires_in": 10},
            "t",
            RECEIVED + timedelta(seconds=60),
            id="raised-to-60",
        ),
        pytest.param(
            {"token": "t", "expires_in": 300, "issued_at": "2026-01-15T09:29:00Z"},
            "t",
            RECEIVED + timedelta(seconds=240),
            id="issued-at-starts-lifetime",
        ),
        pytest.param(
            {"token": "t", "expires_in": 300, "issued_at": "2026-01-15T09:29:00.123456789Z"},
            "t",
            datetime(2026, 1, 15, 9, 34, 0, 123456, tzinfo=UTC),
            id="issued-at-nanoseconds",
        ),
        pytest.param(
            {"token": "t", "expires_in": 300, "issued_at": "2026-01-15t10:29:00+01:00"},
            "t",
            RECEIVED + timedelta(seconds=240),
            id="issued-at-offset-lowercase-t",
        ),
        pytest.param(
            {"token": "t", "expires_in": 300, "issued_at": "2026-01-15T09:40:00Z"},
            "t",
            RECEIVED + timedelta(seconds=300),
            id="future-issued-at-ignored",
        ),
        pytest.param(
            {"token": "t", "expires_in": 300, "issued_at": "2026-01-15T09:29:00"},
            "t",
            RECEIVED + timedelta(seconds=300),
            id="issued-at-without-zone-ignored",
        ),
        pytest.param(
            {"token": "t", "expires_in": 300, "issued_at": "yesterday"},
            "t",
            RECEIVED + timedelta(seconds=300),
            id="issued-at-junk-ignored",
        ),
        pytest.param(
            {"token": "t", "expires_in": "120"},
            "t",
            RECEIVED + timedelta(seconds=120),
            id="expires-in-string",
        ),
        pytest.param(
            {"token": "t", "expires_in": True},
            "t",
            RECEIVED + timedelta(seconds=60),
            id="expires-in-bool-ignored",
        ),
        pytest.param(
            {"access_token": "", "token": " t \n"},
            "t",
            RECEIVED + timedelta(seconds=60),
            id="empty-access-token-falls-back-and-strips",
        ),
    ],
)
def test_parses_token_responses(
    payload: dict[str, object], value: str, expires_at: datetime
) -> None:
    token = parse_token_response(json.dumps(payload).encode(), received_at=RECEIVED)
    assert token.value == value
    assert token.expires_at == expires_at


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b"{}", b'{"token": ""}', b'{"token": 42}', b"\xff\xfe"],
)
def test_unusable_token_responses(body: bytes) -> None:
    with pytest.raises(MalformedResponse):
        parse_token_response(body, received_at=RECEIVED)


def test_token_repr_is_masked_and_expiry_has_margin() -> None:
    token = IssuedToken(value="s3cr3t-token-value", expires_at=RECEIVED + timedelta(seconds=60))
    assert "s3cr3t" not in repr(token) and "***" in repr(token)
    assert token.usable_at(RECEIVED)
    assert token.usable_at(RECEIVED + timedelta(seconds=54))
    assert not token.usable_at(RECEIVED + timedelta(seconds=56))


def test_naive_receipt_time_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_token_response(b'{"token": "t"}', received_at=datetime(2026, 1, 1))


# --- Link pagination -------------------------------------------------------------------------

BASE = "https://reg.example.com/v2/a/tags/list?n=2"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(
            '</v2/a/tags/list?n=2&last=b>; rel="next"',
            "https://reg.example.com/v2/a/tags/list?n=2&last=b",
            id="relative",
        ),
        pytest.param(
            '<https://other.example/v2/a/tags/list?last=b>; rel="next"',
            "https://other.example/v2/a/tags/list?last=b",
            id="absolute",
        ),
        pytest.param(
            "</v2/a/tags/list?last=b>; rel=next",
            "https://reg.example.com/v2/a/tags/list?last=b",
            id="unquoted-rel",
        ),
        pytest.param(
            '</p1>; rel="prev", </p3>; rel="next"',
            "https://reg.example.com/p3",
            id="second-link",
        ),
        pytest.param(
            '</x?last=a,b;c>; title="a, b"; REL="last Next"',
            "https://reg.example.com/x?last=a,b;c",
            id="commas-in-url-and-params-multi-rel",
        ),
        pytest.param('</p1>; rel="prev"', None, id="no-next"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="absent"),
        pytest.param("garbage", None, id="garbage"),
        pytest.param('</p1; rel="next"', None, id="unclosed"),
    ],
)
def test_next_link(header: str | None, expected: str | None) -> None:
    assert next_link(header, BASE) == expected


# --- manifests -------------------------------------------------------------------------------


def test_accept_header_lists_all_four_types() -> None:
    assert ACCEPT_MANIFESTS.split(", ") == [
        OCI_INDEX,
        OCI_MANIFEST,
        DOCKER_MANIFEST_LIST,
        DOCKER_MANIFEST,
    ]


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        (OCI_MANIFEST, OCI_MANIFEST),
        ("application/JSON; charset=utf-8", "application/json"),
        ("", None),
        (None, None),
    ],
)
def test_media_type_of(content_type: str | None, expected: str | None) -> None:
    assert media_type_of(content_type) == expected


def _index(*platforms: object, media_type: str = OCI_INDEX) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_type,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": "sha256:x", "size": 1, "platform": p}
                if p is not None
                else {"mediaType": OCI_MANIFEST, "digest": "sha256:y", "size": 1}
                for p in platforms
            ],
        }
    ).encode()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            _index(
                {"os": "linux", "architecture": "amd64"},
                {"os": "linux", "architecture": "arm64", "variant": "v8"},
            ),
            ["linux/amd64", "linux/arm64/v8"],
            id="oci-index",
        ),
        pytest.param(
            _index({"os": "linux", "architecture": "arm64"}, media_type=DOCKER_MANIFEST_LIST),
            ["linux/arm64"],
            id="docker-list-arm64-only",
        ),
        pytest.param(
            _index(
                {"os": "linux", "architecture": "amd64"},
                {"os": "unknown", "architecture": "unknown"},
                None,
                {"os": "linux", "architecture": "amd64"},
                {"os": "linux"},
                {"os": "windows", "architecture": "amd64", "os.version": "10.0"},
            ),
            ["linux/amd64", "windows/amd64"],
            id="attestations-missing-and-duplicates-skipped",
        ),
        pytest.param(b'{"manifests": [1, "x", null]}', [], id="junk-entries"),
        pytest.param(b'{"manifests": []}', [], id="empty"),
    ],
)
def test_platforms_of(body: bytes, expected: list[str]) -> None:
    assert platforms_of(body) == expected


@pytest.mark.parametrize("body", [b"<html>", b"[]", b'{"layers": []}', b'{"manifests": {}}'])
def test_platforms_of_refuses_non_indexes(body: bytes) -> None:
    with pytest.raises(MalformedResponse):
        platforms_of(body)


# --- rate limits, hosts, error bodies --------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param(
            {
                "RateLimit-Limit": "100;w=21600",
                "RateLimit-Remaining": "76;w=21600",
                "docker-ratelimit-source": "192.0.2.1",
            },
            RateLimit(limit=100, remaining=76, window_seconds=21600, source="192.0.2.1"),
            id="docker-hub",
        ),
        pytest.param(
            {"ratelimit-limit": "200"},
            RateLimit(limit=200, remaining=None, window_seconds=None),
            id="limit-only",
        ),
        pytest.param(
            {"ratelimit-limit": "100", "ratelimit-remaining": "0;w=60"},
            RateLimit(limit=100, remaining=0, window_seconds=60),
            id="window-from-remaining",
        ),
        pytest.param({}, None, id="no-headers-no-limit"),
        pytest.param({"ratelimit-limit": "lots"}, None, id="unreadable"),
        pytest.param(
            {"ratelimit-limit": "5;w=x", "ratelimit-remaining": "n/a"},
            RateLimit(limit=5, remaining=None, window_seconds=None),
            id="unreadable-parts",
        ),
    ],
)
def test_rate_limit_of(headers: dict[str, str], expected: RateLimit | None) -> None:
    assert rate_limit_of(headers) == expected


@pytest.mark.parametrize(
    ("domain", "host"),
    [
        ("docker.io", "registry-1.docker.io"),
        ("index.docker.io", "registry-1.docker.io"),
        ("registry-1.docker.io", "registry-1.docker.io"),
        ("Docker.IO", "registry-1.docker.io"),
        ("ghcr.io", "ghcr.io"),
        ("127.0.0.1:5000", "127.0.0.1:5000"),
    ],
)
def test_registry_api_host(domain: str, host: str) -> None:
    assert registry_api_host(domain) == host


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown",'
            b'"detail":{"Tag":"x"}}]}',
            [("MANIFEST_UNKNOWN", "manifest unknown")],
            id="distribution",
        ),
        pytest.param(
            b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"},'
            b'{"code":"denied"}]}',
            [("UNAUTHORIZED", "authentication required"), ("DENIED", "")],
            id="several-codes",
        ),
        pytest.param(b"Not Authorized\n", [], id="ecr-plain-text"),
        pytest.param(b"", [], id="empty-head-body"),
        pytest.param(b"<html>502</html>", [], id="html"),
        pytest.param(b'{"errors": "nope"}', [], id="errors-not-a-list"),
        pytest.param(b'{"errors": [{"message": "no code"}, 3]}', [], id="entries-without-code"),
        pytest.param(b'{"details": "incorrect username or password"}', [], id="token-server"),
        pytest.param(b"\xff\xfe\x00", [], id="binary"),
    ],
)
def test_parse_error_body(body: bytes, expected: list[tuple[str, str]]) -> None:
    assert parse_error_body(body) == expected
