"""Image references (`nginx`, `ghcr.io/org/app:1.2`, `host:5000/a@sha256:…`), parsed as Docker does.

Operators type image names the short way; the console has to turn them into what kubelet and the
registry see (`docker.io/library/nginx:latest`) before it can pick a registry, check that a tag
exists or match a pull secret. The grammar and normalisation follow distribution/reference
(`regexp.go`, `normalize.go`, `reference.go`) so that the console never accepts a name the
container runtime would refuse, nor refuses one it would accept. The tag, path and digest
validators are public because the registry catalogue checks its default image path and tag with
the same rules.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from vectis_admin.errors import FieldIssue, InvalidInput

__all__ = [
    "DEFAULT_DOMAIN",
    "DEFAULT_TAG",
    "ImageReference",
    "parse_image_reference",
    "validate_digest",
    "validate_domain",
    "validate_repository_path",
    "validate_tag",
    "image_in_registry",
]

DEFAULT_DOMAIN: Final = "docker.io"
DEFAULT_TAG: Final = "latest"
_LEGACY_DOMAIN: Final = "index.docker.io"
_OFFICIAL_PREFIX: Final = "library/"
_MAX_PATH: Final = 255

# distribution/reference regexp.go, transcribed. `\w` in Go (RE2) is ASCII-only, hence the
# explicit classes.
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH_RE: Final = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME_RE: Final = re.compile(rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*")
_IPV6_RE: Final = re.compile(r"\[([a-fA-F0-9:]+)\]")
_TAG_RE: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST_RE: Final = re.compile(
    r"([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*):([0-9a-fA-F]{32,})"
)
_IDENTIFIER_RE: Final = re.compile(r"[a-f0-9]{64}")

# go-digest only accepts registered algorithms, each with an exact lowercase hex length; a
# registry would refuse anything else, so the grammar's looser `[0-9a-fA-F]{32,}` is not enough.
_DIGEST_HEX_LENGTHS: Final = {"sha256": 64, "sha384": 96, "sha512": 128}

_PATH_RULE: Final = (
    "must be path components of lowercase letters and digits, separated inside a component "
    "by '.', '_', '__' or dashes, and joined by '/'"
)
_TAG_RULE: Final = (
    "must be 1 to 128 characters: letters, digits, '_', '.' and '-', not starting with '.' or '-'"
)
_DIGEST_RULE: Final = (
    "must be 'algorithm:hex': sha256: and 64 lowercase hex digits "
    "(or sha384: and 96, sha512: and 128)"
)
_DOMAIN_RULE: Final = (
    "must be a host name, IPv4 address or [IPv6] address, with an optional port from 1 to 65535"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageReference:
    """A normalised image reference: `domain/path[:tag][@digest]`.

    `tag` is kept even when a digest is present, because it is what the operator wrote and is
    worth showing; but the runtime pulls by digest alone (distribution's `ParseDockerRef`), so
    `str()` and `familiar` drop the tag in that case. Construction validates every part.
    """

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    def __post_init__(self) -> None:
        issues = _part_issues(self.domain, self.path, self.tag, self.digest, field="image")
        if issues:
            raise InvalidInput(issues)

    @property
    def repository(self) -> str:
        """`domain/path`: the name kubelet matches against pull-secret keys."""
        return f"{self.domain}/{self.path}"

    @property
    def familiar(self) -> str:
        """The Docker UI short form: `nginx:latest`, `org/app:1`, `ghcr.io/org/app:1`."""
        name = self.repository
        if self.domain == DEFAULT_DOMAIN:
            name = self.path
            rest = name.removeprefix(_OFFICIAL_PREFIX)
            # Only official images lose `library/`; `library/a/b` stays as written.
            if rest != name and "/" not in rest:
                name = rest
        return name + self._suffix()

    def __str__(self) -> str:
        return self.repository + self._suffix()

    def _suffix(self) -> str:
        if self.digest is not None:
            return f"@{self.digest}"
        if self.tag is not None:
            return f":{self.tag}"
        return ""


def parse_image_reference(text: str, *, field: str = "image") -> ImageReference:
    """Parse and normalise `text` the way `docker pull` does.

    `ubuntu` -> `docker.io/library/ubuntu:latest`; `index.docker.io/x/y` -> `docker.io/x/y`;
    no tag and no digest -> tag `latest`. Surrounding whitespace is ignored (pasted values).
    """
    text = text.strip()
    if not text:
        raise InvalidInput.one(field, "must not be empty")
    if any(ch.isspace() for ch in text):
        raise InvalidInput.one(field, "must not contain spaces")
    if _IDENTIFIER_RE.fullmatch(text):
        raise InvalidInput.one(
            field, "must be an image name, not a bare 64-character hexadecimal image id"
        )
    name, tag, digest = _split_reference(text)
    domain, path = _split_domain(name)
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    issues = _part_issues(domain, path, tag, digest, field=field)
    if issues:
        raise InvalidInput(issues)
    return ImageReference(domain=domain, path=path, tag=tag, digest=digest)


def validate_repository_path(path: str, *, field: str) -> str:
    """Check a repository path (`org/app`, no domain) and return it."""
    issues = _path_issues(path, field=field)
    if issues:
        raise InvalidInput(issues)
    return path


def validate_tag(tag: str, *, field: str) -> str:
    """Check a tag (`1.2.3`, `latest`, at most 128 characters) and return it."""
    if not _TAG_RE.fullmatch(tag):
        raise InvalidInput.one(field, _TAG_RULE)
    return tag


def validate_digest(digest: str, *, field: str) -> str:
    """Check a content digest (`sha256:<64 hex>`) and return it."""
    match = _DIGEST_RE.fullmatch(digest)
    if match is None:
        raise InvalidInput.one(field, _DIGEST_RULE)
    algorithm, hex_part = match.groups()
    expected = _DIGEST_HEX_LENGTHS.get(algorithm)
    if expected is None or len(hex_part) != expected or hex_part != hex_part.lower():
        raise InvalidInput.one(field, _DIGEST_RULE)
    return digest


def validate_domain(domain: str, *, field: str) -> str:
    """Check the registry part of an image name (`host`, `host:port`, `[::1]:5000`)."""
    host, port = _split_port(domain)
    if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
        raise InvalidInput.one(field, _DOMAIN_RULE)
    ipv6 = _IPV6_RE.fullmatch(host)
    if ipv6 is not None:
        try:
            ipaddress.IPv6Address(ipv6.group(1))
        except ValueError:
            raise InvalidInput.one(field, _DOMAIN_RULE) from None
    elif not _DOMAIN_NAME_RE.fullmatch(host):
        raise InvalidInput.one(field, _DOMAIN_RULE)
    return domain


def _split_reference(text: str) -> tuple[str, str | None, str | None]:
    """`name[:tag][@digest]` -> its three parts (not yet validated)."""
    name, at, digest = text.partition("@")
    # The tag colon is the last one after the last '/': earlier colons belong to a port.
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag: str | None = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag, (digest if at else None)


def _split_domain(name: str) -> tuple[str, str]:
    """distribution's `splitDockerDomain`: is the first component a registry host?"""
    first, slash, rest = name.partition("/")
    if not slash:
        return DEFAULT_DOMAIN, _OFFICIAL_PREFIX + name
    if first == _LEGACY_DOMAIN:
        domain, path = DEFAULT_DOMAIN, rest
    elif first == "localhost" or any(c in first for c in ".:") or first.lower() != first:
        # Namespaces on Docker Hub are lowercase, so an uppercase first component can only be a
        # host (distribution's current rule).
        domain, path = first, rest
    else:
        domain, path = DEFAULT_DOMAIN, name
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = _OFFICIAL_PREFIX + path
    return domain, path


def _split_port(domain: str) -> tuple[str, str | None]:
    if domain.startswith("["):
        host, bracket, rest = domain.partition("]")
        if rest and not rest.startswith(":"):
            return domain, None  # `[::1]x`: not a host at all, let the host check refuse it
        return host + bracket, (rest[1:] if rest else None)
    host, colon, port = domain.partition(":")
    return host, (port if colon else None)


def _path_issues(path: str, *, field: str, reject_id: bool = True) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    if not path:
        return [FieldIssue(field, "must not be empty")]
    if path.lower() != path:
        issues.append(FieldIssue(field, "must be lowercase"))
    elif not _PATH_RE.fullmatch(path):
        issues.append(FieldIssue(field, _PATH_RULE))
    elif reject_id and _IDENTIFIER_RE.fullmatch(path):
        # An image reference only refuses a bare id as the whole input (handled by the parser);
        # a stored repository path never has a reason to look like one.
        issues.append(
            FieldIssue(field, "must not be a bare 64-character hexadecimal string (an image id)")
        )
    if len(path) > _MAX_PATH:
        issues.append(FieldIssue(field, f"must be at most {_MAX_PATH} characters long"))
    return issues


def _part_issues(
    domain: str, path: str, tag: str | None, digest: str | None, *, field: str
) -> list[FieldIssue]:
    """Every broken rule of a reference's parts, all under `field`, each naming its part."""
    issues = _named("registry host", _issues_of(validate_domain, domain, field))
    issues += _named("repository path", _path_issues(path, field=field, reject_id=False))
    if tag is not None:
        issues += _named("tag", _issues_of(validate_tag, tag, field))
    if digest is not None:
        issues += _named("digest", _issues_of(validate_digest, digest, field))
    return issues


def _issues_of(check: Callable[..., str], value: str, field: str) -> list[FieldIssue]:
    try:
        check(value, field=field)
    except InvalidInput as exc:
        return exc.issues
    return []


def _named(part: str, issues: list[FieldIssue]) -> list[FieldIssue]:
    # The whole reference is one input field, so each rule says which part of it broke.
    return [FieldIssue(i.field, f"{part} {i.rule}") for i in issues]


def image_in_registry(text: str, *, registry_host: str, field: str = "image") -> tuple[str, str]:
    """(repository path, tag or digest) of an image given for one registry.

    Operators type `cpoder/vectis-server:1.2` (a path in this registry) or a full reference
    whose host must be this registry (`ghcr.io/cpoder/vectis-server:1.2`). A reference to
    another registry is refused: its credentials would be the wrong ones.
    """
    text = text.strip()
    name, tag, digest = _split_reference(text)
    first, slash, rest = name.partition("/")
    looks_like_host = slash and (first == "localhost" or any(c in first for c in ".:"))
    if looks_like_host:
        host = DEFAULT_DOMAIN if first in (_LEGACY_DOMAIN, "registry-1.docker.io") else first
        if host.lower() != registry_host.lower():
            raise InvalidInput.one(
                field, f"names the registry {host}, not {registry_host}: pick that registry"
            )
        name = rest
    if registry_host == DEFAULT_DOMAIN and "/" not in name:
        name = _OFFICIAL_PREFIX + name
    validate_repository_path(name, field=field)
    if digest is not None:
        return name, validate_digest(digest, field=field)
    return name, validate_tag(tag, field=field) if tag else DEFAULT_TAG
