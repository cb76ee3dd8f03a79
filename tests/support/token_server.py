"""A tiny Docker registry token server (stdlib HTTP + pyjwt) for tests.

It implements the token flow exactly as distribution 2.8 (Debian ``docker-registry``) accepts it
(see shared/TESTING.md §1 and REGISTRY-REFERENCE.md §A4-A5):

* ``GET <realm>?service=…&scope=repository:NAME:pull[,push]`` (``scope`` repeated and/or
  space-separated), with optional ``Authorization: Basic``. Unknown user or wrong password → 401.
  No credentials → anonymous token. A caller without a grant still gets 200 and a token whose
  ``access`` is empty (as Docker Hub, GHCR… do); the registry then answers 401
  ``insufficient_scope``.
* ``POST <realm>`` (OAuth2, form-encoded) with ``grant_type=password`` or ``refresh_token``
  (ACR-style); ``client_id`` is required (400 otherwise) unless ``require_client_id=False``.
* The JWT: header ``alg=RS256`` plus ``x5c`` (default) or a libtrust-format ``kid``; claims
  ``iss``, ``sub``, ``aud`` (a *string*), integer ``exp``/``nbf``/``iat``, ``jti`` and ``access``.
  The registry trusts :attr:`TokenServer.rootcert_path` (a self-signed certificate of the signing
  key, generated at start-up; nothing is stored in the repository).

Every request is recorded in :attr:`TokenServer.journal` (never the password).
"""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import hashlib
import json
import secrets
import shutil
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

__all__ = [
    "Grants",
    "TokenRequest",
    "TokenServer",
    "libtrust_key_id",
    "parse_scope",
]

TokenField = Literal["token", "access_token", "both"]
KeyIdStyle = Literal["x5c", "kid"]
#: repository name (or fnmatch pattern such as ``org/*``; ``registry:catalog`` for the catalog
#: scope) → actions (``pull``, ``push``, ``delete``, or ``*`` for whatever is asked).
Grants = Mapping[str, Iterable[str]]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def libtrust_key_id(public_key: rsa.RSAPublicKey) -> str:
    """The ``kid`` libtrust (and so distribution 2.8) derives from a public key.

    base32 of the first 30 bytes of sha256(DER SubjectPublicKeyInfo), ``=`` stripped, grouped by
    4 characters with ``:``.
    """
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i : i + 4] for i in range(0, len(b32), 4))


def parse_scope(scope: str) -> tuple[str, str, tuple[str, ...]] | None:
    """``repository(plugin):org/app:pull,push`` → ``("repository", "org/app", ("pull", "push"))``.

    The name may itself contain ``:`` (a ``host:port`` prefix), so type is up to the first ``:``
    and the actions after the last one. Returns None for something that is not a scope.
    """
    first = scope.find(":")
    last = scope.rfind(":")
    if first <= 0 or last == first:
        return None
    rtype = scope[:first]
    if "(" in rtype:  # resource class, e.g. repository(plugin)
        rtype = rtype[: rtype.index("(")]
    name = scope[first + 1 : last]
    actions = tuple(a for a in scope[last + 1 :].split(",") if a)
    if not name:
        return None
    return rtype, name, actions


@dataclass(frozen=True)
class TokenRequest:
    """One request seen by the token server (the password is never kept)."""

    method: str
    path: str
    basic_auth: bool
    username: str | None
    scopes: tuple[str, ...]
    service: str | None
    grant_type: str | None
    client_id: str | None
    status: int
    granted: tuple[dict[str, Any], ...] = field(default=())


class _Reply(Exception):
    def __init__(
        self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


class TokenServer:
    """Context manager running the token server on ``127.0.0.1:<free port>``.

    ``users``: name → password. ``acl``: name → :data:`Grants`. ``anonymous``: :data:`Grants`
    for callers without credentials (authenticated users get them too, like a public image).

    Response knobs (mutable at run time): ``expires_in`` (None: omitted from the body),
    ``token_lifetime`` (real ``exp`` of the JWT, default ``expires_in`` or 300 s),
    ``token_field`` (``token``, ``access_token`` or ``both``), ``include_issued_at`` /
    ``issued_at`` (override string), ``fail_status`` (answer every request with that status).
    """

    def __init__(
        self,
        *,
        service: str = "test-registry",
        issuer: str = "test-issuer",
        users: Mapping[str, str] | None = None,
        acl: Mapping[str, Grants] | None = None,
        anonymous: Grants | None = None,
        expires_in: int | None = 300,
        token_lifetime: int | None = None,
        token_field: TokenField = "both",
        include_issued_at: bool = True,
        issued_at: str | None = None,
        key_id_style: KeyIdStyle = "x5c",
        oauth2_post: bool = True,
        require_client_id: bool = True,
        path: str = "/token",
    ) -> None:
        self.service = service
        self.issuer = issuer
        self.expires_in = expires_in
        self.token_lifetime = token_lifetime
        self.token_field: TokenField = token_field
        self.include_issued_at = include_issued_at
        self.issued_at = issued_at
        self.key_id_style: KeyIdStyle = key_id_style
        self.oauth2_post = oauth2_post
        self.require_client_id = require_client_id
        self.fail_status: int | None = None
        self.path = path
        self.journal: list[TokenRequest] = []
        self._lock = threading.Lock()
        self._users: dict[str, str] = dict(users or {})
        self._acl: dict[str | None, dict[str, set[str]]] = {}
        self._refresh_tokens: dict[str, str] = {}
        for user, grants in (acl or {}).items():
            for pattern, actions in grants.items():
                self.grant(user, pattern, actions)
        for pattern, actions in (anonymous or {}).items():
            self.grant(None, pattern, actions)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: Path | None = None
        self._key: rsa.RSAPrivateKey | None = None
        self._cert: x509.Certificate | None = None

    # ------------------------------------------------------------------ users and grants

    def add_user(self, name: str, password: str, grants: Grants | None = None) -> None:
        """Add (or change the password of) a user, optionally with grants."""
        with self._lock:
            self._users[name] = password
        for pattern, actions in (grants or {}).items():
            self.grant(name, pattern, actions)

    def remove_user(self, name: str) -> None:
        with self._lock:
            self._users.pop(name, None)
            self._acl.pop(name, None)

    def grant(self, user: str | None, pattern: str, actions: Iterable[str]) -> None:
        """Give ``user`` (None: anonymous/everyone) ``actions`` on repositories matching
        ``pattern``."""
        with self._lock:
            self._acl.setdefault(user, {}).setdefault(pattern, set()).update(actions)

    def revoke(self, user: str | None, pattern: str | None = None) -> None:
        """Remove one grant of ``user`` (or all of them when ``pattern`` is None)."""
        with self._lock:
            if pattern is None:
                self._acl.pop(user, None)
            else:
                self._acl.get(user, {}).pop(pattern, None)

    def issue_refresh_token(self, user: str) -> str:
        """A refresh token for ``user`` (as ACR's ``/oauth2/exchange`` would hand out)."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._refresh_tokens[token] = user
        return token

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            self._refresh_tokens.clear()

    def clear_journal(self) -> None:
        with self._lock:
            self.journal.clear()

    def allowed_access(self, user: str | None, scopes: Iterable[str]) -> list[dict[str, Any]]:
        """The ``access`` claim ``user`` gets for the requested ``scopes``."""
        with self._lock:
            tables = [self._acl.get(None, {})]
            if user is not None:
                tables.append(self._acl.get(user, {}))
            tables = [dict(t) for t in tables]
        out: list[dict[str, Any]] = []
        for scope in scopes:
            parsed = parse_scope(scope)
            if parsed is None:
                continue
            rtype, name, wanted = parsed
            subject = name if rtype == "repository" else f"{rtype}:{name}"
            allowed: set[str] = set()
            for table in tables:
                for pattern, actions in table.items():
                    if fnmatch.fnmatchcase(subject, pattern):
                        allowed |= actions
            granted = list(wanted) if "*" in allowed else [a for a in wanted if a in allowed]
            if granted:
                out.append({"type": rtype, "name": name, "actions": granted})
        return out

    # ------------------------------------------------------------------ tokens

    @property
    def rootcert_pem(self) -> bytes:
        assert self._cert is not None, "TokenServer not started"
        return self._cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_id(self) -> str:
        """The libtrust ``kid`` of the signing key (sent when ``key_id_style="kid"``)."""
        assert self._key is not None, "TokenServer not started"
        return libtrust_key_id(self._key.public_key())

    @property
    def rootcert_path(self) -> Path:
        """The certificate bundle to give the registry as ``auth.token.rootcertbundle``."""
        assert self._tmp is not None, "TokenServer not started"
        return self._tmp / "token-rootcert.pem"

    def mint(
        self,
        access: Sequence[Mapping[str, Any]] | Grants = (),
        *,
        subject: str = "",
        lifetime: int | None = None,
        not_before: dt.datetime | None = None,
        audience: str | None = None,
        issuer: str | None = None,
        key_id_style: KeyIdStyle | None = None,
        extra_claims: Mapping[str, Any] | None = None,
    ) -> str:
        """Sign a registry token directly (no HTTP): for expired/foreign/odd tokens in tests.

        ``access`` is either the claim list or a mapping name → actions (repository type).
        """
        assert self._key is not None and self._cert is not None, "TokenServer not started"
        if isinstance(access, Mapping):
            claim = [
                {"type": "repository", "name": name, "actions": list(actions)}
                for name, actions in access.items()
            ]
        else:
            claim = [dict(a) for a in access]
        now = _now()
        if lifetime is None:
            lifetime = self.token_lifetime or self.expires_in or 300
        nbf = not_before or now
        claims: dict[str, Any] = {
            "iss": issuer if issuer is not None else self.issuer,
            "sub": subject,
            "aud": audience if audience is not None else self.service,
            "exp": int(now.timestamp()) + lifetime,
            "nbf": int(nbf.timestamp()),
            "iat": int(now.timestamp()),
            "jti": secrets.token_hex(16),
            "access": claim,
        }
        claims.update(extra_claims or {})
        style = key_id_style or self.key_id_style
        if style == "x5c":
            der = self._cert.public_bytes(serialization.Encoding.DER)
            headers: dict[str, Any] = {"x5c": [base64.b64encode(der).decode()]}
        else:
            headers = {"kid": libtrust_key_id(self._key.public_key())}
        return jwt.encode(claims, self._key, algorithm="RS256", headers=headers)

    def _token_body(
        self, user: str | None, scopes: Sequence[str], refresh_token: str | None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        access = self.allowed_access(user, scopes)
        token = self.mint(access, subject=user or "")
        body: dict[str, Any] = {}
        if self.token_field in ("token", "both"):
            body["token"] = token
        if self.token_field in ("access_token", "both"):
            body["access_token"] = token
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        if self.issued_at is not None:
            body["issued_at"] = self.issued_at
        elif self.include_issued_at:
            body["issued_at"] = _now().isoformat(timespec="seconds").replace("+00:00", "Z")
        if refresh_token is not None:
            body["refresh_token"] = refresh_token
        return body, access

    # ------------------------------------------------------------------ lifecycle

    @property
    def port(self) -> int:
        assert self._httpd is not None, "TokenServer not started"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def realm(self) -> str:
        return f"{self.url}{self.path}"

    def start(self) -> TokenServer:
        self._tmp = Path(tempfile.mkdtemp(prefix="vectis-token-"))
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vectis test token signer")])
        now = _now()
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .sign(self._key, hashes.SHA256())
        )
        self.rootcert_path.write_bytes(self.rootcert_pem)
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="vectis-token-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> TokenServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ request handling

    def _record(self, entry: TokenRequest) -> None:
        with self._lock:
            self.journal.append(entry)

    def _check_basic(self, header: str | None) -> tuple[bool, str | None]:
        """(Basic header present, authenticated user). Raises 401 on bad credentials."""
        if not header or not header.lower().startswith("basic "):
            return False, None
        try:
            user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise _Reply(400, {"details": "malformed basic auth header"}) from None
        self._authenticate(user, password)
        return True, user

    def _authenticate(self, user: str, password: str) -> None:
        with self._lock:
            ok = user in self._users and secrets.compare_digest(
                self._users[user].encode(), password.encode()
            )
        if not ok:
            raise _Reply(
                401,
                {"details": "incorrect username or password"},
                {"WWW-Authenticate": f'Basic realm="{self.realm}"'},
            )

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Answer one request (``headers`` with lower-case names)."""
        split = urlsplit(target)
        query = parse_qs(split.query, keep_blank_values=True)
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        params = query if method == "GET" else form

        def one(key: str) -> str | None:
            values = params.get(key)
            return values[0] if values else None

        scopes = tuple(s for raw in params.get("scope", []) for s in raw.split(" ") if s)
        auth_header = headers.get("authorization")
        basic = bool(auth_header and auth_header.lower().startswith("basic "))
        username: str | None = None  # the name tried, for the journal (never the password)
        grant_type = one("grant_type") if method == "POST" else None
        status = 500
        access: list[dict[str, Any]] = []
        try:
            if self.fail_status is not None:
                raise _Reply(self.fail_status, {"details": "forced failure"})
            if split.path != self.path:
                raise _Reply(404, {"details": "not found"})
            if method == "GET":
                if basic:
                    username = _basic_user(auth_header or "")
                basic, username = self._check_basic(auth_header)
                refresh = None
                if one("offline_token") == "true" and username is not None:
                    refresh = self.issue_refresh_token(username)
                reply, access = self._token_body(username, scopes, refresh)
            elif method == "POST":
                if not self.oauth2_post:
                    raise _Reply(405, {"details": "method not allowed"})
                if self.require_client_id and not one("client_id"):
                    raise _Reply(400, {"error": "invalid_request", "details": "missing client_id"})
                if grant_type == "password":
                    username = one("username") or ""
                    self._authenticate(username, one("password") or "")
                    refresh = self.issue_refresh_token(username)
                elif grant_type == "refresh_token":
                    refresh = one("refresh_token") or ""
                    with self._lock:
                        username = self._refresh_tokens.get(refresh)
                    if username is None:
                        raise _Reply(401, {"error": "invalid_grant"})
                else:
                    raise _Reply(400, {"error": "unsupported_grant_type"})
                reply, access = self._token_body(username, scopes, refresh)
                reply["scope"] = " ".join(scopes)
            else:
                raise _Reply(405, {"details": "method not allowed"})
            status, extra = 200, {}
        except _Reply as r:
            status, reply, extra = r.status, dict(r.body), r.headers
        self._record(
            TokenRequest(
                method=method,
                path=split.path,
                basic_auth=basic,
                username=username,
                scopes=scopes,
                service=one("service"),
                grant_type=grant_type,
                client_id=one("client_id"),
                status=status,
                granted=tuple(access),
            )
        )
        return status, reply, extra


def _basic_user(header: str) -> str | None:
    try:
        return base64.b64decode(header[6:].strip()).decode().partition(":")[0]
    except (ValueError, UnicodeDecodeError):
        return None


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        owner: TokenServer,
    ) -> None:
        self.owner = owner
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers at shutdown

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, reply, extra = self.server.owner.handle(self.command, self.path, headers, body)
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = _serve
    do_POST = _serve
    do_PUT = _serve
    do_DELETE = _serve
    do_HEAD = _serve
