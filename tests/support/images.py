"""Push tiny images to a registry over HTTP, without docker (httpx only).

* :func:`push_image` – one config blob + one layer blob (a real gzipped tar), then a Docker
  schema2 (``fmt="docker"``) or OCI (``fmt="oci"``) manifest under a tag (or by digest only).
* :func:`push_index` – an OCI index (``fmt="oci"``) or a Docker manifest list
  (``fmt="docker"``) for chosen platforms; the children are pushed by digest first.

Both return a :class:`PushedManifest` whose ``digest`` is the sha256 of the exact bytes pushed
(the registry's ``Docker-Content-Digest`` is checked against it).

Authentication: any ``httpx.Auth``: ``httpx.BasicAuth`` for an htpasswd registry, or
:class:`ChallengeAuth` (follows the registry's 401 challenge: Basic, or Bearer via the token
server with the user's credentials, as docker does) for a token registry, or
:class:`BearerToken` for a token minted directly. The blob upload dance (TESTING.md §1): ``HEAD
/v2/<name>/blobs/<digest>`` → ``POST /v2/<name>/blobs/uploads/`` (202 + ``Location``) → ``PUT
<Location>&digest=…`` (201) → ``PUT /v2/<name>/manifests/<ref>``.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import ssl
import tarfile
import threading
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urljoin

import httpx

__all__ = [
    "ACCEPT_ALL_MANIFESTS",
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "ChallengeAuth",
    "BearerToken",
    "Platform",
    "PushError",
    "PushedManifest",
    "delete_manifest",
    "parse_challenge",
    "push_image",
    "push_index",
    "sha256_digest",
]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
#: The ``Accept`` header a manifest existence check must send (REGISTRY-REFERENCE §A6).
ACCEPT_ALL_MANIFESTS = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST))

Format = Literal["oci", "docker"]


class PushError(RuntimeError):
    def __init__(self, message: str, response: httpx.Response | None = None) -> None:
        if response is not None:
            message = f"{message}: {response.status_code} {response.text[:500]}"
        super().__init__(message)
        self.response = response


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


# ---------------------------------------------------------------------------------- auth

_PARAM = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?')


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="…",service="…",scope="repository:a:pull,push"`` →
    ``("bearer", {"realm": …, "service": …, "scope": …})`` (scheme lower-cased, quoted values
    may contain commas)."""
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    for match in _PARAM.finditer(rest):
        key, value = match.group(1).lower(), match.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[key] = value
    return scheme.lower(), params


class BearerToken(httpx.Auth):
    """Send a fixed ``Authorization: Bearer <token>``."""

    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


_REPO_PATH = re.compile(r"^/v2/(.+?)/(?:blobs|manifests|tags)/")


class ChallengeAuth(httpx.Auth):
    """Docker-client-like auth: answer the registry's 401 challenge.

    Basic challenge → resend with Basic credentials. Bearer challenge → ``GET realm?service=…&
    scope=…`` (Basic credentials when given, anonymous otherwise) and resend with the token.
    Tokens are cached per repository and sent up front on the next request. ``actions`` are
    added to every repository scope asked for (default pull+push, so one token serves a push).
    """

    requires_response_body = True

    def __init__(
        self,
        username: str | None = None,
        password: str | None = None,
        *,
        actions: Sequence[str] = ("pull", "push"),
    ) -> None:
        self.username = username
        self.password = password
        self.actions = tuple(actions)
        self.token_requests = 0
        self._tokens: dict[str, str] = {}
        self._basic = False
        self._lock = threading.Lock()

    def _basic_header(self) -> str | None:
        if self.username is None:
            return None
        raw = f"{self.username}:{self.password or ''}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    @staticmethod
    def _repo(request: httpx.Request) -> str:
        match = _REPO_PATH.match(request.url.path)
        return match.group(1) if match else ""

    def _scope(self, repo: str, challenge_scope: str | None) -> list[str]:
        scopes = challenge_scope.split(" ") if challenge_scope else []
        if repo:
            wanted: list[str] = []
            for scope in scopes:
                if scope.startswith(f"repository:{repo}:"):
                    wanted.extend(scope.rsplit(":", 1)[1].split(","))
            actions = list(dict.fromkeys([*wanted, *self.actions]))
            scopes = [s for s in scopes if not s.startswith(f"repository:{repo}:")]
            scopes.append(f"repository:{repo}:{','.join(actions)}")
        return scopes

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        repo = self._repo(request)
        with self._lock:
            token = self._tokens.get(repo)
            basic = self._basic
        if token is not None:
            request.headers["Authorization"] = f"Bearer {token}"
        elif basic and self._basic_header():
            request.headers["Authorization"] = self._basic_header() or ""
        response = yield request
        if response.status_code != 401:
            return
        scheme, params = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        basic_header = self._basic_header()
        if scheme == "basic":
            if basic_header is None:
                return
            with self._lock:
                self._basic = True
            request.headers["Authorization"] = basic_header
            yield request
            return
        if scheme != "bearer" or "realm" not in params:
            return
        query: list[tuple[str, str | int | float | bool | None]] = []
        if "service" in params:
            query.append(("service", params["service"]))
        if self.username is not None:
            query.append(("account", self.username))
        query.extend(("scope", s) for s in self._scope(repo, params.get("scope")))
        token_request = httpx.Request("GET", params["realm"], params=query)
        if basic_header is not None:
            token_request.headers["Authorization"] = basic_header
        token_response = yield token_request
        self.token_requests += 1
        if token_response.status_code != 200:
            raise PushError("token request failed", token_response)
        payload = token_response.json()
        token = payload.get("access_token") or payload.get("token")
        if not token:
            raise PushError("token response without a token", token_response)
        with self._lock:
            self._tokens[repo] = token
        request.headers["Authorization"] = f"Bearer {token}"
        yield request


# ---------------------------------------------------------------------------------- images


@dataclass(frozen=True)
class Platform:
    os: str = "linux"
    architecture: str = "amd64"
    variant: str | None = None

    @classmethod
    def parse(cls, value: str | Platform) -> Platform:
        """``"linux/arm64/v8"`` → ``Platform("linux", "arm64", "v8")``."""
        if isinstance(value, Platform):
            return value
        parts = value.split("/")
        if len(parts) not in (2, 3):
            raise ValueError(f"platform must be os/arch[/variant]: {value!r}")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    def as_json(self) -> dict[str, str]:
        out = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            out["variant"] = self.variant
        return out


@dataclass(frozen=True)
class PushedManifest:
    """What was pushed: ``digest`` = sha256 of ``manifest`` (the exact bytes sent)."""

    name: str
    reference: str  # the tag, or the digest when pushed by digest only
    digest: str
    media_type: str
    manifest: bytes
    platform: Platform | None = None
    children: tuple[PushedManifest, ...] = field(default=())

    @property
    def size(self) -> int:
        return len(self.manifest)

    def child(self, platform: str | Platform) -> PushedManifest:
        """The child manifest for ``platform`` (index/list only)."""
        wanted = Platform.parse(platform)
        for child in self.children:
            if child.platform == wanted:
                return child
        raise KeyError(str(wanted))


def _layer(seed: str) -> tuple[bytes, bytes]:
    """(gzipped tar, uncompressed tar) with one file holding ``seed``; deterministic."""
    raw = io.BytesIO()
    content = f"vectis test layer {seed}\n".encode()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(content)
        info.mtime = 0
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(content))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), tar_bytes


@contextmanager
def _client(
    registry: str,
    auth: httpx.Auth | None,
    verify: ssl.SSLContext | bool,
    client: httpx.Client | None,
) -> Iterator[httpx.Client]:
    if client is not None:
        yield client
        return
    with httpx.Client(
        base_url=registry, auth=auth, verify=verify, trust_env=False, timeout=10.0
    ) as new:
        yield new


def _url(registry: str, path: str) -> str:
    return registry.rstrip("/") + path


def _push_blob(client: httpx.Client, registry: str, name: str, data: bytes) -> str:
    digest = sha256_digest(data)
    head = client.head(_url(registry, f"/v2/{name}/blobs/{digest}"))
    if head.status_code == 200:
        return digest
    start = client.post(_url(registry, f"/v2/{name}/blobs/uploads/"))
    if start.status_code != 202:
        raise PushError(f"starting blob upload to {name}", start)
    location = urljoin(str(start.url), start.headers["Location"])
    location += ("&" if "?" in location else "?") + f"digest={digest}"
    put = client.put(location, content=data, headers={"Content-Type": "application/octet-stream"})
    if put.status_code != 201:
        raise PushError(f"uploading blob {digest} to {name}", put)
    return digest


def _put_manifest(
    client: httpx.Client,
    registry: str,
    name: str,
    reference: str,
    media_type: str,
    body: bytes,
) -> str:
    digest = sha256_digest(body)
    response = client.put(
        _url(registry, f"/v2/{name}/manifests/{reference}"),
        content=body,
        headers={"Content-Type": media_type},
    )
    if response.status_code != 201:
        raise PushError(f"pushing manifest {name}:{reference}", response)
    echoed = response.headers.get("Docker-Content-Digest")
    if echoed is not None and echoed != digest:
        raise PushError(f"registry computed digest {echoed}, expected {digest}")
    return digest


def push_image(
    registry: str,
    name: str,
    tag: str | None = "latest",
    *,
    fmt: Format = "oci",
    platform: str | Platform = "linux/amd64",
    seed: str | None = None,
    auth: httpx.Auth | None = None,
    verify: ssl.SSLContext | bool = True,
    client: httpx.Client | None = None,
) -> PushedManifest:
    """Push a one-layer image as ``name:tag`` (``tag=None``: by digest only).

    ``registry`` is the base URL (``RegistryServer.url``). ``seed`` makes the content (and so
    the digest) unique; by default it is derived from name, tag and platform, so the same call
    gives the same digest. Pass ``client`` to reuse a connection/auth (then ``auth`` and
    ``verify`` are ignored).
    """
    plat = Platform.parse(platform)
    seed = seed if seed is not None else f"{name}:{tag}:{plat}"
    layer_gz, layer_tar = _layer(seed)
    config = _canonical(
        {
            "architecture": plat.architecture,
            "os": plat.os,
            **({"variant": plat.variant} if plat.variant else {}),
            "config": {"Cmd": ["/hello.txt"], "Labels": {"vectis.test.seed": seed}},
            "created": "1970-01-01T00:00:00Z",
            "rootfs": {"type": "layers", "diff_ids": [sha256_digest(layer_tar)]},
        }
    )
    if fmt == "oci":
        media_type, config_type, layer_type = OCI_MANIFEST, OCI_CONFIG, OCI_LAYER
    elif fmt == "docker":
        media_type, config_type, layer_type = DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER
    else:
        raise ValueError(f"fmt must be 'oci' or 'docker', not {fmt!r}")
    with _client(registry, auth, verify, client) as http:
        config_digest = _push_blob(http, registry, name, config)
        layer_digest = _push_blob(http, registry, name, layer_gz)
        manifest = _canonical(
            {
                "schemaVersion": 2,
                "mediaType": media_type,
                "config": {"mediaType": config_type, "size": len(config), "digest": config_digest},
                "layers": [
                    {"mediaType": layer_type, "size": len(layer_gz), "digest": layer_digest}
                ],
            }
        )
        digest = sha256_digest(manifest)
        _put_manifest(http, registry, name, tag or digest, media_type, manifest)
    return PushedManifest(
        name=name,
        reference=tag or digest,
        digest=digest,
        media_type=media_type,
        manifest=manifest,
        platform=plat,
    )


def push_index(
    registry: str,
    name: str,
    tag: str | None = "latest",
    platforms: Iterable[str | Platform] = ("linux/amd64", "linux/arm64"),
    *,
    fmt: Format = "oci",
    seed: str | None = None,
    auth: httpx.Auth | None = None,
    verify: ssl.SSLContext | bool = True,
    client: httpx.Client | None = None,
) -> PushedManifest:
    """Push an OCI index (``fmt="oci"``) or Docker manifest list (``fmt="docker"``) whose
    children (one image per platform, same format) are pushed by digest first."""
    plats = [Platform.parse(p) for p in platforms]
    if not plats:
        raise ValueError("an index needs at least one platform")
    if fmt == "oci":
        media_type = OCI_INDEX
    elif fmt == "docker":
        media_type = DOCKER_MANIFEST_LIST
    else:
        raise ValueError(f"fmt must be 'oci' or 'docker', not {fmt!r}")
    base_seed = seed if seed is not None else f"{name}:{tag}"
    with _client(registry, auth, verify, client) as http:
        children = tuple(
            push_image(
                registry, name, None, fmt=fmt, platform=p, seed=f"{base_seed}:{p}", client=http
            )
            for p in plats
        )
        index = _canonical(
            {
                "schemaVersion": 2,
                "mediaType": media_type,
                "manifests": [
                    {
                        "mediaType": c.media_type,
                        "size": c.size,
                        "digest": c.digest,
                        "platform": (c.platform or Platform()).as_json(),
                    }
                    for c in children
                ],
            }
        )
        digest = sha256_digest(index)
        _put_manifest(http, registry, name, tag or digest, media_type, index)
    return PushedManifest(
        name=name,
        reference=tag or digest,
        digest=digest,
        media_type=media_type,
        manifest=index,
        children=children,
    )


def delete_manifest(
    registry: str,
    name: str,
    digest: str,
    *,
    auth: httpx.Auth | None = None,
    verify: ssl.SSLContext | bool = True,
    client: httpx.Client | None = None,
) -> None:
    """``DELETE /v2/<name>/manifests/<digest>`` (the registry config enables deletes); the tags
    pointing at it disappear too."""
    with _client(registry, auth, verify, client) as http:
        response = http.delete(_url(registry, f"/v2/{name}/manifests/{digest}"))
        if response.status_code != 202:
            raise PushError(f"deleting {name}@{digest}", response)
