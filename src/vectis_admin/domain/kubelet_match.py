"""Which `auths` key of a pull secret kubelet uses for an image, reproduced without a cluster.

A pull secret that exists but does not match is the most confusing failure an operator meets:
the Secret is there, the pod references it, and kubelet still pulls anonymously and gets a 401.
The rules live in kubernetes `pkg/credentialprovider` (`keyring.go`, `config.go`) and are
transcribed here so that the console can say, before anything is deployed, whether a secret
will be used for an image and, if not, why (REGISTRY-REFERENCE C3):

1. The secret's JSON is decoded with Go's `encoding/json` (field names match case-insensitively,
   a value of the wrong type is an error) and a non-empty `auth` must be base64 of
   `user:password`. Any error rejects the *whole* secret and fails every image pull of a pod
   that lists it, whichever entry was at fault.
2. Each key gets `https://` unless it starts with `http://` or `https://`, is parsed as a URL
   (Go `net/url`; a key that does not parse is ignored), loses its scheme, and a leading `/v1/`
   or `/v2/` path becomes `/`; the index key is `host[:port]` plus the remaining path unless it
   is empty or `/`. `https://index.docker.io/v1/` -> `index.docker.io`.
3. The image is reduced to its normalised repository: `nginx` -> `docker.io/library/nginx`.
4. Index keys are tried in reverse lexical order ("most specific first"). A key matches when the
   ports are equal (no port matches only no port), both host names have the same number of
   dot-separated labels, each key label is a Go `filepath.Match` glob of the image's label
   (case-sensitive), and the key's path is a plain *string* prefix of the image path
   (`docker.io/lib` matches `docker.io/library/nginx`).
5. When no key matched and the image "looks like" Docker Hub, the credentials under exactly
   `index.docker.io` are used.

Docker Hub, in practice. Images are normalised to the domain `docker.io`, so a key `docker.io`
matches them directly (same two labels), while `index.docker.io` (three labels) never does: the
keys `https://index.docker.io/v1/`, `index.docker.io/v1/` and `index.docker.io` only work
through the fallback of rule 5. That fallback is why kubectl's default key works, and it is
the key the console writes (`dockerconfig.DOCKER_HUB_KEY`). `registry-1.docker.io` is neither
`docker.io` nor exactly `index.docker.io`, so it never matches. The fallback's test is
kubelet's `isDefaultRegistryMatch`, which looks only at the first path component: it is also
true for `localhost/app` and for an upper-case first component, and kubelet really does offer
Docker Hub credentials to such images; this module reproduces that rather than hiding it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from vectis_admin.domain.images import parse_image_reference
from vectis_admin.errors import InvalidInput

__all__ = [
    "DEFAULT_REGISTRY_KEY",
    "MatchKey",
    "MatchResult",
    "image_repository",
    "key_matches_image",
    "matching_key",
    "matching_keys",
    "normalize_auths_key",
    "pull_secret_matches",
]

# kubelet's `defaultRegistryHost`: the only index key the Docker Hub fallback looks up.
DEFAULT_REGISTRY_KEY: Final = "index.docker.io"

_HEX: Final = frozenset("0123456789abcdefABCDEF")
# Go `shouldEscape(c, encodeHost)` is false for these ASCII bytes; any other ASCII byte but
# '%' makes url.Parse refuse the host. Non-ASCII is let through, as in Go.
_HOST_ASCII: Final = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!$&'()*+,;=:[]<>\""
)
# Go `validUserinfo`.
_USERINFO_ASCII: Final = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:~!$&'()*+,;=%@"
)
_PORT_RE: Final = re.compile(r"[0-9]*")


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchKey:
    """An `auths` key as kubelet indexes it.

    `key` is the index string (`host[:port][/path]`, the sort key); `host`, `port` and `path`
    are what the matcher compares after re-parsing it. `port` is None when there is none.
    `host` is as Go's `net.SplitHostPort` leaves it: brackets of an IPv6 literal are removed
    only when a port follows.
    """

    key: str
    host: str
    port: str | None
    path: str

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.host.split("."))


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchResult:
    """What kubelet would do with one pull secret for one image.

    `matched_key` is the original `auths` key kubelet tries first, or None (anonymous pull);
    `candidates` are all keys it would try, in order. `keyring_failed` means kubelet rejects
    the whole secret and the pull fails (invalid JSON, a value of the wrong type, a malformed
    `auth`). `reason` is for operators and never holds a credential.
    """

    matched_key: str | None
    reason: str
    candidates: tuple[str, ...] = ()
    keyring_failed: bool = False

    @property
    def matched(self) -> bool:
        return self.matched_key is not None


# --- keys and images -------------------------------------------------------------------------


def normalize_auths_key(key: str) -> MatchKey:
    """The index entry kubelet makes of an `auths` key (`keyring.go` `BasicDockerKeyring.Add`).

    Raises InvalidInput when Go's URL parser refuses the key: kubelet ignores such a key.
    """
    value = key if key.startswith(("https://", "http://")) else "https://" + key
    parsed = _parse_url(value)
    if parsed is None:
        raise InvalidInput.one("auths_key", "is not a URL kubelet can parse; kubelet ignores it")
    host, path = parsed
    if path.startswith(("/v2/", "/v1/")):
        path = path[3:]
    index_key = host + path if path not in ("", "/") else host
    return _match_key(index_key)


def image_repository(image_ref: str) -> str:
    """The repository kubelet looks credentials up for: `nginx` -> `docker.io/library/nginx`.

    Tag and digest are dropped (kubelet's `ParseImageName` returns `Name()`), and
    `index.docker.io/...` becomes `docker.io/...`.
    """
    return parse_image_reference(image_ref).repository


def key_matches_image(key: str, image: str) -> bool:
    """Would kubelet use a secret holding only `key` for `image`?

    True for a direct match (rule 4) and for the Docker Hub fallback (rule 5); a key kubelet
    cannot parse matches nothing.
    """
    return bool(matching_keys([key], image))


def matching_keys(auths_keys: Iterable[str], image: str) -> list[str]:
    """Every key kubelet would try for `image`, in its order (it tries each until one pulls).

    Keys with the same index entry keep their given order (kubelet's order for those comes
    from a Go map and is random).
    """
    return _lookup(auths_keys, image_repository(image))[0]


def matching_key(auths_keys: Iterable[str], image: str) -> str | None:
    """The key kubelet tries first for `image`, or None when it would pull anonymously."""
    found = matching_keys(auths_keys, image)
    return found[0] if found else None


def _lookup(auths_keys: Iterable[str], repository: str) -> tuple[list[str], bool]:
    """(keys in kubelet's order, whether they come from the Docker Hub fallback)."""
    index: dict[str, list[str]] = {}
    for key in auths_keys:
        try:
            index.setdefault(normalize_auths_key(key).key, []).append(key)
        except InvalidInput:
            continue
    target = _match_key(repository)
    found: list[str] = []
    for index_key in sorted(index, reverse=True):
        if _urls_match(_match_key(index_key), target):
            found.extend(index[index_key])
    if not found and DEFAULT_REGISTRY_KEY in index and _is_default_registry_match(repository):
        return list(index[DEFAULT_REGISTRY_KEY]), True
    return found, False


# --- a whole secret --------------------------------------------------------------------------


def pull_secret_matches(dockerconfigjson_text: str, image: str) -> MatchResult:
    """Read a `.dockerconfigjson` as kubelet does and say which key, if any, serves `image`.

    Raises InvalidInput only for an invalid image reference; every problem of the secret is
    reported in the result.
    """
    repository = image_repository(image)
    auths = _read_auths(dockerconfigjson_text)
    if isinstance(auths, str):
        return MatchResult(
            matched_key=None,
            reason=f"kubelet cannot read this secret ({auths}), so every image pull of a pod "
            "that lists it fails",
            keyring_failed=True,
        )
    found, fallback = _lookup(auths, repository)
    if found:
        via = (
            " through kubelet's Docker Hub fallback to its index.docker.io entry"
            if fallback
            else ""
        )
        return MatchResult(
            matched_key=found[0],
            reason=f"kubelet uses the key {_shown(found[0])} for {repository}{via}",
            candidates=tuple(found),
        )
    return MatchResult(matched_key=None, reason=_no_match_reason(auths, repository))


def _read_auths(text: str) -> list[str] | str:
    """The `auths` keys in order, or why Go's decoding of the secret fails (no secret quoted).

    Go decodes as it reads: an entry whose decoding fails stops everything even if a later
    duplicate key would have replaced it, a wrongly typed value fails the decoding at its end,
    and a second `auths` object is merged into the first (null empties it).
    """
    try:
        document = json.loads(text, object_pairs_hook=_Pairs, parse_constant=_refuse_constant)
    except ValueError:
        return "its .dockerconfigjson is not valid JSON"
    if document is None:
        return []
    if not isinstance(document, _Pairs):
        return "its .dockerconfigjson is not a JSON object"
    for headers in document.values_of("HttpHeaders"):
        if headers is not None and not (
            isinstance(headers, _Pairs) and all(v is None or isinstance(v, str) for _, v in headers)
        ):
            return '"HttpHeaders" is not an object of strings'
    entries: dict[str, None] = {}
    for auths in document.values_of("auths"):
        if auths is None:
            entries = {}
            continue
        if not isinstance(auths, _Pairs):
            return '"auths" is not a JSON object'
        for key, entry in auths:
            problem = _entry_problem(entry)
            if problem is not None:
                return f"the entry {_shown(key)} {problem}"
            entries[key] = None
    return list(entries)


def _entry_problem(entry: object) -> str | None:
    if entry is None:
        return None  # Go decodes null into an empty entry: the key is still indexed
    if not isinstance(entry, _Pairs):
        return "is not a JSON object"
    for name in ("username", "password", "email", "auth"):
        if any(v is not None and not isinstance(v, str) for v in entry.values_of(name)):
            return f'has a "{name}" that is not a string'
    auths = [v for v in entry.values_of("auth") if v is not None]
    auth = auths[-1] if auths else ""  # a null leaves the value before it in place
    if isinstance(auth, str) and auth and not _valid_auth(auth):
        return 'has an "auth" that is not base64 of user:password'
    return None


def _valid_auth(field: str) -> bool:
    """`config.go` `decodeDockerConfigFieldAuth`: padded or raw standard base64 of `u:p`."""
    data = field.replace("\r", "").replace("\n", "")  # Go's decoder skips CR and LF
    padded = field.strip().endswith("=")
    if not padded:
        if "=" in data or len(data) % 4 == 1:
            return False
        data += "=" * (-len(data) % 4)
    elif len(data) % 4:
        return False
    try:
        decoded = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in decoded


class _Pairs(list[tuple[str, object]]):
    """A decoded JSON object with its key order and duplicates, read the way Go reads it."""

    def values_of(self, name: str) -> list[object]:
        # encoding/json matches field names case-insensitively, each occurrence in turn.
        return [item for key, item in self if key.lower() == name.lower()]


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _no_match_reason(keys: Sequence[str], repository: str) -> str:
    base = f"no key of this secret matches {repository}, so kubelet pulls it without credentials"
    if not keys:
        return base + " (the secret has no auths entries)"
    target = _match_key(repository)
    hints: list[str] = []
    for key in keys:
        try:
            hint = _mismatch(normalize_auths_key(key), target)
        except InvalidInput:
            hint = "is not a URL kubelet can parse (ignored)"
        hints.append(f"{_shown(key)} {hint}")
    return f"{base}: " + "; ".join(hints)


def _mismatch(key: MatchKey, target: MatchKey) -> str:
    if key.key == "registry-1.docker.io" and target.host == "docker.io":
        return "never matches Docker Hub images (use https://index.docker.io/v1/)"
    if key.port != target.port:
        return f"has port {key.port or 'none'}, the image has {target.port or 'none'}"
    if len(key.labels) != len(target.labels):
        return (
            f"has {len(key.labels)} host labels, the image's host {target.host} has "
            f"{len(target.labels)} (a '*' matches exactly one label)"
        )
    if not target.path.startswith(key.path):
        return f"has the path {key.path}, which does not start the image path {target.path}"
    return f"has a host that does not match {target.host}"


def _shown(key: str) -> str:
    # A key such as `https://user:secret@host` would carry a password into the message.
    scheme, sep, rest = key.rpartition("://")
    authority, slash, tail = rest.partition("/")
    if "@" in authority:
        key = f"{scheme}{sep}***@{authority.rpartition('@')[2]}{slash}{tail}"
    return json.dumps(key)


# --- Go's net/url, net.SplitHostPort and filepath.Match, as far as kubelet needs them --------


def _match_key(index_key: str) -> MatchKey:
    """`URLsMatchStr` re-parses the index key (as `https://` + key) before comparing."""
    parsed = _parse_url("https://" + index_key)
    host, path = parsed if parsed is not None else (index_key, "")
    name, port = _split_host_port(host)
    return MatchKey(key=index_key, host=name, port=port or None, path=path)


def _urls_match(key: MatchKey, target: MatchKey) -> bool:
    """`keyring.go` `URLsMatch`: port, label count, path prefix, then a glob per label."""
    if key.port != target.port or len(key.labels) != len(target.labels):
        return False
    if not target.path.startswith(key.path):
        return False
    return all(_glob_match(g, t) for g, t in zip(key.labels, target.labels, strict=True))


def _is_default_registry_match(repository: str) -> bool:
    """`keyring.go` `isDefaultRegistryMatch`, on the normalised repository."""
    first, slash, _ = repository.partition("/")
    if not first:
        return False
    if not slash or first in ("docker.io", "index.docker.io"):
        return True
    return not any(c in first for c in ".:")


def _parse_url(raw: str) -> tuple[str, str] | None:
    """(host with port, unescaped path) of an absolute http(s) URL, or None when Go refuses it."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return None
    raw, _, fragment = raw.partition("#")
    if _unescape(fragment, host=False) is None:
        return None
    rest = raw.partition("://")[2]
    if rest.endswith("?") and rest.count("?") == 1:
        rest = rest[:-1]
    else:
        rest = rest.partition("?")[0]
    slash = rest.find("/")
    authority, path = (rest, "") if slash < 0 else (rest[:slash], rest[slash:])
    at = authority.rfind("@")
    if at >= 0:
        userinfo, authority = authority[:at], authority[at + 1 :]
        if not all(c in _USERINFO_ASCII or ord(c) >= 0x80 for c in userinfo):
            return None
        if _unescape(userinfo, host=False) is None:
            return None
    host = _parse_host(authority)
    unescaped_path = _unescape(path, host=False)
    if host is None or unescaped_path is None:
        return None
    return host, unescaped_path


def _parse_host(host: str) -> str | None:
    if host.startswith("["):
        end = host.rfind("]")
        if end < 0 or not _valid_optional_port(host[end + 1 :]):
            return None
    elif (colon := host.rfind(":")) >= 0 and not _valid_optional_port(host[colon:]):
        return None
    if not all(c in _HOST_ASCII or c == "%" or ord(c) >= 0x80 for c in host):
        return None
    return _unescape(host, host=True)


def _valid_optional_port(port: str) -> bool:
    return port == "" or (port[0] == ":" and _PORT_RE.fullmatch(port[1:]) is not None)


def _unescape(text: str, *, host: bool) -> str | None:
    """Go `url.unescape`: `%XX` must be hex; in a host only non-ASCII bytes or `%25`."""
    if "%" not in text:
        return text
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c != "%":
            out += c.encode("utf-8", "surrogatepass")
            i += 1
            continue
        pair = text[i + 1 : i + 3]
        if len(pair) < 2 or not set(pair) <= _HEX:
            return None
        if host and int(pair[0], 16) < 8 and pair != "25":
            return None
        out.append(int(pair, 16))
        i += 3
    return out.decode("utf-8", "surrogateescape")


def _split_host_port(hostport: str) -> tuple[str, str]:
    """Go `net.SplitHostPort`; on any error kubelet keeps the whole text and no port."""
    colon = hostport.rfind(":")
    if colon < 0:
        return hostport, ""
    start, end_index = 0, 0
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0 or end + 1 != colon:
            return hostport, ""
        host = hostport[1:end]
        start, end_index = 1, end + 1
    else:
        host = hostport[:colon]
        if ":" in host:
            return hostport, ""
    if "[" in hostport[start:] or "]" in hostport[end_index:]:
        return hostport, ""
    return host, hostport[colon + 1 :]


def _glob_match(pattern: str, name: str) -> bool:
    """Go `filepath.Match` on one host label; a malformed pattern matches nothing."""
    regex = _glob_regex(pattern)
    return regex is not None and regex.fullmatch(name) is not None


def _glob_regex(pattern: str) -> re.Pattern[str] | None:
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            parts.append("[^/]*")
            i += 1
        elif c == "?":
            parts.append("[^/]")
            i += 1
        elif c == "\\":
            if i + 1 >= len(pattern):
                return None
            parts.append(re.escape(pattern[i + 1]))
            i += 2
        elif c == "[":
            cls = _glob_class(pattern, i + 1)
            if cls is None:
                return None
            regex, i = cls
            parts.append(regex)
        else:
            parts.append(re.escape(c))
            i += 1
    return re.compile("".join(parts), re.DOTALL)


def _glob_class(pattern: str, i: int) -> tuple[str, int] | None:
    """A `[^a-z\\]]` class starting after `[`: (regex, index after `]`), or None if malformed."""
    negated = pattern.startswith("^", i)
    i += negated
    ranges: list[str] = []
    first = True
    while True:
        if i >= len(pattern):
            return None
        if pattern[i] == "]" and not first:
            i += 1
            break
        first = False
        lo = _glob_class_char(pattern, i)
        if lo is None:
            return None
        low, i = lo
        high = low
        if pattern.startswith("-", i):
            hi = _glob_class_char(pattern, i + 1)
            if hi is None:
                return None
            high, i = hi
        if low <= high:  # Go accepts an inverted range, which matches nothing
            ranges.append(f"\\U{ord(low):08x}-\\U{ord(high):08x}")
    body = "".join(ranges)
    if negated:
        return (f"[^/{body}]", i)
    return (f"[{body}]" if body else "(?!)", i)


def _glob_class_char(pattern: str, i: int) -> tuple[str, int] | None:
    if i >= len(pattern) or pattern[i] in "-]":
        return None
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            return None
    return pattern[i], i + 1
