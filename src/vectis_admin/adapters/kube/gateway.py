"""The `ClusterGateway` over lightkube's synchronous client: one object per API server.

Why it exists: services speak plain dict manifests and the `KubeError` family (errors.py);
lightkube speaks typed resources, `ApiError` and httpx2 exceptions. This module is the only place
that translates between the two, and every request passes through one method,
`LightkubeGateway._call` (kr8s's `call_api`), which owns:

* error translation by status: 404 `KubeNotFound`, 409 `KubeConflict`, 401/403 `KubeForbidden`,
  400/422 and other 4xx `KubeInvalid` (with the Status message and, for 422, the fields named in
  `details.causes`), 429/5xx `KubeUnavailable`; transport failures (refused, DNS, TLS, timeout)
  `KubeUnavailable` naming the host;
* retries: idempotent reads (GET, LIST, access reviews, `/version`) are retried twice on
  `KubeUnavailable` after a short backoff. Writes are never retried here: the reconciler that
  calls us owns retries, and knows whether a write may be repeated;
* messages: cut to 300 characters and scrubbed of the token, password and client key.

Thread safety (checked in lightkube 1.0.1 / httpx2 2.16): one `lightkube.Client` is shared by
all threads. Its `GenericSyncClient` keeps no per-request state on the instance (each call builds
its own `BasicRequest`), `httpx2.Client` is documented as shareable between threads and its
connection pool (`httpcore2.ConnectionPool`) mutates its state under a lock; the bearer-token
auth flow is stateless (the token-file and exec flows only cache the last token). The pool is
sized by `max_connections` so that a bounded thread pool does not wait for connections.

`version()`: lightkube has no call for `/version` (not a resource). It is read with a short-lived
`httpx2.Client` built from the same `ClusterTarget` (server, TLS context, timeout) and lightkube's
own auth for the user (`lightkube.config.client_adapter.user_auth`), rather than reaching into
the lightkube client's private `_client`.
"""

from __future__ import annotations

import builtins
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

import httpx2
import lightkube
import msgspec
from lightkube import ALL_NS, ApiError, ConfigError, LoadResourceError, codecs, operators
from lightkube.config.client_adapter import user_auth
from lightkube.core import resource as lkr
from lightkube.models.authorization_v1 import ResourceAttributes, SelfSubjectAccessReviewSpec
from lightkube.resources import apps_v1, core_v1, rbac_authorization_v1
from lightkube.resources.authorization_v1 import SelfSubjectAccessReview
from lightkube.types import PatchType

from vectis_admin.adapters.kube.access import SERVICE_ACCOUNT, ClusterTarget, resolve_access
from vectis_admin.errors import (
    KubeConflict,
    KubeError,
    KubeForbidden,
    KubeInvalid,
    KubeNotFound,
    KubeUnavailable,
)
from vectis_admin.services.ports import KubeAccess, KubeObject

__all__ = ["KINDS", "LightkubeConnector", "LightkubeGateway"]

T = TypeVar("T")

#: The kinds the product manages, by the `kind` of their manifests.
KINDS: Mapping[str, type[lkr.Resource]] = {
    "Namespace": core_v1.Namespace,
    "Secret": core_v1.Secret,
    "ConfigMap": core_v1.ConfigMap,
    "Service": core_v1.Service,
    "ServiceAccount": core_v1.ServiceAccount,
    "PersistentVolumeClaim": core_v1.PersistentVolumeClaim,
    "PersistentVolume": core_v1.PersistentVolume,
    "Pod": core_v1.Pod,
    "Event": core_v1.Event,
    "Deployment": apps_v1.Deployment,
    "Role": rbac_authorization_v1.Role,
    "RoleBinding": rbac_authorization_v1.RoleBinding,
}

MAX_MESSAGE = 300
DEFAULT_RETRY_DELAYS = (0.1, 0.3)
FIELD_MANAGER = "vectis-admin"


class LightkubeConnector:
    """`KubeConnector`: opens a `LightkubeGateway` for a cluster's access settings.

    `connect` makes no request: it checks and loads the settings (`InvalidInput` naming the
    field; `KubeUnavailable` for in-cluster access outside a pod). Reachability is for
    `version()`."""

    def __init__(
        self,
        *,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        max_connections: int = 64,
        service_account_dir: str | os.PathLike[str] = SERVICE_ACCOUNT,
    ) -> None:
        self._retry_delays = tuple(retry_delays)
        self._max_connections = max_connections
        self._service_account_dir = service_account_dir

    def connect(self, access: KubeAccess) -> LightkubeGateway:
        target = resolve_access(access, service_account_dir=self._service_account_dir)
        return LightkubeGateway(
            target, retry_delays=self._retry_delays, max_connections=self._max_connections
        )


class _Verbatim(operators.Operator[str]):
    """A label selector passed through as written (`a=b,c notin (x)`): lightkube only builds
    selectors from dicts, and re-parsing the string would be a second, weaker parser."""

    def __init__(self, text: str) -> None:
        super().__init__("verbatim", "", text)

    def encode(self, key: str) -> str:
        return self.value


class LightkubeGateway:
    """`ClusterGateway` for one API server; safe to share between threads; `close()` it.

    Manifests go in and objects come out as plain dicts (`kind`/`apiVersion` always set).
    A namespaced call with `namespace=None` uses `self.namespace` (the kubeconfig context's
    namespace, else `default`, as kubectl does), except `list`, where it means all namespaces.
    A manifest lightkube cannot read, or an unknown kind, is `KubeInvalid` (status None) before
    any request; lightkube silently drops fields its models do not know, so manifests are to be
    checked with kubernetes-validate upstream."""

    def __init__(
        self,
        target: ClusterTarget,
        *,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        max_connections: int = 64,
    ) -> None:
        self._target = target
        self._retry_delays = tuple(retry_delays)
        self._timeout = httpx2.Timeout(target.timeout)
        self._limits = httpx2.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._scrub_re = _scrubber(target.secrets)
        self._client = lightkube.Client(
            target.config,
            timeout=self._timeout,
            trust_env=False,
            transport=self._transport(),
            field_manager=FIELD_MANAGER,
        )
        # lightkube's overloads pick the return type from a resource class known statically;
        # our classes come from a table by kind name, so calls go through an untyped alias.
        self._api: Any = self._client
        self._closed = False

    @property
    def server(self) -> str:
        return self._target.server

    @property
    def insecure(self) -> bool:
        """TLS verification is off (skip-TLS-verify): to be flagged to operators."""
        return self._target.insecure

    @property
    def namespace(self) -> str:
        """The namespace used when a namespaced call names none (the context's, or default)."""
        return str(self._client.namespace)

    def _transport(self) -> httpx2.HTTPTransport:
        return httpx2.HTTPTransport(
            verify=self._target.ssl_context, limits=self._limits, trust_env=False
        )

    # ------------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._client.close()

    def __enter__(self) -> LightkubeGateway:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ---------------------------------------------------------------------- the choke point

    def _call(self, what: str, fn: Callable[[], T], *, read: bool = False) -> T:
        """Run one API call: translate every failure into the `KubeError` family, retry
        idempotent reads (`read=True`) on `KubeUnavailable`."""
        delays: tuple[float | None, ...] = (*self._retry_delays, None) if read else (None,)
        for delay in delays:
            try:
                return fn()
            except Exception as exc:
                error = self._translate(what, exc)
                if error is None:
                    raise
                if delay is not None and isinstance(error, KubeUnavailable):
                    time.sleep(delay)
                    continue
                if error is exc:
                    raise
                raise error from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _translate(self, what: str, exc: Exception) -> KubeError | None:
        host = self._target.host
        if isinstance(exc, KubeError):
            return exc
        if isinstance(exc, httpx2.HTTPStatusError):  # ApiError included
            return self._status_error(what, exc)
        if isinstance(exc, httpx2.TimeoutException):
            return KubeUnavailable(
                self._message(
                    f"{what}: the Kubernetes API at {host} did not answer within "
                    f"{self._target.timeout:g} s"
                )
            )
        if isinstance(exc, httpx2.ConnectError):
            return KubeUnavailable(
                self._message(f"{what}: cannot connect to the Kubernetes API at {host}: {exc}")
            )
        if isinstance(exc, httpx2.TransportError):
            return KubeUnavailable(
                self._message(f"{what}: the connection to {host} failed: {exc or type(exc)}")
            )
        if isinstance(exc, ConfigError | OSError):  # exec plugin or token file failed
            return KubeForbidden(
                self._message(f"{what}: credentials for {host} could not be obtained: {exc}")
            )
        if isinstance(exc, msgspec.MsgspecError):
            return KubeUnavailable(
                self._message(f"{what}: {host} answered with an object lightkube cannot read")
            )
        return None

    def _status_error(self, what: str, exc: httpx2.HTTPStatusError) -> KubeError:
        code = exc.response.status_code
        reason, message, fields = "", "", []
        if isinstance(exc, ApiError):
            status = exc.status
            reason, message = status.reason or "", status.message or ""
            causes = (status.details.causes if status.details else None) or []
            fields = [c.field for c in causes if c.field]
        else:  # not a JSON Status (a proxy, a load balancer, /version): keep a little text
            message = " ".join(exc.response.text.split())[:120] or exc.response.reason_phrase
        if code == 422 and fields:
            message += f" (fields: {', '.join(dict.fromkeys(fields))})"
        text = self._message(f"{what}: {message or f'HTTP {code}'}")
        cls: type[KubeError]
        if code == 404:
            cls = KubeNotFound
        elif code == 409:
            cls = KubeConflict
        elif code in (401, 403):
            cls = KubeForbidden
        elif code == 429 or code >= 500:
            cls = KubeUnavailable
        else:
            cls = KubeInvalid
        return cls(text, status=code, reason=reason)

    def _message(self, text: str) -> str:
        text = self._scrub_re.sub("***", text) if self._scrub_re is not None else text
        text = _BEARER.sub(r"\1***", text)
        return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"

    # --------------------------------------------------------------------------- the verbs

    def version(self) -> str:
        def fetch() -> str:
            with httpx2.Client(
                base_url=self._target.server,
                auth=user_auth(self._target.config.user),
                transport=self._transport(),
                timeout=self._timeout,
                trust_env=False,
            ) as http:
                response = http.get("/version")
                response.raise_for_status()
                try:
                    return str(response.json()["gitVersion"])
                except (ValueError, KeyError, TypeError):
                    raise KubeUnavailable(
                        f"{self._target.host} answered /version without a gitVersion"
                    ) from None

        return self._call("read the server version", fetch, read=True)

    def can_i(self, *, verb: str, resource: str, group: str, namespace: str) -> bool:
        resource, _, subresource = resource.partition("/")
        review = SelfSubjectAccessReview(
            spec=SelfSubjectAccessReviewSpec(
                resourceAttributes=ResourceAttributes(
                    verb=verb,
                    resource=resource,
                    subresource=subresource or None,
                    group=group,
                    namespace=namespace or None,
                )
            )
        )
        what = f"check whether the console may {verb} {resource} in {namespace or 'the cluster'}"
        # An access review is a POST that changes nothing: safe to retry like a read.
        answer = self._call(what, lambda: self._client.create(review), read=True)
        return bool(answer.status is not None and answer.status.allowed)

    def get(self, kind: str, name: str, *, namespace: str | None = None) -> KubeObject | None:
        res = _resource(kind)
        what = f"get {self._ref(res, kind, name, namespace)}"
        try:
            obj = self._call(what, lambda: self._api.get(res, name, namespace=namespace), read=True)
        except KubeNotFound:
            return None
        return _plain(obj)

    def create(self, obj: KubeObject) -> KubeObject:
        kind, name, namespace, resource = self._parse(obj)
        what = f"create {self._ref(type(resource), kind, name, namespace)}"
        return _plain(self._call(what, lambda: self._api.create(resource)))

    def replace(self, obj: KubeObject) -> KubeObject:
        kind, name, namespace, resource = self._parse(obj)
        what = f"replace {self._ref(type(resource), kind, name, namespace)}"
        return _plain(self._call(what, lambda: self._api.replace(resource)))

    def json_patch(
        self, kind: str, name: str, operations: list[dict[str, Any]], *, namespace: str | None
    ) -> KubeObject:
        return self._patch(kind, name, operations, PatchType.JSON, namespace)

    def merge_patch(
        self, kind: str, name: str, patch: dict[str, Any], *, namespace: str | None
    ) -> KubeObject:
        return self._patch(kind, name, patch, PatchType.MERGE, namespace)

    def _patch(
        self,
        kind: str,
        name: str,
        body: list[dict[str, Any]] | dict[str, Any],
        patch_type: PatchType,
        namespace: str | None,
    ) -> KubeObject:
        res = _resource(kind)
        what = f"patch {self._ref(res, kind, name, namespace)}"
        return _plain(
            self._call(
                what,
                lambda: self._api.patch(
                    res, name, body, namespace=namespace, patch_type=patch_type
                ),
            )
        )

    def delete(self, kind: str, name: str, *, namespace: str | None = None) -> bool:
        res = _resource(kind)
        what = f"delete {self._ref(res, kind, name, namespace)}"
        try:
            self._call(what, lambda: self._api.delete(res, name, namespace=namespace))
        except KubeNotFound:
            return False
        return True

    def list(
        self, kind: str, *, namespace: str | None, label_selector: str | None = None
    ) -> builtins.list[KubeObject]:
        """Objects of `kind`; `namespace=None` lists a namespaced kind in all namespaces."""
        res = _resource(kind)
        namespaced = issubclass(res, lkr.NamespacedResource)
        scope = "" if not namespaced else f" in {namespace}" if namespace else " in all namespaces"
        where = f" matching {label_selector}" if label_selector else ""
        labels = {"": _Verbatim(label_selector)} if label_selector else None

        def fetch() -> builtins.list[KubeObject]:
            found = self._api.list(
                res, namespace=(namespace or ALL_NS) if namespaced else None, labels=labels
            )
            return [_plain(item) for item in found]

        return self._call(f"list {kind}{scope}{where}", fetch, read=True)

    def pod_logs(self, name: str, *, namespace: str, lines: int | None) -> str:
        what = f"read the logs of Pod {namespace}/{name}"
        return self._call(
            what,
            lambda: "".join(self._client.log(name, namespace=namespace, tail_lines=lines)),
            read=True,
        )

    def events_for(self, name: str, *, namespace: str) -> builtins.list[KubeObject]:
        """Events about any object named `name` in `namespace`, oldest first as listed."""
        what = f"list Events about {namespace}/{name}"

        def fetch() -> builtins.list[KubeObject]:
            found = self._client.list(
                core_v1.Event, namespace=namespace, fields={"involvedObject.name": name}
            )
            return [_plain(item) for item in found]

        return self._call(what, fetch, read=True)

    # ----------------------------------------------------------------------------- helpers

    def _ref(self, res: type[lkr.Resource], kind: str, name: str, namespace: str | None) -> str:
        if issubclass(res, lkr.NamespacedResource):
            return f"{kind} {namespace or self.namespace}/{name}"
        return f"{kind} {name}"

    def _parse(self, obj: KubeObject) -> tuple[str, str, str | None, lkr.Resource]:
        """A manifest as a lightkube resource; a manifest lightkube cannot read → KubeInvalid."""
        kind = obj.get("kind") if isinstance(obj, dict) else None
        _resource(str(kind))
        metadata = obj.get("metadata") or {}
        name = str(metadata.get("name") or metadata.get("generateName") or "")
        namespace = metadata.get("namespace")
        try:
            resource = codecs.from_dict(obj)
        except (LoadResourceError, msgspec.MsgspecError, TypeError, ValueError) as exc:
            message = f"{kind} {name or '(unnamed)'}: not a valid manifest: {exc}"
            raise KubeInvalid(self._message(message), reason="ClientValidation") from None
        return str(kind), name, namespace, resource


def _resource(kind: str) -> type[lkr.Resource]:
    try:
        return KINDS[kind]
    except KeyError:
        known = ", ".join(KINDS)
        raise KubeInvalid(
            f"kind {kind!r} is not managed by Vectis Admin (known: {known})",
            reason="UnknownKind",
        ) from None


def _plain(obj: Any) -> KubeObject:
    """A lightkube object as plain JSON, `kind`/`apiVersion` included (list items lack them)."""
    data: KubeObject = obj.to_dict()
    info = lkr.api_info(type(obj)).resource
    data.setdefault("apiVersion", info.api_version)
    data.setdefault("kind", info.kind)
    return data


_BEARER = re.compile(r"(?i)(bearer\s+)\S+")


def _scrubber(secrets: Sequence[str]) -> re.Pattern[str] | None:
    if not secrets:
        return None
    ordered = sorted(set(secrets), key=len, reverse=True)
    return re.compile("|".join(re.escape(s) for s in ordered))
