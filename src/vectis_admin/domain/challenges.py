"""The Registry HTTP API v2 protocol without I/O: challenges, tokens, links, manifests, limits.

Test Connection has to read what a registry says (a `WWW-Authenticate` challenge, a token
endpoint's JSON, a `Link` header, an index body, rate-limit headers, an error body) exactly as
docker and containerd read it, or it will call a working registry broken and the reverse. Keeping
that reading here, pure and stdlib-only, lets fast tables pin every quirk of REGISTRY-REFERENCE
A2-A8 and B1-B5, and leaves the HTTP adapter with nothing to decide but what to send next.

Malformed upstream data raises `MalformedResponse` (an `UpstreamError`), and nothing else: the
parsers never let a `ValueError`, `KeyError` or `IndexError` escape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urljoin

from vectis_admin.errors import UpstreamError

__all__ = [
    "ACCEPT_MANIFESTS",
    "DOCKER_HUB_API_HOST",
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "INDEX_MEDIA_TYPES",
    "MANIFEST_MEDIA_TYPES",
    "MIN_TOKEN_LIFETIME",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "Challenge",
    "ChallengeParseError",
    "IssuedToken",
    "MalformedResponse",
    "RateLimit",
    "choose_challenge",
    "media_type_of",
    "next_link",
    "parse_error_body",
    "parse_token_response",
    "parse_www_authenticate",
    "platforms_of",
    "pull_scope",
    "rate_limit_of",
    "registry_api_host",
    "token_request_params",
]

OCI_INDEX: Final = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST: Final = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST_LIST: Final = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST: Final = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_MEDIA_TYPES: Final = (OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST)
INDEX_MEDIA_TYPES: Final = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
#: All four types, always together: leave out the OCI ones and the reference registry answers
#: MANIFEST_UNKNOWN for OCI images; leave out the Docker ones and it may convert to schema1,
#: which changes the digest (A6).
ACCEPT_MANIFESTS: Final = ", ".join(MANIFEST_MEDIA_TYPES)

DOCKER_HUB_API_HOST: Final = "registry-1.docker.io"
_DOCKER_HUB_NAMES: Final = frozenset({"docker.io", "index.docker.io", DOCKER_HUB_API_HOST})

#: Token servers may omit `expires_in`; docker and containerd then assume, and never go below,
#: 60 seconds (A4).
MIN_TOKEN_LIFETIME: Final = timedelta(seconds=60)


class MalformedResponse(UpstreamError):
    """A registry or token server sent something the protocol does not allow."""

    code = "malformed_response"


class ChallengeParseError(MalformedResponse):
    """A `WWW-Authenticate` header that is not a list of RFC 7235 challenges."""


# --- WWW-Authenticate ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Challenge:
    """One challenge: lower-case `scheme`, parameters with lower-case names.

    `token68` holds the bare credential-like value some schemes use instead of parameters
    (`Negotiate abc==`); registries never send one, but the grammar allows it.
    """

    scheme: str
    params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    token68: str | None = None

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def scope(self) -> str | None:
        return self.params.get("scope")

    @property
    def error(self) -> str | None:
        """`invalid_token`, `insufficient_scope`… (RFC 6750 §3.1), if the server sent one."""
        return self.params.get("error")


_TCHARS: Final = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_TOKEN68_CHARS: Final = frozenset(
    "-._~+/0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_WS: Final = frozenset(" \t")


class _Scanner:
    """A cursor over one header value; every method either advances or leaves `pos` alone."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_ws(self) -> bool:
        start = self.pos
        while self.peek() in _WS and not self.at_end():
            self.pos += 1
        return self.pos > start

    def skip_list_separators(self) -> None:
        # `#rule` lists allow empty elements: `a, , b`.
        while not self.at_end() and (self.peek() in _WS or self.peek() == ","):
            self.pos += 1

    def run(self, chars: frozenset[str]) -> str:
        start = self.pos
        while not self.at_end() and self.text[self.pos] in chars:
            self.pos += 1
        return self.text[start : self.pos]

    def quoted_string(self) -> str:
        """A quoted-string starting at `pos`, without quotes and with escapes resolved."""
        assert self.peek() == '"'
        self.pos += 1
        out: list[str] = []
        while not self.at_end():
            ch = self.text[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(out)
            if ch == "\\":
                if self.pos + 1 >= len(self.text):
                    break
                ch = self.text[self.pos + 1]
                self.pos += 1
            elif ch in "\r\n":
                raise ChallengeParseError("WWW-Authenticate: line break inside a quoted value")
            out.append(ch)
            self.pos += 1
        raise ChallengeParseError("WWW-Authenticate: a quoted value is not closed")

    def param_ahead(self) -> bool:
        """Does a `name=value` auth-param start at `pos`? If not, what follows is a token68
        (`abc==`: nothing but `=` after the `=`) or the scheme of the next challenge."""
        start = self.pos
        try:
            if not self.run(_TCHARS):
                return False
            self.skip_ws()
            if self.peek() != "=":
                return False
            self.pos += 1
            self.skip_ws()
            return not self.at_end() and self.peek() not in ",="
        finally:
            self.pos = start


def parse_www_authenticate(header: str) -> list[Challenge]:
    """Every challenge of a `WWW-Authenticate` value, in order (RFC 7235 §4.1).

    One header may carry several challenges (`Basic realm="a", Bearer realm="b"`); a quoted value
    may hold commas (`scope="repository:a:pull,push"`) and backslash escapes; scheme and parameter
    names are case-insensitive (returned lower-case) while values keep their case. Unquoted values
    are read leniently up to the next comma or space, since some servers send bare URLs. The first
    of duplicate parameters wins. An empty header gives an empty list.
    """
    scanner = _Scanner(header)
    challenges: list[Challenge] = []
    scanner.skip_list_separators()
    while not scanner.at_end():
        challenges.append(_challenge(scanner))
        scanner.skip_list_separators()
    return challenges


def _challenge(scanner: _Scanner) -> Challenge:
    scheme = scanner.run(_TCHARS)
    if not scheme:
        raise ChallengeParseError(
            f"WWW-Authenticate: expected an authentication scheme at character {scanner.pos + 1}"
        )
    had_space = scanner.skip_ws()
    if scanner.at_end():
        return Challenge(scheme.lower())
    if scanner.peek() == ",":
        # `Basic , realm="x"`: the list rule allows empty elements before the first parameter.
        before = scanner.pos
        scanner.skip_list_separators()
        if not scanner.param_ahead():
            scanner.pos = before
            return Challenge(scheme.lower())
        had_space = True
    if not had_space:
        raise ChallengeParseError(
            f"WWW-Authenticate: unexpected {scanner.peek()!r} after scheme {scheme!r}"
        )
    if not scanner.param_ahead():
        token68 = scanner.run(_TOKEN68_CHARS)
        token68 += scanner.run(frozenset("="))
        scanner.skip_ws()
        if not token68 or not (scanner.at_end() or scanner.peek() == ","):
            raise ChallengeParseError(
                f"WWW-Authenticate: malformed parameters for scheme {scheme!r}"
            )
        return Challenge(scheme.lower(), token68=token68)
    params: dict[str, str] = {}
    while True:
        name = scanner.run(_TCHARS).lower()
        scanner.skip_ws()
        scanner.pos += 1  # the "=" that param_ahead() saw
        scanner.skip_ws()
        if scanner.peek() == '"':
            value = scanner.quoted_string()
        else:
            value = _bare_value(scanner)
        params.setdefault(name, value)
        scanner.skip_ws()
        if scanner.at_end():
            break
        if scanner.peek() != ",":
            raise ChallengeParseError(
                f"WWW-Authenticate: expected ',' after parameter {name!r}, found {scanner.peek()!r}"
            )
        scanner.skip_list_separators()
        if scanner.at_end() or not scanner.param_ahead():
            break  # the next challenge (or the end) starts here
    return Challenge(scheme.lower(), MappingProxyType(params))


def _bare_value(scanner: _Scanner) -> str:
    start = scanner.pos
    while not scanner.at_end() and scanner.peek() not in ', \t"':
        scanner.pos += 1
    value = scanner.text[start : scanner.pos]
    if not value:
        raise ChallengeParseError(f"WWW-Authenticate: missing value at character {scanner.pos + 1}")
    return value


def choose_challenge(challenges: list[Challenge]) -> Challenge | None:
    """The challenge to answer: Bearer (a token scoped to one repository) before Basic, as
    docker's client does; None when the registry offers neither."""
    for scheme in ("bearer", "basic"):
        for challenge in challenges:
            if challenge.scheme == scheme:
                return challenge
    return None


def pull_scope(repository_path: str) -> str:
    """The token scope an existence or credential check asks for (A3): we build it ourselves,
    because the `/v2/` challenge has none or (GHCR) a placeholder."""
    if not repository_path or any(ch.isspace() for ch in repository_path):
        raise ValueError(f"not a repository path: {repository_path!r}")
    return f"repository:{repository_path}:pull"


def token_request_params(
    challenge: Challenge, *, scopes: list[str], username: str | None
) -> list[tuple[str, str]]:
    """Query parameters of the token GET (A4): `service`, `account` when we have a user name,
    then one `scope` per scope (never the challenge's own scope: see `pull_scope`)."""
    params: list[tuple[str, str]] = []
    if challenge.service is not None:
        params.append(("service", challenge.service))
    if username:
        params.append(("account", username))
    params.extend(("scope", scope) for scope in scopes)
    return params


# --- tokens ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A registry bearer token and the moment it stops being usable. Its `repr` hides it."""

    value: str = field(repr=False)
    expires_at: datetime

    def __repr__(self) -> str:
        return f"IssuedToken(value='***', expires_at={self.expires_at.isoformat()!r})"

    def usable_at(self, now: datetime, *, margin: timedelta = timedelta(seconds=5)) -> bool:
        """Still worth sending at `now`: `margin` covers the time the request takes."""
        return now + margin < self.expires_at


def parse_token_response(body: bytes, *, received_at: datetime) -> IssuedToken:
    """Read a token endpoint's JSON (A4).

    `access_token` wins over `token`; `expires_in` defaults to, and is raised to, 60 s;
    `issued_at` (RFC 3339) starts the lifetime, else `received_at` does. A server clock ahead of
    ours must not stretch the lifetime, so an `issued_at` after `received_at` is ignored.
    """
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    payload = _json_object(body, what="token response")
    value = payload.get("access_token") or payload.get("token")
    if not isinstance(value, str) or not value.strip():
        raise MalformedResponse("token response: no token or access_token")
    lifetime = _seconds(payload.get("expires_in"))
    issued = _rfc3339(payload.get("issued_at"))
    start = issued if issued is not None and issued <= received_at else received_at
    return IssuedToken(value=value.strip(), expires_at=start + lifetime)


def _seconds(value: object) -> timedelta:
    seconds: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = float(value)
        except ValueError:
            seconds = None
    if seconds is None or seconds != seconds:  # absent, junk or NaN
        return MIN_TOKEN_LIFETIME
    try:
        return max(timedelta(seconds=seconds), MIN_TOKEN_LIFETIME)
    except OverflowError:
        return timedelta(days=365)  # absurd but positive: the registry will say when it ends


def _rfc3339(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().upper())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


# --- pagination ------------------------------------------------------------------------------

_LINK_PARAM: Final = re.compile(
    r';\s*([A-Za-z0-9!#$%&\'*+.^_`|~-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*)'
)


def next_link(link_header: str | None, request_url: str) -> str | None:
    """The absolute URL of the `rel="next"` target of a `Link` header (RFC 8288), if any.

    Registries often send it relative (`</v2/a/tags/list?n=2&last=b>; rel="next"`): it is
    resolved against the URL of the request that returned it.
    """
    if not link_header:
        return None
    pos = 0
    text = link_header
    while True:
        start = text.find("<", pos)
        if start < 0:
            return None
        end = text.find(">", start)
        if end < 0:
            return None
        target = text[start + 1 : end].strip()
        pos = end + 1
        rels: list[str] = []
        while True:
            match = _LINK_PARAM.match(text, pos)
            if match is None:
                break
            pos = match.end()
            name, value = match.group(1).lower(), match.group(2)
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            if name == "rel":
                rels.extend(value.lower().split())
        if "next" in rels and target:
            return urljoin(request_url, target)


# --- manifests -------------------------------------------------------------------------------


def media_type_of(content_type: str | None) -> str | None:
    """`application/vnd…+json; charset=utf-8` -> `application/vnd…+json` (A6: ignore params)."""
    if not content_type:
        return None
    bare = content_type.split(";", 1)[0].strip().lower()
    return bare or None


def platforms_of(index_json: bytes) -> list[str]:
    """`os/architecture[/variant]` of each image an OCI index or Docker manifest list holds.

    Attestation manifests (buildx stores them as `unknown/unknown` entries) and entries without
    a platform are skipped; duplicates are listed once, in order.
    """
    payload = _json_object(index_json, what="image index")
    manifests = payload.get("manifests")
    if not isinstance(manifests, list):
        raise MalformedResponse("image index: no 'manifests' list")
    platforms: list[str] = []
    for entry in manifests:
        if not isinstance(entry, dict):
            continue
        platform = entry.get("platform")
        if not isinstance(platform, dict):
            continue
        os_name, arch = platform.get("os"), platform.get("architecture")
        if not isinstance(os_name, str) or not isinstance(arch, str):
            continue
        if os_name == "unknown" or arch == "unknown":
            continue
        parts = [os_name, arch]
        variant = platform.get("variant")
        if isinstance(variant, str) and variant:
            parts.append(variant)
        text = "/".join(parts)
        if text not in platforms:
            platforms.append(text)
    return platforms


# --- rate limits -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Docker Hub's pull allowance as its headers state it (B1): `100;w=21600`."""

    limit: int
    remaining: int | None
    window_seconds: int | None
    source: str | None = None


def rate_limit_of(headers: Mapping[str, str]) -> RateLimit | None:
    """Read `ratelimit-limit`, `ratelimit-remaining` and `docker-ratelimit-source`.

    No (or an unreadable) `ratelimit-limit` means the registry states no limit: None.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    limit = _quota(lowered.get("ratelimit-limit"))
    if limit is None:
        return None
    remaining = _quota(lowered.get("ratelimit-remaining"))
    source = lowered.get("docker-ratelimit-source")
    return RateLimit(
        limit=limit[0],
        remaining=None if remaining is None else remaining[0],
        window_seconds=limit[1] if limit[1] is not None else (remaining or (0, None))[1],
        source=source.strip() if source else None,
    )


def _quota(value: str | None) -> tuple[int, int | None] | None:
    """`100;w=21600` -> (100, 21600); `100` -> (100, None)."""
    if value is None:
        return None
    first, *params = value.split(";")
    try:
        amount = int(first.strip())
    except ValueError:
        return None
    window: int | None = None
    for param in params:
        name, _, raw = param.partition("=")
        if name.strip().lower() == "w":
            try:
                window = int(raw.strip())
            except ValueError:
                window = None
    return amount, window


# --- hosts and errors ------------------------------------------------------------------------


def registry_api_host(domain: str) -> str:
    """Where a registry's API lives: Docker Hub's names all map to `registry-1.docker.io`
    (B1); every other registry serves its API under its own name."""
    return DOCKER_HUB_API_HOST if domain.lower() in _DOCKER_HUB_NAMES else domain


def parse_error_body(body: bytes) -> list[tuple[str, str]]:
    """`(code, message)` of each entry of an `{"errors": […]}` body (A7).

    Anything else (ECR's plain-text `Not Authorized`, an HTML page, an empty HEAD body) gives
    an empty list: callers fall back to the status code.
    """
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return []
    if not isinstance(payload, dict) or not isinstance(payload.get("errors"), list):
        return []
    out: list[tuple[str, str]] = []
    for entry in payload["errors"]:
        if isinstance(entry, dict) and isinstance(entry.get("code"), str):
            message = entry.get("message")
            out.append((entry["code"].upper(), message if isinstance(message, str) else ""))
    return out


def _json_object(body: bytes, *, what: str) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise MalformedResponse(f"{what}: not JSON") from None
    if not isinstance(payload, dict):
        raise MalformedResponse(f"{what}: not a JSON object")
    return payload
