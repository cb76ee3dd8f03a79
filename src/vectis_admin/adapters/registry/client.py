"""A synchronous Registry HTTP API v2 client for one registry, built for Test Connection.

Test Connection must say precisely *why* a registry cannot be used (unknown host, refused port,
untrusted certificate, wrong password, no read access, missing tag…), so this client never lets a
raw httpx exception or status code out: every request goes through one choke point,
`RegistryClient._send`, which owns the timeout, the response size cap, redirects (followed by
hand, never carrying `Authorization` to another origin), the authentication dance and the
translation of failures. The protocol reading itself (challenges, token JSON, `Link`, index
bodies, rate-limit headers, error bodies) lives in `vectis_admin.domain.challenges`.

Failures are **raised**, never returned: every operation returns its success value or raises
`RegistryError`, an `UpstreamError` whose `reason` (a `RegistryFailure`) tells the failure
classes apart. `ping()` is the one place where a 401 is a normal answer (it reports the
challenge). Messages are for operators: upstream text is cut to 300 characters and scrubbed of
the password and of every token this client holds; the password never appears in a repr, a log
line or a message.

The authentication dance (REGISTRY-REFERENCE A3-A4, D): a request goes out anonymously, or with
what an earlier exchange taught us (Basic once the registry asked for Basic, a cached bearer token
for the same scope). On 401 the challenge decides: Basic -> retry once with Basic; Bearer ->
`GET realm?service=…&account=<user>&scope=repository:<path>:pull` with Basic credentials (or
anonymously without them), cache the token for that scope until its expiry, retry once. A client
object is cheap, holds connections and a token cache, and is not thread-safe.
"""

from __future__ import annotations

import base64
import email.utils
import json
import logging
import socket
import ssl
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from types import TracebackType
from typing import Final, Literal
from urllib.parse import urlencode

import httpx

from vectis_admin.domain.challenges import (
    ACCEPT_MANIFESTS,
    INDEX_MEDIA_TYPES,
    Challenge,
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
from vectis_admin.domain.checks import RegistryFailure, TagList
from vectis_admin.domain.images import (
    validate_digest,
    validate_domain,
    validate_repository_path,
    validate_tag,
)
from vectis_admin.errors import InvalidInput, UpstreamError

__all__ = [
    "ACR_REFRESH_TOKEN_USER",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "CredentialCheck",
    "ManifestInfo",
    "PingResult",
    "RegistryClient",
    "RegistryError",
    "RegistryFailure",
    "TagList",
    "tls_failure",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_RESPONSE_BYTES: Final = 4 * 1024 * 1024
_MAX_REDIRECTS: Final = 5
_MESSAGE_LIMIT: Final = 300
_REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
# OpenSSL X509_V_ERR_* codes (x509_vfy.h) behind ssl.SSLCertVerificationError.verify_code.
# Username ACR expects with an Azure AD refresh token as password (Azure/acr AAD-OAuth.md).
ACR_REFRESH_TOKEN_USER: Final = "00000000-0000-0000-0000-000000000000"
_UNKNOWN_CA_CODES: Final = frozenset({2, 18, 19, 20, 21})
_HOSTNAME_MISMATCH_CODES: Final = frozenset({62, 64})


class RegistryError(UpstreamError):
    """A registry call failed for `reason`; the message is already cut and scrubbed.

    `status` is the HTTP status when there was one, `error_codes` the registry's error codes
    (`MANIFEST_UNKNOWN`, `DENIED`…), `retry_after` the seconds a 429 asked us to wait and
    `rate_limit` the allowance the registry stated.
    """

    code = "registry_error"

    def __init__(
        self,
        reason: RegistryFailure,
        message: str,
        *,
        status: int | None = None,
        error_codes: tuple[str, ...] = (),
        retry_after: float | None = None,
        rate_limit: RateLimit | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status
        self.error_codes = error_codes
        self.retry_after = retry_after
        self.rate_limit = rate_limit

    def __repr__(self) -> str:
        return f"RegistryError({self.reason.value!r}, {self.message!r}, status={self.status})"


@dataclass(frozen=True, slots=True, kw_only=True)
class PingResult:
    """What `GET /v2/` said: 200 (no authentication needed) or 401 with its challenges."""

    status: int
    api_version: str | None
    auth_scheme: str | None
    realm: str | None
    service: str | None
    challenges: tuple[Challenge, ...]

    @property
    def requires_auth(self) -> bool:
        return self.status == 401


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialCheck:
    """Credentials were accepted (`authenticated`) or not needed/given (anonymous access).

    `auth_scheme` is None when the registry asks for no authentication at all. A token proves
    the credentials, not read access: `head_manifest` answers that (A4).
    """

    auth_scheme: str | None
    authenticated: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ManifestInfo:
    """A manifest that exists. `platforms` is None unless it is an index or manifest list."""

    repository: str
    reference: str
    digest: str | None
    media_type: str | None
    size: int | None
    platforms: tuple[str, ...] | None
    rate_limit: RateLimit | None

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_MEDIA_TYPES


class _Sent(Enum):
    NOTHING = "nothing"
    BASIC = "basic"
    CACHED_TOKEN = "cached token"
    FRESH_TOKEN = "fresh token"


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    headers: httpx.Headers
    body: bytes
    url: httpx.URL
    sent: _Sent = _Sent.NOTHING


class _Secret:
    """A password that shows as `***` wherever it is printed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RegistryClient:
    """The Registry HTTP API v2 of one registry (`host[:port]`); see the module docstring."""

    def __init__(
        self,
        *,
        host: str,
        scheme: Literal["https", "http"] = "https",
        username: str | None = None,
        password: str | None = None,
        verify: bool | ssl.SSLContext = True,
        timeout: float = 10.0,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], datetime] = _utc_now,
        host_guard: Callable[[str], None] | None = None,
    ) -> None:
        if scheme not in ("https", "http"):
            raise InvalidInput.one("scheme", "must be https, or http for an insecure registry")
        if timeout <= 0 or max_response_bytes <= 0:
            raise ValueError("timeout and max_response_bytes must be positive")
        if password is not None and not username:
            raise InvalidInput.one("username", "is required when a password is given")
        self.host = registry_api_host(validate_domain(host, field="host"))
        self.scheme = scheme
        self.username = username or None
        self._password = _Secret(password or "") if self.username else None
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self._clock = clock
        self._base = httpx.URL(f"{scheme}://{self.host}")
        self._http = httpx.Client(
            transport=transport,
            verify=verify,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,  # followed by hand in _exchange, without leaking auth
            trust_env=False,  # no proxy or CA settings picked up behind the operator's back
        )
        self._use_basic = False
        self._tokens: dict[str, IssuedToken] = {}
        self._challenges: tuple[Challenge, ...] | None = None
        # Called with every host before it is contacted (registry, token realm, redirect
        # target): the SSRF guard raises RegistryError there.
        self._host_guard = host_guard
        self._index_platforms: dict[str, tuple[str, ...]] = {}
        self.round_trips = 0

    def __repr__(self) -> str:
        return (
            f"RegistryClient(host={self.host!r}, scheme={self.scheme!r}, "
            f"username={self.username!r})"
        )

    # --- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- operations --------------------------------------------------------------------------

    def ping(self) -> PingResult:
        """`GET /v2/` without credentials (A2): is this a v2 registry, and how does it
        authenticate? A 401 is an answer here, not a failure."""
        reply = self._send("GET", self._url("/v2/"), authenticate=False)
        api_version = reply.headers.get("docker-distribution-api-version")
        if reply.status == 200:
            if api_version is None and media_type_of(reply.headers.get("content-type")) in (
                "text/html",
                "application/xhtml+xml",
            ):
                # A catch-all web server answers 200 with a page; a registry with JSON.
                raise RegistryError(
                    RegistryFailure.NOT_A_REGISTRY,
                    f"{self.host} answered /v2/ with a web page, not the registry API",
                    status=200,
                )
            self._challenges = ()
            return PingResult(
                status=200,
                api_version=api_version,
                auth_scheme=None,
                realm=None,
                service=None,
                challenges=(),
            )
        if reply.status == 401:
            challenges = self._parse_challenges(reply)
            if not challenges and api_version is None:
                raise RegistryError(
                    RegistryFailure.NOT_A_REGISTRY,
                    f"{self.host} asks for a login on /v2/ but not the way a registry does "
                    "(no WWW-Authenticate challenge)",
                    status=401,
                )
            self._challenges = tuple(challenges)
            chosen = choose_challenge(challenges)
            return PingResult(
                status=401,
                api_version=api_version,
                auth_scheme=(chosen or challenges[0]).scheme if challenges else None,
                realm=chosen.realm if chosen else None,
                service=chosen.service if chosen else None,
                challenges=tuple(challenges),
            )
        if reply.status == 404:
            raise RegistryError(
                RegistryFailure.NOT_A_REGISTRY,
                f"{self.host} has no registry API: GET /v2/ answered 404",
                status=404,
            )
        raise self._failure(reply, what="the registry API check (/v2/)")

    def adopt(self, ping: PingResult) -> None:
        """Take what another client's `ping()` learnt of this registry: saves a round trip."""
        self._challenges = ping.challenges

    def check_credentials(self, repository: str) -> CredentialCheck:
        """Are the credentials accepted? Basic: `/v2/` with them; Bearer: a token for
        `repository:<path>:pull` (401 there = rejected). The token is cached, so a following
        `head_manifest` costs one round trip."""
        validate_repository_path(repository, field="repository")
        if self._challenges is None:
            self.ping()
        assert self._challenges is not None
        if not self._challenges:
            return CredentialCheck(auth_scheme=None, authenticated=False)
        challenge = choose_challenge(list(self._challenges))
        if challenge is None:
            raise self._unsupported_scheme(self._challenges)
        if challenge.scheme == "bearer":
            self._fetch_token(challenge, pull_scope(repository))
            return CredentialCheck(auth_scheme="bearer", authenticated=self.username is not None)
        if self.username is None:
            raise RegistryError(
                RegistryFailure.AUTHENTICATION_REQUIRED,
                f"{self.host} requires a user name and password (Basic authentication)",
                status=401,
            )
        self._use_basic = True
        reply = self._send("GET", self._url("/v2/"))
        if reply.status == 200:
            return CredentialCheck(auth_scheme="basic", authenticated=True)
        raise self._failure(reply, what="the login check (/v2/)")

    def head_manifest(self, repository: str, reference: str) -> ManifestInfo:
        """Does `repository:reference` (a tag or a digest) exist? (A6, A7)

        HEAD with the four manifest types; for an index or manifest list, a GET of the body to
        list its platforms (on Docker Hub a GET counts as a pull, a HEAD does not). On 404 a GET
        reads the error code, and since distribution answers MANIFEST_UNKNOWN for a missing
        repository too, the tag list then tells a missing tag from a missing repository.
        """
        validate_repository_path(repository, field="repository")
        if ":" in reference:  # tags cannot hold a colon
            validate_digest(reference, field="reference")
        else:
            validate_tag(reference, field="reference")
        scope = pull_scope(repository)
        url = self._url(f"/v2/{repository}/manifests/{reference}")
        accept = {"Accept": ACCEPT_MANIFESTS}
        reply = self._send("HEAD", url, scope=scope, headers=accept)
        if reply.status == 404:
            raise self._missing(repository, reference, url, scope)
        if reply.status != 200:
            raise self._failure(reply, what=f"the manifest {repository}:{reference}")
        digest = reply.headers.get("docker-content-digest")
        media_type = media_type_of(reply.headers.get("content-type"))
        size = _int_or_none(reply.headers.get("content-length"))
        rate_limit = rate_limit_of(reply.headers)
        platforms: tuple[str, ...] | None = self._index_platforms.get(digest or "")
        if platforms is None and (media_type in INDEX_MEDIA_TYPES or digest is None):
            body_reply = self._send("GET", url, scope=scope, headers=accept)
            if body_reply.status != 200:
                raise self._failure(body_reply, what=f"the manifest {repository}:{reference}")
            media_type = media_type_of(body_reply.headers.get("content-type")) or media_type
            digest = digest or body_reply.headers.get("docker-content-digest")
            size = size if size is not None else len(body_reply.body)
            rate_limit = rate_limit_of(body_reply.headers) or rate_limit
            if media_type in INDEX_MEDIA_TYPES:
                try:
                    platforms = tuple(platforms_of(body_reply.body))
                    if digest:  # a digest's content never changes: no second GET for it
                        self._index_platforms[digest] = platforms
                except MalformedResponse as exc:
                    raise RegistryError(
                        RegistryFailure.BAD_RESPONSE,
                        f"the index {repository}:{reference} is unreadable: {exc.message}",
                        status=200,
                    ) from exc
        return ManifestInfo(
            repository=repository,
            reference=reference,
            digest=digest,
            media_type=media_type,
            size=size,
            platforms=platforms,
            rate_limit=rate_limit,
        )

    def manifest_platform(self, repository: str, digest: str) -> str | None:
        """`os/arch[/variant]` of a single-platform manifest, read from its config blob.

        Two GETs (manifest, config); blob GETs do not count as pulls on Docker Hub, and callers
        cache the answer by digest since a digest's content never changes.
        """
        validate_repository_path(repository, field="repository")
        validate_digest(digest, field="digest")
        scope = pull_scope(repository)
        what = f"the manifest {repository}@{digest}"
        reply = self._send(
            "GET",
            self._url(f"/v2/{repository}/manifests/{digest}"),
            scope=scope,
            headers={"Accept": ACCEPT_MANIFESTS},
        )
        if reply.status != 200:
            raise self._failure(reply, what=what)
        try:
            config_digest = json.loads(reply.body)["config"]["digest"]
            validate_digest(str(config_digest), field="config")
        except (ValueError, KeyError, TypeError, InvalidInput):
            return None  # not an image manifest (an artifact): no platform to speak of
        blob = self._send("GET", self._url(f"/v2/{repository}/blobs/{config_digest}"), scope=scope)
        if blob.status != 200:
            raise self._failure(blob, what=f"the image config of {repository}@{digest}")
        try:
            config = json.loads(blob.body)
            parts = [str(config["os"]), str(config["architecture"])]
        except (ValueError, KeyError, TypeError):
            return None
        if config.get("variant"):
            parts.append(str(config["variant"]))
        return "/".join(parts)

    def list_tags(self, repository: str, *, page_size: int = 100, max_pages: int = 10) -> TagList:
        """The repository's tags, following `Link: <…>; rel="next"` (A8) for at most
        `max_pages` requests. Registries may ignore `n` (distribution 2.8 does)."""
        validate_repository_path(repository, field="repository")
        if page_size < 1 or max_pages < 1:
            raise ValueError("page_size and max_pages must be at least 1")
        scope = pull_scope(repository)
        url: httpx.URL | None = self._url(f"/v2/{repository}/tags/list").copy_merge_params(
            {"n": page_size}
        )
        tags: list[str] = []
        pages = 0
        while url is not None and pages < max_pages:
            reply = self._send("GET", url, scope=scope)
            pages += 1
            if reply.status == 404:
                raise RegistryError(
                    RegistryFailure.REPOSITORY_MISSING,
                    f"the repository {repository} does not exist on {self.host}",
                    status=404,
                    error_codes=_codes(reply),
                )
            if reply.status != 200:
                raise self._failure(reply, what=f"the tags of {repository}")
            tags.extend(self._tags_of(reply, repository))
            link = next_link(reply.headers.get("link"), str(reply.url))
            url = httpx.URL(link) if link is not None else None
            if url is not None and not _same_origin(url, self._base):
                raise RegistryError(
                    RegistryFailure.BAD_RESPONSE,
                    f"{self.host} pointed the next page of tags to another host ({url.host})",
                    status=200,
                )
        return TagList(repository=repository, tags=tuple(tags), complete=url is None, pages=pages)

    # --- the choke point ---------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: httpx.URL,
        *,
        scope: str | None = None,
        headers: Mapping[str, str] | None = None,
        authenticate: bool = True,
        want_body: bool = True,
    ) -> _Reply:
        """Every request of this client. `authenticate=False` sends exactly `headers` (ping,
        token requests); otherwise the dance of the module docstring runs, for `scope`."""
        base_headers = dict(headers or {})
        if not authenticate:
            return self._exchange(method, url, base_headers, want_body=want_body)
        sent, authorization = self._upfront(scope)
        reply = self._exchange(method, url, _with_auth(base_headers, authorization), want_body)
        reply = _replace_sent(reply, sent)
        if reply.status != 401 or not _same_origin(reply.url, self._base):
            return reply
        challenge = choose_challenge(self._parse_challenges(reply))
        if challenge is None:
            return reply
        if challenge.scheme == "basic":
            basic = self._basic_authorization()
            if basic is None or sent is _Sent.BASIC:
                return reply
            self._use_basic = True
            retry = self._exchange(method, url, _with_auth(base_headers, basic), want_body)
            return _replace_sent(retry, _Sent.BASIC)
        if scope is None or sent is _Sent.FRESH_TOKEN:
            return reply
        self._tokens.pop(scope, None)
        token = self._fetch_token(challenge, scope)
        bearer = f"Bearer {token.value}"
        retry = self._exchange(method, url, _with_auth(base_headers, bearer), want_body)
        return _replace_sent(retry, _Sent.FRESH_TOKEN)

    def _upfront(self, scope: str | None) -> tuple[_Sent, str | None]:
        """What an earlier exchange taught us to send before being asked."""
        if self._use_basic:
            basic = self._basic_authorization()
            if basic is not None:
                return _Sent.BASIC, basic
        if scope is not None:
            token = self._tokens.get(scope)
            if token is not None and token.usable_at(self._clock()):
                return _Sent.CACHED_TOKEN, f"Bearer {token.value}"
        return _Sent.NOTHING, None

    def _fetch_token(self, challenge: Challenge, scope: str) -> IssuedToken:
        """GET the token endpoint named by a Bearer challenge (A4) and cache the token."""
        realm = challenge.realm
        try:
            realm_url = httpx.URL(realm or "")
        except httpx.InvalidURL:
            realm_url = httpx.URL("")
        if realm_url.scheme not in ("http", "https") or not realm_url.host:
            raise RegistryError(
                RegistryFailure.BAD_RESPONSE,
                f"{self.host} asks for a bearer token without a usable token service address "
                f"(realm {self._scrub(realm or '')!r})",
                status=401,
            )
        received_at = self._clock()
        if self.username == ACR_REFRESH_TOKEN_USER and self._password is not None:
            reply = self._oauth2_refresh(realm_url, challenge, scope)
            anonymous = False
        else:
            params = token_request_params(challenge, scopes=[scope], username=self.username)
            token_url = realm_url.copy_merge_params(tuple(params))
            basic = self._basic_authorization()
            anonymous = basic is None
            reply = self._send(
                "GET",
                token_url,
                headers={"Authorization": basic} if basic else None,
                authenticate=False,
            )
        if reply.status == 401:
            if anonymous:
                raise RegistryError(
                    RegistryFailure.AUTHENTICATION_REQUIRED,
                    f"the token service {realm_url.host} refuses anonymous access: "
                    "give a user name and password",
                    status=401,
                )
            raise RegistryError(
                RegistryFailure.CREDENTIALS_REJECTED,
                f"the token service {realm_url.host} rejected the user name or password "
                f"of {self.username!r}",
                status=401,
                error_codes=_codes(reply),
            )
        if reply.status != 200:
            raise self._failure(reply, what=f"the token service {realm_url.host}")
        try:
            token = parse_token_response(reply.body, received_at=received_at)
        except MalformedResponse as exc:
            raise RegistryError(
                RegistryFailure.BAD_RESPONSE,
                f"the token service {realm_url.host} sent an unusable answer: {exc.message}",
                status=200,
            ) from exc
        self._tokens[scope] = token
        return token

    def _oauth2_refresh(self, realm: httpx.URL, challenge: Challenge, scope: str) -> _Reply:
        """Azure AD login to ACR (A5, B5): the password is a refresh token, exchanged by an
        OAuth2 POST for an access token; registries refuse it on the GET flow."""
        assert self._password is not None
        form = {
            "grant_type": "refresh_token",
            "service": challenge.service or self.host,
            "scope": scope,
            "client_id": "vectis-admin",
            "refresh_token": self._password.reveal(),
        }
        return self._exchange(
            "POST",
            realm,
            {"Content-Type": "application/x-www-form-urlencoded"},
            want_body=True,
            content=urlencode(form).encode(),
        )

    def _exchange(
        self,
        method: str,
        url: httpx.URL,
        headers: dict[str, str],
        want_body: bool,
        content: bytes | None = None,
    ) -> _Reply:
        """One request and its redirects, with the size cap and failure translation."""
        current = url
        for _ in range(_MAX_REDIRECTS + 1):
            if _is_special_invalid(current.host):
                # RFC 6761 §6.4: `.invalid` names never resolve; answer without asking DNS.
                raise RegistryError(
                    RegistryFailure.UNKNOWN_HOST,
                    f"the host name {current.host} does not exist (reserved .invalid name)",
                )
            if self._host_guard is not None:
                self._host_guard(current.host)
            try:
                request = self._http.build_request(
                    method, current, headers=headers, content=content
                )
                self.round_trips += 1
                response = self._http.send(request, stream=True)
                try:
                    location = response.headers.get("location")
                    if response.status_code in _REDIRECT_STATUSES and location:
                        target = current.join(location)
                        if target.scheme not in ("http", "https"):
                            raise RegistryError(
                                RegistryFailure.BAD_RESPONSE,
                                f"{current.host} redirected to an unsupported address",
                                status=response.status_code,
                            )
                        if not _same_origin(target, current):
                            headers = {
                                k: v for k, v in headers.items() if k.lower() != "authorization"
                            }
                        logger.debug(
                            "%s %s -> %s redirect", method, current.path, response.status_code
                        )
                        current = target
                        continue
                    body = self._read(response, method, want_body)
                finally:
                    response.close()
            except httpx.TransportError as exc:
                raise self._transport_failure(exc, current) from exc
            except httpx.InvalidURL as exc:
                raise RegistryError(
                    RegistryFailure.BAD_RESPONSE, f"unusable address from {current.host}"
                ) from exc
            logger.debug("%s %s%s -> %s", method, current.host, current.path, response.status_code)
            return _Reply(response.status_code, response.headers, body, current)
        raise RegistryError(
            RegistryFailure.BAD_RESPONSE,
            f"{url.host} redirected more than {_MAX_REDIRECTS} times",
        )

    def _read(self, response: httpx.Response, method: str, want_body: bool) -> bytes:
        """The body, at most `max_response_bytes`: a bigger success body is an error, a bigger
        error body is only cut (it serves for a message)."""
        if method == "HEAD":
            return b""
        success = response.status_code < 300
        if success and not want_body:
            return b""
        declared = _int_or_none(response.headers.get("content-length"))
        if success and declared is not None and declared > self.max_response_bytes:
            raise self._too_large(response)
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > self.max_response_bytes:
                if success:
                    raise self._too_large(response)
                chunks.append(chunk[: len(chunk) - (total - self.max_response_bytes)])
                break
            chunks.append(chunk)
        return b"".join(chunks)

    # --- failure translation -----------------------------------------------------------------

    def _failure(self, reply: _Reply, *, what: str) -> RegistryError:
        """The RegistryError for a status the caller did not expect."""
        codes = _codes(reply)
        detail = self._detail(reply)
        status = reply.status
        if status == 401:
            return self._unauthorized(reply, what=what, codes=codes, detail=detail)
        if status == 403:
            who = f"as {self.username!r}" if self.username else "anonymously"
            return RegistryError(
                RegistryFailure.ACCESS_DENIED,
                f"{self.host} denies access to {what} {who}{detail}",
                status=status,
                error_codes=codes,
            )
        if status == 429:
            return RegistryError(
                RegistryFailure.RATE_LIMITED,
                f"{self.host} is rate limiting requests (429){detail}",
                status=status,
                error_codes=codes,
                retry_after=_retry_after(reply.headers.get("retry-after"), self._clock()),
                rate_limit=rate_limit_of(reply.headers),
            )
        if status >= 500:
            return RegistryError(
                RegistryFailure.SERVER_ERROR,
                f"{reply.url.host} failed on {what} ({status}){detail}",
                status=status,
                error_codes=codes,
            )
        return RegistryError(
            RegistryFailure.BAD_RESPONSE,
            f"{reply.url.host} answered {what} with an unexpected {status}{detail}",
            status=status,
            error_codes=codes,
        )

    def _unauthorized(
        self, reply: _Reply, *, what: str, codes: tuple[str, ...], detail: str
    ) -> RegistryError:
        if not _same_origin(reply.url, self._base) and reply.url.host != self._base.host:
            # A redirect target (blob storage) never gets our credentials, so its 401 says
            # nothing about them.
            return RegistryError(
                RegistryFailure.BAD_RESPONSE,
                f"{self.host} redirected {what} to {reply.url.host}, which refused access",
                status=401,
                error_codes=codes,
            )
        challenges = self._parse_challenges(reply)
        challenge = choose_challenge(challenges)
        if challenge is None and challenges:
            return self._unsupported_scheme(challenges)
        if reply.sent is _Sent.BASIC:
            return RegistryError(
                RegistryFailure.CREDENTIALS_REJECTED,
                f"{self.host} rejected the user name or password of {self.username!r}",
                status=401,
                error_codes=codes,
            )
        if reply.sent is _Sent.FRESH_TOKEN and challenge is not None:
            if challenge.error == "invalid_token":
                return RegistryError(
                    RegistryFailure.BAD_RESPONSE,
                    f"{self.host} refused the token its own token service issued: the registry "
                    "and its token service are not configured alike",
                    status=401,
                    error_codes=codes,
                )
            if self.username is not None:
                return RegistryError(
                    RegistryFailure.ACCESS_DENIED,
                    f"{self.username!r} is logged in but may not pull {what} "
                    "(on Docker Hub this is also the answer for a repository that does not "
                    f"exist){detail}",
                    status=401,
                    error_codes=codes,
                )
        return RegistryError(
            RegistryFailure.AUTHENTICATION_REQUIRED,
            f"{self.host} requires credentials for {what}{detail}",
            status=401,
            error_codes=codes,
        )

    def _missing(
        self, repository: str, reference: str, url: httpx.URL, scope: str
    ) -> RegistryError:
        """Tell a missing repository from a missing tag after a 404 HEAD (A7)."""
        reply = self._send("GET", url, scope=scope, headers={"Accept": ACCEPT_MANIFESTS})
        codes = _codes(reply)
        kind = "digest" if ":" in reference else "tag"
        if reply.status == 404 and "NAME_UNKNOWN" not in codes:
            # distribution 2.8 says MANIFEST_UNKNOWN for a missing repository as well; its tag
            # list answers NAME_UNKNOWN there. Only the status matters: skip the body.
            tags = self._send(
                "GET",
                self._url(f"/v2/{repository}/tags/list").copy_merge_params({"n": 1}),
                scope=scope,
                want_body=False,
            )
            if tags.status == 404:
                codes = (*codes, *(_codes(tags) or ("NAME_UNKNOWN",)))
        elif reply.status not in (200, 404):
            return self._failure(reply, what=f"the manifest {repository}:{reference}")
        if "NAME_UNKNOWN" in codes:
            return RegistryError(
                RegistryFailure.REPOSITORY_MISSING,
                f"the repository {repository} does not exist on {self.host}",
                status=404,
                error_codes=codes,
            )
        return RegistryError(
            RegistryFailure.TAG_MISSING,
            f"the repository {repository} has no {kind} {reference}",
            status=404,
            error_codes=codes,
        )

    def _unsupported_scheme(
        self, challenges: tuple[Challenge, ...] | list[Challenge]
    ) -> RegistryError:
        schemes = ", ".join(c.scheme for c in challenges)
        return RegistryError(
            RegistryFailure.BAD_RESPONSE,
            f"{self.host} asks for an authentication scheme this console cannot use ({schemes})",
            status=401,
        )

    def _transport_failure(self, exc: httpx.TransportError, url: httpx.URL) -> RegistryError:
        where = url.netloc.decode("ascii", "replace")
        if isinstance(exc, httpx.ConnectTimeout):
            return RegistryError(
                RegistryFailure.TIMEOUT,
                f"could not connect to {where} within {self.timeout:g} s",
            )
        if isinstance(exc, httpx.TimeoutException):
            return RegistryError(
                RegistryFailure.TIMEOUT, f"{where} did not answer within {self.timeout:g} s"
            )
        for cause in _causes(exc):
            if isinstance(cause, ssl.SSLError):
                return tls_failure(cause, where=where, host=url.host)
            if isinstance(cause, socket.gaierror):
                return RegistryError(
                    RegistryFailure.UNKNOWN_HOST,
                    f"the host name {url.host} could not be resolved ({cause.strerror})",
                )
            if isinstance(cause, ConnectionRefusedError):
                return RegistryError(
                    RegistryFailure.CONNECTION_REFUSED,
                    f"{where} refused the connection: nothing listens on that port",
                )
        if isinstance(exc, httpx.ProtocolError):
            return RegistryError(
                RegistryFailure.NOT_A_REGISTRY,
                f"{where} did not answer with HTTP ({self._scrub(str(exc))})",
            )
        return RegistryError(
            RegistryFailure.NETWORK_ERROR,
            f"the connection to {where} failed ({self._scrub(str(exc)) or type(exc).__name__})",
        )

    def _too_large(self, response: httpx.Response) -> RegistryError:
        return RegistryError(
            RegistryFailure.RESPONSE_TOO_LARGE,
            f"{response.request.url.host} sent more than {self.max_response_bytes} bytes "
            f"for {response.request.url.path}",
            status=response.status_code,
        )

    # --- helpers -----------------------------------------------------------------------------

    def _url(self, path: str) -> httpx.URL:
        return self._base.join(path)

    def _basic_authorization(self) -> str | None:
        if self.username is None or self._password is None:
            return None
        raw = f"{self.username}:{self._password.reveal()}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def _parse_challenges(self, reply: _Reply) -> list[Challenge]:
        challenges: list[Challenge] = []
        for header in reply.headers.get_list("www-authenticate"):
            try:
                challenges.extend(parse_www_authenticate(header))
            except MalformedResponse as exc:
                raise RegistryError(
                    RegistryFailure.BAD_RESPONSE,
                    f"{reply.url.host} sent an unreadable authentication challenge ({exc.message})",
                    status=reply.status,
                ) from exc
        return challenges

    def _tags_of(self, reply: _Reply, repository: str) -> list[str]:
        try:
            payload = json.loads(reply.body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            payload = None
        tags = payload.get("tags") if isinstance(payload, dict) else None
        if tags is None and isinstance(payload, dict):
            return []  # distribution sends "tags": null for a repository without tags
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise RegistryError(
                RegistryFailure.BAD_RESPONSE,
                f"the tag list of {repository} is unreadable",
                status=reply.status,
            )
        return list(tags)

    def _detail(self, reply: _Reply) -> str:
        """`: <registry's message>` for an error message, cut and scrubbed, or nothing."""
        errors = parse_error_body(reply.body)
        if errors:
            text = "; ".join(f"{code}: {message}" if message else code for code, message in errors)
        else:
            text = reply.body.decode("utf-8", "replace")
        text = self._scrub(" ".join(text.split()))
        return f": {text}" if text else ""

    def _scrub(self, text: str) -> str:
        secrets = [t.value for t in self._tokens.values()]
        if self._password is not None and self._password.reveal():
            secrets.append(self._password.reveal())
        basic = self._basic_authorization()
        if basic is not None:
            secrets.append(basic.split(" ", 1)[1])
        for secret in sorted(secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        if len(text) > _MESSAGE_LIMIT:
            text = text[: _MESSAGE_LIMIT - 1] + "…"
        return text


def tls_failure(cause: ssl.SSLError, *, where: str, host: str) -> RegistryError:
    """Classify a TLS failure by OpenSSL's verify code (shared with the probe's TLS step)."""
    if isinstance(cause, ssl.SSLCertVerificationError):
        text = cause.verify_message or str(cause)
        if cause.verify_code in _HOSTNAME_MISMATCH_CODES:
            return RegistryError(
                RegistryFailure.TLS_HOSTNAME_MISMATCH,
                f"the TLS certificate of {where} is not valid for {host} ({text})",
            )
        if cause.verify_code in _UNKNOWN_CA_CODES:
            return RegistryError(
                RegistryFailure.TLS_UNKNOWN_CA,
                f"the TLS certificate of {where} is signed by an unknown authority "
                f"({text}): add the registry's CA bundle",
            )
        return RegistryError(
            RegistryFailure.TLS_ERROR, f"the TLS certificate of {where} was refused ({text})"
        )
    return RegistryError(
        RegistryFailure.TLS_ERROR,
        f"the TLS handshake with {where} failed ({cause.reason or cause})",
    )


def _with_auth(headers: dict[str, str], authorization: str | None) -> dict[str, str]:
    return {**headers, "Authorization": authorization} if authorization else dict(headers)


def _replace_sent(reply: _Reply, sent: _Sent) -> _Reply:
    return _Reply(reply.status, reply.headers, reply.body, reply.url, sent)


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def _is_special_invalid(host: str) -> bool:
    name = host.lower().rstrip(".")
    return name == "invalid" or name.endswith(".invalid")


def _codes(reply: _Reply) -> tuple[str, ...]:
    return tuple(code for code, _ in parse_error_body(reply.body))


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return number if number >= 0 else None


def _retry_after(value: str | None, now: datetime) -> float | None:
    """`Retry-After`: seconds, or an HTTP date (RFC 9110 §10.2.3)."""
    if value is None:
        return None
    seconds = _int_or_none(value)
    if seconds is not None:
        return float(seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)
