"""The registry catalogue: URL normalisation, kind detection and the per-kind rules."""

from __future__ import annotations

import base64
import json
import textwrap
from collections.abc import Mapping
from typing import Any

import pytest

from vectis_admin.domain.registries import (
    GCR_USERNAMES,
    KIND_INFO,
    RegistryCheckResult,
    RegistryKind,
    detect_kind,
    ecr_host_parts,
    kind_info,
    normalize_registry_url,
    validate_registry,
)
from vectis_admin.errors import InvalidInput

K = RegistryKind
ECR_URL = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
# Secret-looking values are assembled at run time so that no token or key sits in the repository.
GHP = "ghp_" + "x" * 36
DCKR = "dckr_pat_" + "y" * 27
AWS_KEY_ID = "AKIA" + "Q" * 16
AWS_SECRET = "s3cr3t/" + "z" * 33
SP_ID = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
PRIVATE_KEY = (
    "-----BEGIN " + "PRIVATE" + " KEY-----\nMIIEv" + "k" * 40 + "\n-----END " + "PRIVATE KEY-----\n"
)


def sa_key(**overrides: Any) -> dict[str, Any]:
    key: dict[str, Any] = {
        "type": "service_account",
        "project_id": "demo",
        "private_key_id": "k" * 40,
        "private_key": PRIVATE_KEY,
        "client_email": "puller@demo.iam.gserviceaccount.com",
    }
    key.update(overrides)
    return {k: v for k, v in key.items() if v is not None}


def check(**kw: Any) -> RegistryCheckResult:
    args: dict[str, Any] = {
        "kind": K.GENERIC,
        "url": "registry.example.com",
        "image_path": None,
        "default_tag": None,
        "requires_auth": False,
        "credentials": None,
        "credentials_required": True,
    }
    args.update(kw)
    return validate_registry(**args)


def creds_check(
    kind: RegistryKind, url: str | None, creds: Mapping[str, str]
) -> RegistryCheckResult:
    return check(kind=kind, url=url, requires_auth=True, credentials=creds)


def failure(**kw: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as exc:
        check(**kw)
    return exc.value


def fields(exc: InvalidInput) -> list[str]:
    return [issue.field for issue in exc.issues]


def rule_of(exc: InvalidInput, field: str) -> str:
    return next(issue.rule for issue in exc.issues if issue.field == field)


# --- normalize_registry_url ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ghcr.io", "ghcr.io"),
        ("https://ghcr.io", "ghcr.io"),
        ("https://ghcr.io/", "ghcr.io"),
        ("http://GHCR.IO/", "ghcr.io"),
        ("HTTPS://Registry.Example.com:5000/", "registry.example.com:5000"),
        ("  registry.example.com  ", "registry.example.com"),
        ("docker.io", "docker.io"),
        ("index.docker.io", "docker.io"),
        ("https://index.docker.io/", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
        ("registry-1.docker.io:443", "registry-1.docker.io:443"),
        ("[::1]:5000", "[::1]:5000"),
        ("https://[2001:DB8::1]/", "[2001:db8::1]"),
        ("127.0.0.1:5000", "127.0.0.1:5000"),
        ("localhost:05000", "localhost:5000"),
        ("harbor.example.com:8443", "harbor.example.com:8443"),
        (ECR_URL, ECR_URL),
    ],
)
def test_normalize_url(text: str, expected: str) -> None:
    assert normalize_registry_url(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("reg example.com", "must not contain spaces"),
        ("https://host/v2/", "without path"),
        ("host/org/app", "without path"),
        ("host?x=1", "without path"),
        ("host#frag", "without path"),
        ("host/?", "without path"),
        ("https://", "without path"),
        ("ftp://host", "https://"),
        ("user@host", "credentials"),
        ("host:0", "port from 1 to 65535"),
        ("host:65536", "port from 1 to 65535"),
        ("host:abc", "port from 1 to 65535"),
        ("host:", "port from 1 to 65535"),
        ("[::1", "host name"),
        ("[::g]", "host name"),
        ("[::1]x", "host name"),
        ("host_name.example.com", "host name"),
        ("-host.example.com", "host name"),
        ("a..b", "host name"),
    ],
)
def test_normalize_url_rejects(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        normalize_registry_url(text, field="server")
    assert fields(exc.value) == ["server"]
    assert fragment in exc.value.message


def test_normalize_url_never_echoes_userinfo() -> None:
    password = "pw-" + "9" * 12
    with pytest.raises(InvalidInput) as exc:
        normalize_registry_url(f"https://alice:{password}@registry.example.com/")
    assert fields(exc.value) == ["url"]
    assert "credentials" in exc.value.message
    assert password not in str(exc.value)
    assert "alice" not in str(exc.value)


# --- detect_kind / ecr_host_parts ------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("docker.io", K.DOCKER_HUB),
        ("index.docker.io", K.DOCKER_HUB),
        ("registry-1.docker.io", K.DOCKER_HUB),
        ("ghcr.io", K.GHCR),
        ("GHCR.IO", K.GHCR),
        ("ghcr.io:443", K.GHCR),  # the port does not change who runs the host
        ("gcr.io", K.GCR),
        ("eu.gcr.io", K.GCR),
        ("us.gcr.io", K.GCR),
        ("asia.gcr.io", K.GCR),
        ("europe-west1-docker.pkg.dev", K.GCR),
        ("us-docker.pkg.dev", K.GCR),
        (ECR_URL, K.ECR),
        ("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", K.ECR),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", K.ECR),
        ("123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", K.ECR),
        ("123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", K.ECR),
        ("myreg.azurecr.io", K.ACR),
        ("myreg.azurecr.cn", K.ACR),
        ("myreg.azurecr.de", K.ACR),
        ("myreg.azurecr.us", K.ACR),
        ("12345678901.dkr.ecr.eu-west-1.amazonaws.com", None),
        ("public.ecr.aws", None),
        ("myreg.azurecr.com", None),
        ("a.b.gcr.io", None),
        ("docker.pkg.dev", None),
        ("harbor.example.com", None),
        ("quay.io", None),
        ("localhost:5000", None),
        ("[::1]:5000", None),
    ],
)
def test_detect_kind(host: str, kind: RegistryKind | None) -> None:
    assert detect_kind(host) is kind


@pytest.mark.parametrize(
    ("host", "parts"),
    [
        (ECR_URL, ("123456789012", "eu-west-1")),
        (
            "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
            ("123456789012", "us-gov-west-1"),
        ),
        (
            "210987654321.dkr.ecr.cn-northwest-1.amazonaws.com.cn",
            ("210987654321", "cn-northwest-1"),
        ),
        ("ghcr.io", None),
        ("public.ecr.aws", None),
    ],
)
def test_ecr_host_parts(host: str, parts: tuple[str, str] | None) -> None:
    assert ecr_host_parts(host) == parts


# --- catalogue -------------------------------------------------------------------------------


def test_every_kind_has_an_entry() -> None:
    assert set(KIND_INFO) == set(RegistryKind)
    for kind in RegistryKind:
        assert kind_info(kind).kind is kind
    assert [k.value for k in RegistryKind] == [
        "dockerhub",
        "ghcr",
        "gcr",
        "ecr",
        "acr",
        "harbor",
        "generic",
    ]


def test_catalogue_is_read_only() -> None:
    with pytest.raises(TypeError):
        KIND_INFO[K.GHCR] = KIND_INFO[K.GENERIC]  # type: ignore[index]


@pytest.mark.parametrize(
    ("kind", "default_url"),
    [
        (K.DOCKER_HUB, "docker.io"),
        (K.GHCR, "ghcr.io"),
        (K.GCR, "gcr.io"),
        (K.ECR, None),
        (K.ACR, None),
        (K.HARBOR, None),
        (K.GENERIC, None),
    ],
)
def test_default_urls_are_normal_and_of_their_kind(
    kind: RegistryKind, default_url: str | None
) -> None:
    info = kind_info(kind)
    assert info.default_url == default_url
    if default_url is not None:
        assert normalize_registry_url(default_url) == default_url
        assert detect_kind(default_url) is kind


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (K.DOCKER_HUB, [("username", False, True), ("password", True, True)]),
        (K.GHCR, [("username", False, True), ("password", True, True)]),
        (K.HARBOR, [("username", False, True), ("password", True, True)]),
        (K.GENERIC, [("username", False, True), ("password", True, True)]),
        (K.ACR, [("username", False, True), ("password", True, True)]),
        (K.GCR, [("username", False, True), ("password", True, True)]),
        (
            K.ECR,
            [
                ("access_key_id", True, True),
                ("secret_access_key", True, True),
                ("region", False, True),
                ("role_arn", False, False),
            ],
        ),
    ],
)
def test_credential_fields(kind: RegistryKind, expected: list[tuple[str, bool, bool]]) -> None:
    specs = kind_info(kind).credential_fields
    assert [(f.name, f.secret, f.required) for f in specs] == expected
    assert all(f.label and f.help for f in specs)


def test_gcr_username_offers_three_choices_defaulting_to_json_key() -> None:
    username = kind_info(K.GCR).credential_field("username")
    assert username is not None
    assert (
        username.choices == GCR_USERNAMES == ("_json_key", "_json_key_base64", "oauth2accesstoken")
    )
    assert username.default == "_json_key"
    assert kind_info(K.GCR).credential_field("token") is None


@pytest.mark.parametrize(
    ("kind", "phrases"),
    [
        (K.GHCR, ["GitHub user name", "ghp_", "read:packages"]),
        (K.DOCKER_HUB, ["Docker ID", "dckr_pat_", "rather than the account password"]),
        (K.GCR, ["_json_key", "service-account JSON key"]),
        (K.ECR, ["access key id", "secret access key", "region", "12-hour token"]),
        (K.ACR, ["service principal", "client secret"]),
        (K.HARBOR, ["robot$", "secret"]),
        (K.GENERIC, ["user name and password"]),
    ],
)
def test_hints(kind: RegistryKind, phrases: list[str]) -> None:
    hint = kind_info(kind).hint
    assert all(p in hint for p in phrases), hint


def test_only_ecr_always_needs_credentials() -> None:
    assert [k for k in RegistryKind if kind_info(k).auth_required] == [K.ECR]
    assert [k for k in RegistryKind if not kind_info(k).detectable] == [K.HARBOR, K.GENERIC]


# --- validate_registry: URL, path, tag -------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "url", "expected"),
    [
        (K.DOCKER_HUB, None, "docker.io"),
        (K.DOCKER_HUB, "https://index.docker.io/", "docker.io"),
        (K.GHCR, "", "ghcr.io"),
        (K.GHCR, "   ", "ghcr.io"),
        (K.GCR, None, "gcr.io"),
        (K.GCR, "europe-west1-docker.pkg.dev", "europe-west1-docker.pkg.dev"),
        (K.ACR, "https://MyReg.azurecr.io/", "myreg.azurecr.io"),
        (K.HARBOR, "https://Harbor.Example.com:8443/", "harbor.example.com:8443"),
        (K.GENERIC, "localhost:5000", "localhost:5000"),
    ],
)
def test_url_is_normalised_or_defaulted(kind: RegistryKind, url: str | None, expected: str) -> None:
    result = check(kind=kind, url=url)
    assert result.url == expected
    assert result.warnings == ()


@pytest.mark.parametrize("kind", [K.ECR, K.ACR, K.HARBOR, K.GENERIC])
def test_url_required_without_default(kind: RegistryKind) -> None:
    exc = failure(kind=kind, url=None, requires_auth=kind is K.ECR)
    assert "is required" in rule_of(exc, "url")


@pytest.mark.parametrize(
    ("kind", "url", "looks_like"),
    [
        (K.GHCR, "docker.io", "Docker Hub"),
        (K.DOCKER_HUB, "ghcr.io", "GitHub Container Registry"),
        (K.GCR, "registry.example.com", None),
        (K.ECR, "myreg.azurecr.io", "Azure Container Registry"),
        (K.ACR, "gcr.io", "Google"),
        (K.ECR, "public.ecr.aws", None),
    ],
)
def test_url_must_match_a_detectable_kind(
    kind: RegistryKind, url: str, looks_like: str | None
) -> None:
    exc = failure(kind=kind, url=url, requires_auth=kind is K.ECR)
    rule = rule_of(exc, "url")
    assert rule.startswith(f"must be a {kind_info(kind).label} host")
    if looks_like:
        assert looks_like in rule
    else:
        assert "looks like" not in rule


@pytest.mark.parametrize(
    ("kind", "url", "suggested"),
    [
        (K.HARBOR, "ghcr.io", K.GHCR),
        (K.GENERIC, ECR_URL, K.ECR),
        (K.GENERIC, "index.docker.io", K.DOCKER_HUB),
        (K.HARBOR, "myreg.azurecr.io", K.ACR),
    ],
)
def test_undetectable_kind_on_a_known_host_warns(
    kind: RegistryKind, url: str, suggested: RegistryKind
) -> None:
    (warning,) = check(kind=kind, url=url).warnings
    assert kind_info(suggested).label in warning
    assert f'"{suggested.value}"' in warning


def test_invalid_url_is_reported_on_url() -> None:
    exc = failure(kind=K.HARBOR, url="https://harbor.example.com/project")
    assert fields(exc) == ["url"]


def test_image_path_and_default_tag() -> None:
    result = check(image_path="  org/app ", default_tag=" v1.2 ")
    assert (result.image_path, result.default_tag) == ("org/app", "v1.2")
    blank = check(image_path="", default_tag="   ")
    assert (blank.image_path, blank.default_tag) == (None, None)


@pytest.mark.parametrize(
    ("image_path", "default_tag", "field"),
    [
        ("Org/App", None, "image_path"),
        ("org//app", None, "image_path"),
        ("0123456789abcdef" * 4, None, "image_path"),
        (None, ".bad", "default_tag"),
        (None, "t" * 129, "default_tag"),
    ],
)
def test_image_path_and_tag_rules(
    image_path: str | None, default_tag: str | None, field: str
) -> None:
    assert fields(failure(image_path=image_path, default_tag=default_tag)) == [field]


def test_all_issues_are_raised_together() -> None:
    exc = failure(
        kind=K.GHCR,
        url="docker.io",
        image_path="Bad",
        default_tag="-x",
        requires_auth=True,
        credentials={"username": "", "token": "t"},
    )
    assert fields(exc) == [
        "url",
        "image_path",
        "default_tag",
        "credentials.token",
        "credentials.username",
        "credentials.password",
    ]


# --- validate_registry: authentication in general --------------------------------------------


def test_credentials_must_be_empty_without_auth() -> None:
    exc = failure(credentials={"username": "u", "password": "p"})
    assert fields(exc) == ["credentials"]
    assert check(credentials={"username": " ", "password": ""}).credentials == {}


def test_ecr_cannot_be_anonymous() -> None:
    exc = failure(kind=K.ECR, url=ECR_URL, requires_auth=False)
    assert fields(exc) == ["requires_auth"]


@pytest.mark.parametrize(
    ("kind", "url", "missing"),
    [
        (K.GENERIC, None, ["credentials.username", "credentials.password"]),
        (K.GHCR, None, ["credentials.username", "credentials.password"]),
        (K.GCR, None, ["credentials.password"]),  # the user name has a default
        (
            K.ECR,
            ECR_URL,
            ["credentials.access_key_id", "credentials.secret_access_key", "credentials.region"],
        ),
    ],
)
def test_required_fields_on_create(kind: RegistryKind, url: str | None, missing: list[str]) -> None:
    exc = failure(
        kind=kind,
        url=url or kind_info(kind).default_url or "r.example.com",
        requires_auth=True,
        credentials={},
    )
    assert fields(exc) == missing
    assert all(i.rule == f"is required for {kind_info(kind).label}" for i in exc.issues)


def test_update_keeps_stored_credentials_when_omitted() -> None:
    for creds in (None, {}, {"password": "   "}):
        result = check(requires_auth=True, credentials=creds, credentials_required=False)
        assert result.credentials == {}
    result = check(
        requires_auth=True, credentials={"password": " new "}, credentials_required=False
    )
    assert result.credentials == {"password": "new"}


def test_update_checks_the_fields_present() -> None:
    with pytest.raises(InvalidInput) as exc:
        check(
            kind=K.ECR,
            url=ECR_URL,
            requires_auth=True,
            credentials={"region": "us-east-1"},
            credentials_required=False,
        )
    assert fields(exc.value) == ["credentials.region"]


def test_unknown_credential_field() -> None:
    exc = failure(requires_auth=True, credentials={"username": "u", "password": "p", "token": "t"})
    assert fields(exc) == ["credentials.token"]
    assert "username, password" in exc.issues[0].rule


def test_values_are_stripped() -> None:
    result = creds_check(K.GENERIC, "r.example.com", {"username": " alice ", "password": "\tpw\n"})
    assert result.credentials == {"username": "alice", "password": "pw"}


# --- per kind --------------------------------------------------------------------------------


def test_ghcr_classic_token_passes_silently() -> None:
    result = creds_check(K.GHCR, None, {"username": "octocat", "password": GHP})
    assert result.warnings == ()
    assert result.credentials == {"username": "octocat", "password": GHP}


@pytest.mark.parametrize(
    ("password", "phrases"),
    [
        ("github_pat_" + "A" * 30, ["fine-grained", "long refused", "Test Connection"]),
        ("gho_" + "b" * 36, ["gho_", "short-lived"]),
        ("ghu_" + "b" * 36, ["ghu_", "short-lived"]),
        ("ghs_" + "b" * 36, ["ghs_", "short-lived"]),
        ("ghr_" + "b" * 36, ["ghr_", "short-lived"]),
        ("correct-horse-battery", ["does not look like a GitHub token"]),
    ],
)
def test_ghcr_other_tokens_warn(password: str, phrases: list[str]) -> None:
    result = creds_check(K.GHCR, None, {"username": "octocat", "password": password})
    (warning,) = result.warnings
    assert all(p in warning for p in phrases), warning
    assert password not in warning


def test_docker_hub_access_token() -> None:
    assert creds_check(K.DOCKER_HUB, None, {"username": "me", "password": DCKR}).warnings == ()
    (warning,) = creds_check(
        K.DOCKER_HUB, None, {"username": "me", "password": "hunter22"}
    ).warnings
    assert "access token" in warning and "dckr_pat_" in warning


def test_gcr_json_key_is_accepted_and_flattened() -> None:
    pretty = json.dumps(sa_key(), indent=2)
    result = creds_check(K.GCR, None, {"username": "_json_key", "password": pretty})
    assert result.warnings == ()
    flat = result.credentials["password"]
    assert "\n" not in flat and "\r" not in flat
    assert json.loads(flat) == sa_key()


def test_gcr_username_defaults_to_json_key() -> None:
    result = creds_check(K.GCR, "eu.gcr.io", {"password": json.dumps(sa_key())})
    assert result.credentials["username"] == "_json_key"


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "a JSON object"),
        (json.dumps(sa_key(client_email=None)), "'client_email'"),
        (json.dumps(sa_key(type=None, private_key=None)), "'type', 'private_key'"),
    ],
)
def test_gcr_json_key_errors(password: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        creds_check(K.GCR, None, {"username": "_json_key", "password": password})
    assert fields(exc.value) == ["credentials.password"]
    assert fragment in exc.value.message
    assert PRIVATE_KEY.strip() not in str(exc.value)
    assert "MIIEv" not in str(exc.value)


def test_gcr_json_key_of_another_type_warns() -> None:
    key = json.dumps(sa_key(type="authorized_user"))
    (warning,) = creds_check(K.GCR, None, {"username": "_json_key", "password": key}).warnings
    assert "service_account" in warning
    assert "MIIEv" not in warning


def test_gcr_json_key_base64() -> None:
    encoded = base64.b64encode(json.dumps(sa_key()).encode()).decode()
    wrapped = "\n".join(textwrap.wrap(encoded, 76)) + "\n"
    result = creds_check(K.GCR, None, {"username": "_json_key_base64", "password": wrapped})
    assert result.warnings == ()
    assert result.credentials["password"] == encoded


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("not base64!", "base64 encoding"),
        (base64.b64encode(b"\xff\xfe").decode(), "base64 encoding"),
        (base64.b64encode(b"{oops").decode(), "not valid JSON"),
        (base64.b64encode(json.dumps(sa_key(private_key=None)).encode()).decode(), "'private_key'"),
    ],
)
def test_gcr_json_key_base64_errors(password: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        creds_check(K.GCR, None, {"username": "_json_key_base64", "password": password})
    assert fields(exc.value) == ["credentials.password"]
    assert fragment in exc.value.message
    assert password not in str(exc.value)


def test_gcr_access_token_warns_about_expiry() -> None:
    token = "ya29." + "t" * 40
    (warning,) = creds_check(
        K.GCR, None, {"username": "oauth2accesstoken", "password": token}
    ).warnings
    assert "expire" in warning and token not in warning


def test_gcr_username_must_be_one_of_three() -> None:
    with pytest.raises(InvalidInput) as exc:
        creds_check(K.GCR, None, {"username": "admin", "password": "x"})
    assert fields(exc.value) == ["credentials.username"]
    assert all(name in exc.value.message for name in GCR_USERNAMES)


def test_gcr_update_without_username_skips_the_key_check() -> None:
    result = check(
        kind=K.GCR,
        url=None,
        requires_auth=True,
        credentials={"password": "{whatever"},
        credentials_required=False,
    )
    assert result.credentials == {"password": "{whatever"}


def ecr_creds(**overrides: str) -> dict[str, str]:
    creds = {"access_key_id": AWS_KEY_ID, "secret_access_key": AWS_SECRET, "region": "eu-west-1"}
    creds.update(overrides)
    return creds


@pytest.mark.parametrize(
    "role_arn",
    [
        "arn:aws:iam::123456789012:role/puller",
        "arn:aws-cn:iam::123456789012:role/path/puller",
        "arn:aws-us-gov:iam::123456789012:role/puller",
    ],
)
def test_ecr_valid(role_arn: str) -> None:
    result = creds_check(K.ECR, ECR_URL, ecr_creds(role_arn=role_arn))
    assert result.warnings == ()
    assert result.credentials["role_arn"] == role_arn


def test_ecr_region_must_match_the_url() -> None:
    with pytest.raises(InvalidInput) as exc:
        creds_check(K.ECR, ECR_URL, ecr_creds(region="us-east-1"))
    assert fields(exc.value) == ["credentials.region"]
    assert '"eu-west-1"' in exc.value.message and '"us-east-1"' in exc.value.message


def test_ecr_region_must_look_like_a_region() -> None:
    with pytest.raises(InvalidInput) as exc:
        creds_check(K.ECR, ECR_URL, ecr_creds(region="EU West"))
    assert fields(exc.value) == ["credentials.region"]
    assert "EU West" not in exc.value.message


def test_ecr_region_not_compared_when_url_is_wrong() -> None:
    with pytest.raises(InvalidInput) as exc:
        creds_check(K.ECR, "registry.example.com", ecr_creds(region="us-east-1"))
    assert fields(exc.value) == ["url"]


@pytest.mark.parametrize(
    "role_arn",
    [
        "arn:aws:iam::123:role/x",
        "arn:aws:iam::123456789012:user/x",
        "arn:aws:iam::123456789012:role/",
        "arn:azure:iam::123456789012:role/x",
    ],
)
def test_ecr_role_arn_rule(role_arn: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        creds_check(K.ECR, ECR_URL, ecr_creds(role_arn=role_arn))
    assert fields(exc.value) == ["credentials.role_arn"]


@pytest.mark.parametrize(
    "key_id", ["akia" + "q" * 16, "AKIA" + "Q" * 15, "AKIA" + "Q" * 17, "AIDA" + "Q" * 16, "x"]
)
def test_ecr_access_key_id_format(key_id: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        creds_check(K.ECR, ECR_URL, ecr_creds(access_key_id=key_id))
    assert fields(exc.value) == ["credentials.access_key_id"]
    assert key_id not in exc.value.message
    assert AWS_SECRET not in exc.value.message


def test_ecr_temporary_key_warns() -> None:
    (warning,) = creds_check(K.ECR, ECR_URL, ecr_creds(access_key_id="ASIA" + "Q" * 16)).warnings
    assert "session token" in warning


def test_acr_prefers_a_service_principal() -> None:
    assert creds_check(K.ACR, "r.azurecr.io", {"username": SP_ID, "password": "s"}).warnings == ()
    (warning,) = creds_check(K.ACR, "r.azurecr.io", {"username": "r", "password": "s"}).warnings
    assert "admin user or token name" in warning and "service principal" in warning


def test_harbor_prefers_a_robot_account() -> None:
    robot = {"username": "robot$proj+ci", "password": "s"}
    assert creds_check(K.HARBOR, "harbor.example.com", robot).warnings == ()
    (warning,) = creds_check(
        K.HARBOR, "harbor.example.com", {"username": "alice", "password": "s"}
    ).warnings
    assert "robot" in warning


def test_generic_has_no_credential_advice() -> None:
    result = creds_check(K.GENERIC, "r.example.com", {"username": "u", "password": "p"})
    assert result.warnings == ()


# --- secrets never leak ----------------------------------------------------------------------

SECRET = "Sup3r-" + "Secret-" + "4242"


@pytest.mark.parametrize(
    ("kind", "url", "creds"),
    [
        (K.GHCR, None, {"username": "u", "password": SECRET}),
        (K.GHCR, None, {"username": "u", "password": "github_pat_" + SECRET}),
        (K.DOCKER_HUB, None, {"username": "u", "password": SECRET}),
        (K.GCR, None, {"username": "_json_key", "password": SECRET}),
        (K.GCR, None, {"username": "_json_key_base64", "password": SECRET}),
        (K.GCR, None, {"username": "_json_key", "password": json.dumps({"type": SECRET})}),
        (K.GCR, None, {"username": "admin", "password": SECRET}),
        (K.ECR, ECR_URL, ecr_creds(access_key_id=SECRET, secret_access_key=SECRET)),
        (K.ECR, ECR_URL, ecr_creds(secret_access_key=SECRET, region="us-east-2")),
        (K.ACR, "r.azurecr.io", {"username": "r", "password": SECRET}),
        (K.HARBOR, "h.example.com", {"username": "alice", "password": SECRET}),
        (K.GENERIC, "docker.io", {"username": "u", "password": SECRET}),
    ],
)
def test_secrets_never_appear(kind: RegistryKind, url: str | None, creds: dict[str, str]) -> None:
    try:
        result = creds_check(kind, url, creds)
    except InvalidInput as exc:
        text = str(exc) + repr(exc.issues)
    else:
        text = repr(result) + str(result) + " ".join(result.warnings)
        assert result.credentials  # the secret is kept, just not shown
    assert SECRET not in text
