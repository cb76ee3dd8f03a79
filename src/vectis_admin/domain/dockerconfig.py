"""Docker's credential file format: writing pull-secret payloads and importing `config.json`.

A pull secret is a `kubernetes.io/dockerconfigjson` Secret, and its payload must be exactly what
`kubectl create secret docker-registry` writes (kubectl `create_secret_docker.go`) so that secrets
made by the console and by hand compare equal and kubelet reads both the same way. The import
side reads an operator's `~/.docker/config.json`, taking the credentials the file really holds
and explaining, entry by entry, why the others (credential helpers, identity tokens, malformed
entries) cannot be taken. Pure functions: reading files and writing Secrets belong to adapters.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from vectis_admin.domain.registries import RegistryKind, detect_kind, normalize_registry_url
from vectis_admin.errors import InvalidInput

__all__ = [
    "DOCKER_HUB_KEY",
    "DockerConfigImport",
    "ImportableEntry",
    "NotImportable",
    "auth_entry",
    "auths_key_for",
    "build_dockerconfigjson",
    "docker_hub_key",
    "parse_docker_config",
]

# The key Docker and kubectl use for Docker Hub credentials; kubelet matches it for every Docker
# Hub image, whereas a `registry-1.docker.io` key never matches (REGISTRY-REFERENCE C3).
DOCKER_HUB_KEY: Final = "https://index.docker.io/v1/"
docker_hub_key: Final = DOCKER_HUB_KEY  # the spelling of the design brief

# Go's encoding/json escapes these inside strings and Python's json does not; kubectl's output is
# the reference, so they are escaped the Go way. They can only occur inside strings here.
_GO_ESCAPES: Final = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_GO_ESCAPE_RE: Final = re.compile("[<>&\u2028\u2029]")
# kubelet strips a leading /v1/ or /v2/ from keys (credentialprovider `config.go`); old Docker
# clients wrote `https://host/v1/` for every registry.
_API_PATH_RE: Final = re.compile(r"^(?P<prefix>[^/?#]*(?://[^/?#]*)?)/v[12]/?$")


# --- writing ---------------------------------------------------------------------------------


def auth_entry(username: str, password: str, *, email: str | None = None) -> dict[str, str]:
    """One `auths` entry as kubectl builds it: username, password, email, auth; blanks omitted.

    `auth` is always present, as in kubectl: it is what kubelet reads first.
    """
    entry = {"username": username, "password": password, "email": email or ""}
    entry = {k: v for k, v in entry.items() if v}
    entry["auth"] = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return entry


def build_dockerconfigjson(
    server_key: str, username: str, password: str, email: str | None = None
) -> str:
    """The `.dockerconfigjson` value, byte for byte what kubectl would write."""
    payload = {"auths": {server_key: auth_entry(username, password, email=email)}}
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return _GO_ESCAPE_RE.sub(lambda m: _GO_ESCAPES[m.group()], text)


def auths_key_for(host: str) -> str:
    """The `auths` key to store credentials of `host` under: Docker Hub's legacy URL, or the host.

    For any other registry the bare `host[:port]` is what kubelet matches most reliably: a port
    must match exactly and a path would narrow the match.
    """
    clean = normalize_registry_url(host, field="host")
    return DOCKER_HUB_KEY if detect_kind(clean) is RegistryKind.DOCKER_HUB else clean


# --- importing -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportableEntry:
    """Credentials found in the file, ready to become a registry (the password never shows)."""

    server_key: str
    host: str
    kind: RegistryKind
    username: str
    password: str = dataclasses.field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class NotImportable:
    """An entry that holds no usable credentials, and why, in words for the operator."""

    server_key: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DockerConfigImport:
    entries: tuple[ImportableEntry, ...]
    not_importable: tuple[NotImportable, ...]


def parse_docker_config(text: str) -> DockerConfigImport:
    """Read a Docker `config.json` and sort its `auths` into importable and not importable.

    `auth` (base64 of `user:password`) wins over `username`/`password`, as in kubelet.
    Hosts served by a credential helper are reported, so the operator knows where they went.
    """
    config = _load_object(text)
    auths = config.get("auths", {})
    if not isinstance(auths, dict):
        raise InvalidInput.one("config", 'must have an "auths" object')
    helpers = _cred_helpers(config)
    store = config.get("credsStore") if isinstance(config.get("credsStore"), str) else None
    entries: list[ImportableEntry] = []
    rejected: list[NotImportable] = []
    seen_hosts: set[str] = set()
    for key, entry in auths.items():
        result = _read_entry(key, entry, helpers=helpers, store=store)
        if isinstance(result, ImportableEntry):
            entries.append(result)
            seen_hosts.add(result.host)
        else:
            rejected.append(result)
            seen_hosts.add(_host_of(key) or key)
    for host, helper in helpers.items():
        if host not in seen_hosts:
            rejected.append(NotImportable(server_key=host, reason=_helper_reason(helper, host)))
    return DockerConfigImport(entries=tuple(entries), not_importable=tuple(rejected))


def _load_object(text: str) -> dict[str, Any]:
    try:
        config = json.loads(text)
    except ValueError:
        # json's message quotes nothing, but the file is full of secrets: say only what is wrong.
        raise InvalidInput.one("config", "must be valid JSON (a Docker config.json)") from None
    if not isinstance(config, dict):
        raise InvalidInput.one("config", "must be a JSON object (a Docker config.json)")
    return config


def _cred_helpers(config: Mapping[str, Any]) -> dict[str, str]:
    """`credHelpers` keyed by normalised host; unusable keys are skipped (nothing to import)."""
    helpers = config.get("credHelpers")
    if not isinstance(helpers, dict):
        return {}
    return {
        host: name
        for key, name in helpers.items()
        if isinstance(name, str) and (host := _host_of(key)) is not None
    }


def _read_entry(
    key: str, entry: object, *, helpers: Mapping[str, str], store: str | None
) -> ImportableEntry | NotImportable:
    shown_key = _redact_userinfo(key)
    host = _host_of(key)
    if host is None:
        return NotImportable(
            server_key=shown_key,
            reason="the server key is not a registry host name (with an optional port)",
        )
    if not isinstance(entry, dict):
        return NotImportable(server_key=shown_key, reason="the entry is not a JSON object")
    credentials = _entry_credentials(entry)
    if isinstance(credentials, str):
        return NotImportable(server_key=shown_key, reason=credentials)
    username, password = credentials
    if username and password:
        kind = detect_kind(host) or RegistryKind.GENERIC
        return ImportableEntry(
            server_key=shown_key, host=host, kind=kind, username=username, password=password
        )
    helper = helpers.get(host) or store
    reason = _missing_reason(entry, credentials, helper=helper, key=shown_key)
    return NotImportable(server_key=shown_key, reason=reason)


def _entry_credentials(entry: Mapping[str, object]) -> tuple[str, str] | str:
    """`(username, password)` of an entry, or the reason it is malformed."""
    username, password, auth = (entry.get(n) or "" for n in ("username", "password", "auth"))
    if not (isinstance(username, str) and isinstance(password, str) and isinstance(auth, str)):
        return "username, password and auth must be strings"
    if not auth:
        return username, password
    # kubelet lets `auth` override the separate fields, and a malformed one fails the pull.
    try:
        # Go's StdEncoding wants whole padded quanta; Python tolerates extra '=', so check first.
        if len(auth) % 4:
            raise binascii.Error
        decoded = base64.b64decode(auth, validate=True).decode("utf-8")
    except ValueError:  # binascii.Error, non-ASCII input and bad UTF-8 are all ValueErrors
        return "the auth field is not valid base64 of user:password"
    user, colon, secret = decoded.partition(":")
    if not colon:
        return "the auth field does not decode to user:password"
    return user, secret


def _missing_reason(
    entry: Mapping[str, object], credentials: tuple[str, str], *, helper: str | None, key: str
) -> str:
    username, password = credentials
    if entry.get("identitytoken"):
        return "identity token (OAuth refresh token) entries cannot be imported"
    if helper is not None:
        return _helper_reason(helper, key)
    if username:
        return "the entry has a user name but no password"
    if password:
        return "the entry has a password but no user name"
    return "the entry holds no credentials"


def _helper_reason(helper: str, key: str) -> str:
    return (
        f"the credentials are kept by the credential helper docker-credential-{helper}, "
        "not in this file; enter them by hand, or print them on the machine that ran "
        f"`docker login` with `echo {key} | docker-credential-{helper} get`"
    )


def _host_of(key: str) -> str | None:
    """The normalised host of an `auths` or `credHelpers` key, or None when it has none."""
    match = _API_PATH_RE.match(key)
    try:
        return normalize_registry_url(match.group("prefix") if match else key, field="server_key")
    except InvalidInput:
        return None


def _redact_userinfo(key: str) -> str:
    # A key such as `https://user:secret@host` would carry a password into the report.
    scheme, sep, rest = key.rpartition("://")
    authority, slash, tail = rest.partition("/")
    if "@" not in authority:
        return key
    return f"{scheme}{sep}***@{authority.rpartition('@')[2]}{slash}{tail}"
