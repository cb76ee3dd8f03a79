"""Docker config payloads match kubectl byte for byte; config.json imports explain every entry."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from vectis_admin.domain.dockerconfig import (
    DOCKER_HUB_KEY,
    ImportableEntry,
    NotImportable,
    auth_entry,
    auths_key_for,
    build_dockerconfigjson,
    docker_hub_key,
    parse_docker_config,
)
from vectis_admin.domain.registries import RegistryKind
from vectis_admin.errors import InvalidInput

K = RegistryKind
SECRET = "Sup3r-" + "Secret-" + "4242"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def config(auths: dict[str, Any], **extra: Any) -> str:
    return json.dumps({"auths": auths, **extra})


def only_rejected(text: str) -> NotImportable:
    result = parse_docker_config(text)
    assert result.entries == ()
    (rejected,) = result.not_importable
    return rejected


# --- writing ---------------------------------------------------------------------------------


def test_docker_hub_key() -> None:
    assert DOCKER_HUB_KEY == docker_hub_key == "https://index.docker.io/v1/"


@pytest.mark.parametrize(
    ("username", "password", "email", "expected"),
    [
        ("u", "p", None, {"username": "u", "password": "p", "auth": "dTpw"}),
        (
            "ab",
            "c",
            "a@b.c",
            {"username": "ab", "password": "c", "email": "a@b.c", "auth": "YWI6Yw=="},
        ),
        ("", "tok", None, {"password": "tok", "auth": "OnRvaw=="}),
        ("u", "", "", {"username": "u", "auth": "dTo="}),
        ("", "", None, {"auth": "Og=="}),
    ],
)
def test_auth_entry(
    username: str, password: str, email: str | None, expected: dict[str, str]
) -> None:
    entry = auth_entry(username, password, email=email)
    assert entry == expected
    assert list(entry) == list(expected)  # kubectl's field order


def test_build_is_kubectls_compact_json() -> None:
    text = build_dockerconfigjson(DOCKER_HUB_KEY, "u", "p", "e@x.io")
    assert text == (
        '{"auths":{"https://index.docker.io/v1/":'
        '{"username":"u","password":"p","email":"e@x.io","auth":"dTpw"}}}'
    )
    assert build_dockerconfigjson("ghcr.io", "u", "p") == (
        '{"auths":{"ghcr.io":{"username":"u","password":"p","auth":"dTpw"}}}'
    )


@pytest.mark.parametrize(
    ("password", "escaped"),
    [
        ("a<b>&c", "a\\u003cb\\u003e\\u0026c"),  # Go's json.Marshal HTML-escapes
        ("\u00e9\u4e2d", "\u00e9\u4e2d"),  # and writes other non-ASCII as UTF-8
        ('q"\\', 'q\\"\\\\'),
        ("line\u2028sep", "line\\u2028sep"),
    ],
)
def test_build_escapes_strings_like_go(password: str, escaped: str) -> None:
    text = build_dockerconfigjson("r.example.com", "u", password)
    assert f'"password":"{escaped}"' in text
    entry = json.loads(text)["auths"]["r.example.com"]
    assert entry["password"] == password
    assert base64.b64decode(entry["auth"]).decode() == f"u:{password}"


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("docker.io", DOCKER_HUB_KEY),
        ("index.docker.io", DOCKER_HUB_KEY),
        ("registry-1.docker.io", DOCKER_HUB_KEY),
        ("ghcr.io", "ghcr.io"),
        ("https://Reg.Example.com:5000/", "reg.example.com:5000"),
        ("[::1]:5000", "[::1]:5000"),
    ],
)
def test_auths_key_for(host: str, key: str) -> None:
    assert auths_key_for(host) == key


def test_auths_key_for_rejects_a_bad_host() -> None:
    with pytest.raises(InvalidInput) as exc:
        auths_key_for("reg.example.com/path")
    assert [i.field for i in exc.value.issues] == ["host"]


# --- importing: the file as a whole ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"auths": {"x": {"password": "' + SECRET, "valid JSON"),
        ("", "valid JSON"),
        ("[]", "JSON object"),
        ('"text"', "JSON object"),
        ('{"auths": []}', '"auths" object'),
    ],
)
def test_rejects_a_file_that_is_not_a_config(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_docker_config(text)
    assert [i.field for i in exc.value.issues] == ["config"]
    assert fragment in exc.value.message
    assert SECRET not in str(exc.value)


def test_empty_config() -> None:
    for text in ("{}", '{"auths": {}}'):
        result = parse_docker_config(text)
        assert (result.entries, result.not_importable) == ((), ())


# --- importing: entries ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "host", "kind"),
    [
        (DOCKER_HUB_KEY, "docker.io", K.DOCKER_HUB),
        ("https://index.docker.io/v1", "docker.io", K.DOCKER_HUB),
        ("docker.io", "docker.io", K.DOCKER_HUB),
        ("ghcr.io", "ghcr.io", K.GHCR),
        ("https://ghcr.io", "ghcr.io", K.GHCR),
        ("europe-west1-docker.pkg.dev", "europe-west1-docker.pkg.dev", K.GCR),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", None, K.ECR),
        ("https://myreg.azurecr.io", "myreg.azurecr.io", K.ACR),
        ("Registry.Example.com:5000", "registry.example.com:5000", K.GENERIC),
        ("https://reg.example.com/v1/", "reg.example.com", K.GENERIC),
        ("reg.example.com/v2", "reg.example.com", K.GENERIC),
        ("localhost:5000", "localhost:5000", K.GENERIC),
    ],
)
def test_importable_entry(key: str, host: str | None, kind: RegistryKind) -> None:
    result = parse_docker_config(config({key: {"username": "alice", "password": SECRET}}))
    assert result.not_importable == ()
    (entry,) = result.entries
    assert entry == ImportableEntry(
        server_key=key, host=host or key, kind=kind, username="alice", password=SECRET
    )


def test_auth_overrides_username_and_password() -> None:
    entry_json = {"username": "old", "password": "old-pw", "auth": b64(f"bob:{SECRET}:x")}
    (entry,) = parse_docker_config(config({"ghcr.io": entry_json})).entries
    assert (entry.username, entry.password) == ("bob", f"{SECRET}:x")


def test_password_never_shows() -> None:
    (entry,) = parse_docker_config(config({"ghcr.io": {"auth": b64(f"bob:{SECRET}")}})).entries
    assert SECRET not in repr(entry) and SECRET not in str(entry)
    assert entry.password == SECRET


def test_null_fields_count_as_blank() -> None:
    text = config({"ghcr.io": {"username": "bob", "password": "pw", "auth": None, "email": None}})
    (entry,) = parse_docker_config(text).entries
    assert (entry.username, entry.password) == ("bob", "pw")


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ({"auth": "!!not base64"}, "not valid base64"),
        ({"auth": "dTpw="}, "not valid base64"),  # wrong padding fails as in Go
        ({"auth": "dTpw=="}, "not valid base64"),
        ({"auth": "dTo"}, "not valid base64"),
        ({"auth": "d\u00e9pw"}, "not valid base64"),
        ({"auth": base64.b64encode(b"\xff\xfe:x").decode()}, "not valid base64"),
        ({"auth": b64("no-colon")}, "does not decode to user:password"),
        ({"auth": 123}, "must be strings"),
        ({"username": ["a"], "password": "p"}, "must be strings"),
        ("just text", "not a JSON object"),
        ({"auth": b64("bob:"), "identitytoken": "t" * 20}, "identity token (OAuth refresh token)"),
        ({"identitytoken": "t" * 20}, "identity token"),
        ({"username": "bob"}, "user name but no password"),
        ({"auth": b64("bob:")}, "user name but no password"),
        ({"password": "pw"}, "password but no user name"),
        ({"auth": b64(":")}, "holds no credentials"),
        ({}, "holds no credentials"),
    ],
)
def test_not_importable_entry(entry: Any, fragment: str) -> None:
    rejected = only_rejected(config({"reg.example.com": entry}))
    assert rejected.server_key == "reg.example.com"
    assert fragment in rejected.reason


@pytest.mark.parametrize(
    "key", ["https://reg.example.com/org/app", "not a host", "reg.example.com:99999", "ftp://x.io"]
)
def test_unusable_server_key(key: str) -> None:
    rejected = only_rejected(config({key: {"username": "bob", "password": "pw"}}))
    assert rejected.server_key == key
    assert "not a registry host" in rejected.reason


def test_server_key_with_credentials_is_redacted() -> None:
    key = f"https://bob:{SECRET}@reg.example.com/"
    rejected = only_rejected(config({key: {"username": "bob", "password": "pw"}}))
    assert rejected.server_key == "https://***@reg.example.com/"
    assert SECRET not in repr(rejected)


def test_creds_store_explains_where_the_credentials_are() -> None:
    rejected = only_rejected(config({DOCKER_HUB_KEY: {}}, credsStore="desktop"))
    assert rejected.server_key == DOCKER_HUB_KEY
    assert "docker-credential-desktop" in rejected.reason
    assert f"echo {DOCKER_HUB_KEY} | docker-credential-desktop get" in rejected.reason


def test_cred_helpers_win_over_creds_store() -> None:
    text = config({"https://gcr.io": {}}, credsStore="desktop", credHelpers={"gcr.io": "gcloud"})
    assert "docker-credential-gcloud" in only_rejected(text).reason


def test_cred_helpers_without_auths_entry_are_listed() -> None:
    text = config(
        {"gcr.io": {"username": "_json_key", "password": "{}"}, "ghcr.io": {}},
        credHelpers={
            "gcr.io": "gcloud",
            "https://ghcr.io": "gh",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login",
            "bad host": "x",
            "eu.gcr.io": 7,
        },
    )
    result = parse_docker_config(text)
    assert [e.host for e in result.entries] == ["gcr.io"]  # credentials in the file win
    assert [
        (r.server_key, r.reason.split("docker-credential-")[1][:5]) for r in result.not_importable
    ] == [
        ("ghcr.io", "gh, n"),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "ecr-l"),
    ]


def test_entries_keep_file_order() -> None:
    text = config(
        {
            "b.example.com": {"auth": b64("u:p")},
            "a.example.com": {},
            "c.example.com": {"username": "u", "password": "p"},
        }
    )
    result = parse_docker_config(text)
    assert [e.host for e in result.entries] == ["b.example.com", "c.example.com"]
    assert [r.server_key for r in result.not_importable] == ["a.example.com"]


def test_written_config_imports_back() -> None:
    text = build_dockerconfigjson(DOCKER_HUB_KEY, "alice", SECRET, "a@b.c")
    (entry,) = parse_docker_config(text).entries
    assert (entry.host, entry.kind, entry.username, entry.password) == (
        "docker.io",
        K.DOCKER_HUB,
        "alice",
        SECRET,
    )
