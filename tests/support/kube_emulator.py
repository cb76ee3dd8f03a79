"""A small Kubernetes API server emulator for tests (stdlib ``ThreadingHTTPServer`` + jsonpatch).

No Kubernetes API server can run on the test machines (TESTING.md §3), so tests talk HTTP on
127.0.0.1 to this emulator through the client library the product uses (lightkube)::

    with KubeEmulator() as kube:                     # namespaces default, kube-system… exist
        kube.ensure_namespace("prod")
        with kube.lightkube_client(namespace="prod") as client:
            client.create(secret)
        assert [e.method for e in kube.writes()] == ["POST"]

Real API-server rules it enforces
---------------------------------
1. Errors are ``Status`` bodies with ``Content-Type: application/json`` exactly and the real
   reasons and message formats: ``NotFound`` (``secrets "x" not found``), ``AlreadyExists``,
   ``Conflict`` (``Operation cannot be fulfilled on secrets "x": the object has been modified;
   …``), ``Invalid`` (422 with ``details.causes``), ``BadRequest``, ``Forbidden``,
   ``Unauthorized``, ``MethodNotAllowed``, 415 for an unknown body or patch type. DELETE answers
   a ``Success`` Status.
2. A namespaced create needs its namespace (404 ``namespaces "x" not found``); deleting a
   namespace deletes its contents. A new namespace gets the ``default`` ServiceAccount and the
   ``kube-root-ca.crt`` ConfigMap, as a cluster's controllers add them.
3. Names: DNS-1123 subdomain (most kinds), DNS-1123 label (Namespace), DNS-1035 label (Service),
   path segment (Role, RoleBinding); label/annotation keys and label values; ``generateName``.
   A body name or namespace that disagrees with the URL → 400.
4. Server-set ``uid``, ``creationTimestamp``, ``resourceVersion`` (one strictly increasing
   counter, bumped by every change; a no-op update keeps it) and ``generation`` (Deployments and
   Pods, bumped when ``spec`` changes). A stale ``resourceVersion`` (or other ``uid``) on PUT or
   PATCH → 409 Conflict; ``resourceVersion`` set on create → 500 as the real storage layer; PUT
   replaces the whole object; PUT of a missing object → 404. The ``status`` of Deployments, Pods,
   Services, PVCs and Namespaces is written only through ``/status`` (or test-control methods).
5. Secrets: ``stringData`` merged into ``data``; ``data`` values must be base64 (400); type
   ``kubernetes.io/dockerconfigjson`` needs ``.dockerconfigjson`` holding a JSON object (422
   ``data[.dockerconfigjson]: Required value``), likewise ``dockercfg``, ``tls``, ``ssh-auth``;
   valid keys; data ≤ 1 MiB; ``type`` immutable; ``immutable: true`` freezes ``data``.
   ConfigMaps: valid keys, base64 ``binaryData``, ``immutable``.
6. Deployments: ``spec.selector`` required, non-empty, matching the template labels, immutable;
   ≥ 1 container, each named (uniquely) and with an image; ``restartPolicy: Always``;
   ``replicas`` ≥ 0. Pods: the same container rules, spec immutable except images;
   ServiceAccount admission (missing account → 403; the account's ``imagePullSecrets`` copied
   into a pod that has none, at creation only). Services: ports, immutable ``clusterIP``.
   RoleBindings: ``roleRef`` valid and immutable, subject kinds; Roles: rule verbs.
7. Label selectors ``=``, ``==``, ``!=``, ``in``, ``notin``, ``k``, ``!k``; field selectors only
   on what the real server supports for the kind (``metadata.name``, ``metadata.namespace``;
   ``involvedObject.*``, ``reason``, ``type``, ``source``… for Events; ``spec.nodeName``,
   ``status.phase``… for Pods; ``type`` for Secrets), anything else → 400. ``limit`` and
   ``continue``. List bodies are ``kind: XList`` with ``metadata.resourceVersion`` and items
   without ``kind``/``apiVersion``, as the real server sends them.
8. PATCH by Content-Type: JSON patch, merge patch (RFC 7386), strategic merge patch (merge keys:
   ``containers``, ``initContainers``, ``env``, ``volumes``, ``imagePullSecrets`` by ``name``;
   ``ports`` by ``containerPort`` or ``port``; ``volumeMounts`` by ``mountPath``; ``conditions``
   by ``type``; ``$patch: delete|replace``; ``$deleteFromPrimitiveList``); else 415.
9. ``pods/NAME/log`` is ``text/plain`` (``tailLines``, ``limitBytes``, ``container``; a waiting
   container → 400 in the kubelet's words; 404 for a missing pod). Objects carry the fields
   lightkube's models require.
10. Server defaults (Secret ``type``, Deployment ``replicas``/``strategy``, pod-spec defaults,
   Service ``clusterIP``…), ``dryRun=All``, bearer-token authentication (401), discovery
   (``/api``, ``/apis``, ``/api/v1``…), ``/version``, ``SelfSubjectAccessReview``.

Test control (Python methods, not HTTP)
---------------------------------------
State: ``seed``, ``ensure_namespace``, ``get_object``, ``list_objects``. Kubelet and
controllers: ``set_pod_status``, ``image_pull_failure``, ``add_event``, ``set_pod_log``,
``create_pods_for``, ``complete_rollout``, ``stall_rollout``, ``set_deployment_status``.
Faults: ``fail_next``, ``latency``, ``timeout_mode``/``hang_next``, ``refuse``/``resume``,
``deny``, ``reset_faults``. Records: ``journal``, ``writes()``, ``internal_errors`` (emulator
bugs answered with 500; a test fixture should assert it stays empty).

Deliberately not done
---------------------
Watches and ``deletecollection`` (405), server-side apply (``application/apply-patch+yaml`` →
415 saying so), YAML/protobuf and chunked request bodies; controllers (no ReplicaSets; nothing
reconciles by itself: tests call ``complete_rollout``…; deletion is immediate, with no graceful
phase); schema and type checking of bodies (use kubernetes-validate) and pruning of unknown
fields; RBAC beyond "allow unless ``deny()``"; other kinds. Go's JSON error texts are
approximated.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import random
import re
import select
import socket
import socketserver
import string
import threading
import time
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import jsonpatch

if TYPE_CHECKING:
    import lightkube

__all__ = ["KINDS", "EmulatorError", "JournalEntry", "Kind", "KubeEmulator"]

JSON = dict[str, Any]
MAX_DATA_SIZE = 1024 * 1024
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
_VERBS = ("create", "delete", "get", "list", "patch", "update")


@dataclass(frozen=True)
class Kind:
    """One resource type the emulator serves."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True
    names: str = "subdomain"  # subdomain | label | dns1035 | path
    fields: tuple[str, ...] = ()  # field selectors besides metadata.name / metadata.namespace
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = _VERBS

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource(self) -> str:  # "secrets", "deployments.apps"
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:  # "Secret", "Deployment.apps"
        return f"{self.kind}.{self.group}" if self.group else self.kind


_POD_FIELDS = (
    *("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName"),
    *("spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"),
)
_EVENT_FIELDS = (
    *("involvedObject.kind", "involvedObject.namespace", "involvedObject.name"),
    *("involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion"),
    *("involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"),
)
_RBAC = "rbac.authorization.k8s.io"
KINDS: tuple[Kind, ...] = (
    Kind("", "v1", "Namespace", "namespaces", False, "label", ("status.phase",), ("status",)),
    Kind("", "v1", "Secret", "secrets", fields=("type",)),
    Kind("", "v1", "ConfigMap", "configmaps"),
    Kind("", "v1", "Service", "services", names="dns1035", subresources=("status",)),
    Kind("", "v1", "ServiceAccount", "serviceaccounts"),
    Kind("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", subresources=("status",)),
    Kind("", "v1", "PersistentVolume", "persistentvolumes", False, subresources=("status",)),
    Kind("", "v1", "Pod", "pods", fields=_POD_FIELDS, subresources=("log", "status")),
    Kind("", "v1", "Event", "events", fields=_EVENT_FIELDS),
    Kind("apps", "v1", "Deployment", "deployments", subresources=("status",)),
    Kind(_RBAC, "v1", "Role", "roles", names="path"),
    Kind(_RBAC, "v1", "RoleBinding", "rolebindings", names="path"),
    Kind("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews",
         False, verbs=("create",)),
)  # fmt: skip
_BY_PATH = {(k.group, k.version, k.plural): k for k in KINDS}
_BY_NAME = {k.kind: k for k in KINDS} | {k.plural: k for k in KINDS}
_GENERATION_KINDS = frozenset({"Deployment", "Pod"})


def _kind(name: str) -> Kind:
    if name not in _BY_NAME:
        raise ValueError(f"the emulator does not serve {name!r}")
    return _BY_NAME[name]


class EmulatorError(ValueError):
    """A test-control call was refused (for the reason the HTTP API would give)."""


# ----------------------------------------------------------------------------- Status errors


class _StatusError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: JSON | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def body(self) -> JSON:
        body: JSON = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure"}
        body["message"] = self.message
        if self.reason:
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details
        return body | {"code": self.code}


def _details(k: Kind, name: str, kind: str | None = None) -> JSON:
    details: JSON = {"name": name} if name else {}
    return details | ({"group": k.group} if k.group else {}) | {"kind": kind or k.plural}


def _bad_request(message: str) -> _StatusError:
    return _StatusError(400, "BadRequest", message)


def _not_found(k: Kind, name: str) -> _StatusError:
    return _StatusError(404, "NotFound", f'{k.resource} "{name}" not found', _details(k, name))


def _no_route() -> _StatusError:
    return _StatusError(404, "NotFound", "the server could not find the requested resource", {})


def _conflict(k: Kind, name: str, why: str) -> _StatusError:
    message = f'Operation cannot be fulfilled on {k.resource} "{name}": {why}'
    return _StatusError(409, "Conflict", message, _details(k, name))


def _decode_error(k: Kind, detail: str) -> _StatusError:
    return _bad_request(
        f'{k.kind} in version "{k.version}" cannot be handled as a {k.kind}: {detail}'
    )


def _unsupported_media(accepted: str) -> _StatusError:
    message = "the body of the request was in an unknown format - accepted media types include: "
    return _StatusError(415, "UnsupportedMediaType", message + accepted)


_MODIFIED = (
    "the object has been modified; please apply your changes to the latest version and try again"  # noqa: E501
)
_IMMUTABLE_DATA = "field is immutable when `immutable` is set"


@dataclass
class _FieldError:
    """``field.Error`` of k8s.io/apimachinery, formatted like its ``ErrorBody()``."""

    field: str
    type: str  # "Required value", "Invalid value", "Forbidden", "Too long", "Duplicate value"…
    value: Any = None
    detail: str = ""

    def body(self) -> str:
        text = self.type
        if self.type not in ("Required value", "Forbidden", "Too long"):
            text += f": {_go_value(self.value)}"
        return f"{text}: {self.detail}" if self.detail else text


def _required(path: str, detail: str = "") -> _FieldError:
    return _FieldError(path, "Required value", None, detail)


def _bad(path: str, value: Any, detail: str) -> _FieldError:
    return _FieldError(path, "Invalid value", value, detail)


def _forbidden(path: str, detail: str) -> _FieldError:
    return _FieldError(path, "Forbidden", None, detail)


def _unsupported(path: str, value: Any, *supported: str) -> _FieldError:
    allowed = ", ".join(f'"{s}"' for s in supported)
    return _FieldError(path, "Unsupported value", value, f"supported values: {allowed}")


_CAUSES = {
    "Required value": "FieldValueRequired", "Invalid value": "FieldValueInvalid",
    "Forbidden": "FieldValueForbidden", "Too long": "FieldValueTooLong",
    "Duplicate value": "FieldValueDuplicate", "Unsupported value": "FieldValueNotSupported",
}  # fmt: skip


def _go_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        pairs = ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted(value.items()))
        return f"map[string]string{{{pairs}}}"
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _invalid(k: Kind, name: str, errors: list[_FieldError]) -> _StatusError:
    lines = [f"{e.field}: {e.body()}" for e in errors]
    summary = lines[0] if len(lines) == 1 else "[" + ", ".join(lines) + "]"
    causes = [
        {"reason": _CAUSES.get(e.type, "FieldValueInvalid"), "message": e.body(), "field": e.field}
        for e in errors
    ]
    details = _details(k, name, kind=k.kind) | {"causes": causes}
    return _StatusError(
        422, "Invalid", f'{k.qualified_kind} "{name}" is invalid: {summary}', details
    )


# ------------------------------------------------------------------------ name and key rules

_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = _LABEL + r"(\." + _LABEL + ")*"
_DNS1035 = "[a-z]([-a-z0-9]*[a-z0-9])?"
_QUALIFIED = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE = "(" + _QUALIFIED + ")?"
_CONFIG_KEY = "[-._a-zA-Z0-9]+"
_NAME_TEXT = {
    _SUBDOMAIN: ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                 "characters, '-' or '.', and must start and end with an alphanumeric character",
                 ("example.com",)),
    _LABEL: ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
             "'-', and must start and end with an alphanumeric character", ("my-name", "123-abc")),
    _DNS1035: ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
               "with an alphabetic character, and end with an alphanumeric character",
               ("my-name", "abc-123")),
    _QUALIFIED: ("name part must consist of alphanumeric characters, '-', '_' or '.', and must "
                 "start and end with an alphanumeric character", ("MyName", "my.name", "123-abc")),
    _LABEL_VALUE: ("a valid label must be an empty string or consist of alphanumeric characters, "
                   "'-', '_' or '.', and must start and end with an alphanumeric character",
                   ("MyValue", "my_value", "12345")),
    _CONFIG_KEY: ("a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                  ("key.name", "KEY_NAME", "key-name")),
}  # fmt: skip


def _pattern_errors(pattern: str, value: str, max_length: int) -> list[str]:
    """apimachinery's ``IsDNS1123Subdomain`` & co: length, then ``RegexError`` wording."""
    errors = [f"must be no more than {max_length} characters"] if len(value) > max_length else []
    if re.fullmatch(pattern, value) is None:
        message, examples = _NAME_TEXT[pattern]
        shown = " or ".join(f"'{e}', " for e in examples)
        errors.append(f"{message} (e.g. {shown}regex used for validation is '{pattern}')")
    return errors


def _name_errors(rule: str, name: str) -> list[str]:
    if rule == "path":
        bad = [f"may not contain '{c}'" for c in "/%" if c in name]
        return [f"may not be '{name}'"] if name in (".", "..") else bad
    pattern, limit = {"subdomain": (_SUBDOMAIN, 253), "dns1035": (_DNS1035, 63)}.get(
        rule, (_LABEL, 63)
    )
    errors = _pattern_errors(pattern, name, limit)
    if rule == "label" and not re.fullmatch(_LABEL, name) and re.fullmatch(_SUBDOMAIN, name):
        errors[-1] = "must not contain dots"
    return errors


def _key_errors(key: str) -> list[str]:
    """Errors of a label or annotation key (a qualified name)."""
    prefix, slash, name = key.rpartition("/")
    errors = [f"prefix part {e}" for e in _pattern_errors(_SUBDOMAIN, prefix, 253)] if slash else []
    if not name:
        return [*errors, "name part must be non-empty"]
    return errors + [e.replace("must be no", "name part must be no") for e in
                     _pattern_errors(_QUALIFIED, name, 63)]  # fmt: skip


def _metadata_errors(k: Kind, meta: JSON, creating: bool) -> list[_FieldError]:
    errors, name = [], meta.get("name") or ""
    if creating and not name:
        errors.append(_required("metadata.name", "name or generateName is required"))
    elif creating:
        errors += [_bad("metadata.name", name, m) for m in _name_errors(k.names, name)]
    for key, value in (meta.get("labels") or {}).items():
        errors += [_bad("metadata.labels", key, m) for m in _key_errors(key)]
        errors += [
            _bad("metadata.labels", value, m) for m in _pattern_errors(_LABEL_VALUE, value, 63)
        ]
    for key in meta.get("annotations") or {}:
        errors += [_bad("metadata.annotations", key, m) for m in _key_errors(key)]
    return errors


def _config_key_errors(section: str, keys: Any) -> list[_FieldError]:
    return [
        _bad(f"{section}[{key}]", key, message)
        for key in keys
        for message in _pattern_errors(_CONFIG_KEY, key, 253)
    ]


# ---------------------------------------------------------------------------------- selectors


@dataclass(frozen=True)
class _Requirement:
    key: str
    op: str  # exists, !, =, !=, in, notin
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present, value = self.key in labels, labels.get(self.key)
        if self.op in ("exists", "!"):
            return present == (self.op == "exists")
        if self.op in ("=", "in"):
            return present and value in self.values
        return not present or value not in self.values  # != and notin


_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_SET_RE = re.compile(rf"\s*({_KEY})\s+(in|notin)\s*\(([^()]*)\)\s*")
_EQ_RE = re.compile(rf"\s*({_KEY})\s*(==|!=|=)\s*([-A-Za-z0-9_.]*)\s*")
_EXISTS_RE = re.compile(rf"\s*(!?)\s*({_KEY})\s*")


def parse_label_selector(text: str) -> list[_Requirement]:
    """Parse a ``labelSelector`` query value (a 400 Status on a syntax error)."""
    parts: list[str] = []
    depth, current = 0, ""
    for char in text:  # split on the commas outside parentheses
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts, current = [*parts, current], ""
        else:
            current += char
    requirements = []
    for part in (p for p in [*parts, current] if p.strip()):
        if m := _SET_RE.fullmatch(part):
            values = tuple(v.strip() for v in m.group(3).split(",") if v.strip())
            requirements.append(_Requirement(m.group(1), m.group(2), values))
        elif m := _EQ_RE.fullmatch(part):
            op = "=" if m.group(2) == "==" else m.group(2)
            requirements.append(_Requirement(m.group(1), op, (m.group(3),)))
        elif m := _EXISTS_RE.fullmatch(part):
            requirements.append(_Requirement(m.group(2), "!" if m.group(1) else "exists"))
        else:
            raise _bad_request(f"unable to parse requirement: invalid label selector: {part!r}")
    return requirements


def _selector_requirements(selector: Mapping[str, Any]) -> list[_Requirement]:
    """A ``LabelSelector`` (matchLabels + matchExpressions) as requirements."""
    reqs = [_Requirement(k, "=", (v,)) for k, v in (selector.get("matchLabels") or {}).items()]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in selector.get("matchExpressions") or []:
        op = ops.get(expr.get("operator", ""), "in")
        reqs.append(_Requirement(expr.get("key", ""), op, tuple(expr.get("values") or ())))
    return reqs


def _field_value(obj: Mapping[str, Any], path: str) -> str:
    current: Any = obj
    for part in ("source.component" if path == "source" else path).split("."):
        current = current.get(part) if isinstance(current, dict) else None
    if isinstance(current, bool):
        return "true" if current else "false"
    return "" if current is None else str(current)


def _parse_field_selector(k: Kind, text: str) -> list[tuple[str, bool, str]]:
    """``(field, equal?, value)`` terms; a field the real server does not index → 400."""
    terms = []
    for part in (p for p in text.split(",") if p.strip()):
        m = re.fullmatch(r"\s*([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*?)\s*", part)
        if m is None:
            raise _bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        if m.group(1) not in ("metadata.name", "metadata.namespace", *k.fields):
            raise _bad_request(f"field label not supported: {m.group(1)}")
        terms.append((m.group(1), m.group(2) != "!=", m.group(3)))
    return terms


# ---------------------------------------------------------------------------------- patching

_MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "env": "name", "volumes": "name", "imagePullSecrets": "name", "secrets": "name",
    "volumeMounts": "mountPath", "volumeDevices": "devicePath", "conditions": "type",
    "hostAliases": "ip", "ports": "",  # containerPort for container ports, port for Services
}  # fmt: skip


def strategic_merge(original: Any, patch: Any) -> Any:
    """Apply a strategic merge patch (the merge keys and directives of the module doc)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    result = copy.deepcopy(original) if isinstance(original, dict) else {}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            target = key.split("/", 1)[1]
            result[target] = [x for x in result.get(target) or [] if x not in value]
        elif key.startswith("$"):
            continue  # $patch, $retainKeys, $setElementOrder/…: hints this emulator ignores
        elif value is None or (isinstance(value, dict) and value.get("$patch") == "delete"):
            result.pop(key, None)
        elif isinstance(value, list) and key in _MERGE_KEYS:
            result[key] = _merge_list(result.get(key) or [], value, key)
        elif isinstance(value, list) and key == "finalizers":
            result[key] = list(result.get(key) or [])
            result[key] += [v for v in value if v not in result[key]]
        else:
            result[key] = strategic_merge(result.get(key), value)
    return result


def _merge_list(original: list[Any], patch: list[Any], field_name: str) -> list[Any]:
    if not all(isinstance(item, dict) for item in [*original, *patch]):
        return copy.deepcopy(patch)
    if any(item.get("$patch") == "replace" for item in patch):
        return [copy.deepcopy(item) for item in patch if "$patch" not in item]
    key = _MERGE_KEYS[field_name] or (
        "containerPort" if any("containerPort" in x for x in [*original, *patch]) else "port"
    )
    result = copy.deepcopy(original)
    for item in patch:
        index = next((i for i, o in enumerate(result) if o.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            result = [o for o in result if o.get(key) != item.get(key)]
        elif index is None:
            result.append(strategic_merge({}, item))
        else:
            result[index] = strategic_merge(result[index], item)
    return result


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# ---------------------------------------------------------------------- journal and helpers


@dataclass
class JournalEntry:
    """One HTTP request the emulator received (``status`` 0: never answered)."""

    method: str
    path: str
    query: dict[str, str]
    content_type: str | None
    body: Any
    status: int = 0

    @property
    def is_write(self) -> bool:
        """Would change state: POST/PUT/PATCH/DELETE, not a dry run, not an access review."""
        return (
            self.method in ("POST", "PUT", "PATCH", "DELETE")
            and not self.path.endswith("/selfsubjectaccessreviews")
            and self.query.get("dryRun") != "All"
        )


@dataclass
class _Fault:
    remaining: int
    status: int
    method: str | None
    path: str | None
    after_commit: bool
    message: str | None


@dataclass
class _Response:
    code: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


_FAULT_TEXT = {
    429: ("TooManyRequests", "Too many requests, please try again later."),
    500: ("InternalError", "Internal error occurred: injected by the test"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: ("Timeout", "the server was unable to return a response in the time allotted, "
          "but may still be processing the request"),
}  # fmt: skip
_ROOT_CA = "-----BEGIN CERTIFICATE-----\nMIIBemulator\n-----END CERTIFICATE-----\n"
_PAGE_NOT_FOUND = _Response(404, b"404 page not found\n", "text/plain; charset=utf-8")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _suffix() -> str:
    return "".join(random.choices("bcdfghjklmnpqrstvwxz2456789", k=5))


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _template_hash(deployment: JSON) -> str:
    return hashlib.sha256(_dumps(deployment["spec"]["template"])).hexdigest()[:10]


def _json_type(value: Any) -> str:
    if isinstance(value, dict | list):
        return "object" if isinstance(value, dict) else "array"
    if isinstance(value, bool):
        return "bool"
    return "number" if isinstance(value, int | float) else "string"


def _base64_error(value: str) -> str | None:
    text = value.replace("\r", "").replace("\n", "")
    alphabet = string.ascii_letters + string.digits + "+/="
    bad = next((i for i, c in enumerate(text) if c not in alphabet), None)
    if bad is None:
        try:
            base64.b64decode(text, validate=True)
            return None
        except binascii.Error:
            bad = len(text) - len(text) % 4
    return f"illegal base64 data at input byte {bad}"


def _b64len(value: str) -> int:
    return len(base64.b64decode(value.replace("\r", "").replace("\n", "")))


def _json_object_error(raw: bytes) -> str | None:
    """Go's ``json.Unmarshal`` into ``map[string]interface{}`` (``null`` is accepted)."""
    text = raw.decode(errors="replace")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        if not text.strip():
            return "unexpected end of JSON input"
        return f"invalid character {text[e.pos : e.pos + 1]!r} ({e.msg})"
    if value is None or isinstance(value, dict):
        return None
    return f"json: cannot unmarshal {_json_type(value)} into Go value of type map[string]interface {{}}"  # noqa: E501


def _pod_ready(pod: JSON) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _condition(kind: str, status: str, reason: str, message: str) -> JSON:
    now = _now()
    return {"type": kind, "status": status, "lastUpdateTime": now, "lastTransitionTime": now,
            "reason": reason, "message": message}  # fmt: skip


def _client_gone(sock: socket.socket) -> bool:
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


# ------------------------------------------------------------------------------ the emulator


class KubeEmulator:
    """The emulated API server: ``with KubeEmulator() as kube:``, or ``start()``/``stop()``."""

    def __init__(
        self,
        *,
        token: str | None = "emulator-token",
        username: str = "system:serviceaccount:vectis:vectis-admin",
        git_version: str = "v1.37.0",
        namespaces: tuple[str, ...] = ("default", "kube-system", "kube-public", "kube-node-lease"),
    ) -> None:
        #: bearer token every API request must carry (None: no authentication)
        self.token = token
        #: the user named in Forbidden messages
        self.username = username
        self.git_version = git_version
        #: seconds added before every answer
        self.latency: float = 0.0
        #: while true every request is accepted and never answered (the client times out)
        self.timeout_mode: bool = False
        #: tracebacks of requests the emulator failed on itself (answered 500): keep it empty
        self.internal_errors: list[str] = []
        self._lock = threading.RLock()
        self._objects: dict[tuple[str, str, str], JSON] = {}
        self._logs: dict[tuple[str, str, str], str] = {}
        self._journal: list[JournalEntry] = []
        self._faults: list[_Fault] = []
        self._denials: list[tuple[str, str, str | None, str | None, str | None]] = []
        self._hang_budget = 0
        self._rv = 1000
        self._ips = 10
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        for name in namespaces:
            self.ensure_namespace(name)

    # ------------------------------------------------------------------ lifecycle and clients

    def start(self) -> KubeEmulator:
        if self._server is None:
            self._stopping.clear()
            self._listen()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._close_server()

    def __enter__(self) -> KubeEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        if not self._port:
            raise RuntimeError("the emulator is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def auth_headers(self) -> dict[str, str]:
        """Headers for raw HTTP requests (httpx) to the API."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def kubeconfig(self, namespace: str = "default") -> JSON:
        """A kubeconfig (as a dict) for the emulator: server URL, bearer token, namespace."""
        user: JSON = {"token": self.token} if self.token else {"username": "u", "password": "p"}
        context = {"cluster": "emulator", "user": "emulator", "namespace": namespace}
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "emulator",
            "clusters": [{"name": "emulator", "cluster": {"server": self.base_url}}],
            "users": [{"name": "emulator", "user": user}],
            "contexts": [{"name": "emulator", "context": context}],
        }

    def write_kubeconfig(self, path: Path, namespace: str = "default") -> Path:
        """Write :meth:`kubeconfig` to ``path`` (JSON, which is YAML too) and return ``path``."""
        path.write_text(json.dumps(self.kubeconfig(namespace), indent=2))
        return path

    def lightkube_client(
        self, namespace: str = "default", timeout: float = 5.0
    ) -> lightkube.Client:
        """A lightkube sync ``Client`` for the emulator (close it, or use it as a context).

        Built from :meth:`kubeconfig`: ``KubeConfig.from_server(url)`` does not work with
        lightkube 1.0 (its client asserts that the configuration has a user)."""
        import httpx2
        import lightkube

        config = lightkube.KubeConfig.from_dict(self.kubeconfig(namespace))
        return lightkube.Client(config, timeout=httpx2.Timeout(timeout), trust_env=False)

    def lightkube_async_client(
        self, namespace: str = "default", timeout: float = 5.0
    ) -> lightkube.AsyncClient:
        """A lightkube ``AsyncClient`` for the emulator (``await client.close()`` it)."""
        import httpx2
        import lightkube

        config = lightkube.KubeConfig.from_dict(self.kubeconfig(namespace))
        return lightkube.AsyncClient(config, timeout=httpx2.Timeout(timeout), trust_env=False)

    # ------------------------------------------------------------------------------- faults

    def fail_next(
        self,
        n: int = 1,
        status: int = 503,
        *,
        method: str | None = None,
        path: str | None = None,
        after_commit: bool = False,
        message: str | None = None,
    ) -> None:
        """Answer the next ``n`` requests (only ``method``, or with ``path`` in the URL path,
        if given) with a ``status`` Status. ``after_commit``: the request takes effect first,
        then its answer is replaced by the failure (for idempotent-retry tests)."""
        with self._lock:
            self._faults.append(_Fault(n, status, method, path, after_commit, message))

    def hang_next(self, n: int = 1) -> None:
        """The next ``n`` requests are accepted and never answered (the client times out)."""
        with self._lock:
            self._hang_budget += n

    def refuse(self) -> None:
        """Stop listening and drop open connections: connections are refused until resume()."""
        self._close_server()

    def resume(self) -> None:
        """Listen again, on the same port, after :meth:`refuse`."""
        if self._server is None:
            self._listen(self._port)

    def deny(
        self,
        verb: str,
        resource: str,
        *,
        namespace: str | None = None,
        name: str | None = None,
        group: str | None = None,
    ) -> None:
        """RBAC denies ``verb`` on ``resource`` (``"*"`` matches any; ``"pods/log"`` names a
        subresource): requests get 403 Forbidden, SelfSubjectAccessReviews ``allowed: false``."""
        with self._lock:
            self._denials.append((verb, resource, namespace, name, group))

    def reset_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._denials.clear()
            self._hang_budget = 0
            self.latency, self.timeout_mode = 0.0, False

    # ------------------------------------------------------------------------------ journal

    @property
    def journal(self) -> list[JournalEntry]:
        """Every request received, oldest first."""
        with self._lock:
            return list(self._journal)

    def writes(self) -> list[JournalEntry]:
        """The requests that would change state (see :attr:`JournalEntry.is_write`)."""
        return [e for e in self.journal if e.is_write]

    def clear_journal(self) -> None:
        with self._lock:
            self._journal.clear()

    # ---------------------------------------------------------------- state: seed and read

    @property
    def resource_version(self) -> int:
        """The current (last written) resourceVersion."""
        return self._rv

    def seed(self, obj: Mapping[str, Any] | Any) -> JSON:
        """Store an object without validation, admission or journal entry (a dict, or a
        lightkube object), replacing one of the same name; server fields and defaults are
        filled in (a given ``uid``/``creationTimestamp`` is kept). A namespaced object's
        namespace (``default`` if unset) must exist."""
        body = obj.to_dict() if hasattr(obj, "to_dict") else copy.deepcopy(dict(obj))
        k = _kind(body.get("kind", ""))
        meta = body.setdefault("metadata", {})
        if k.namespaced:
            meta.setdefault("namespace", "default")
        with self._lock:
            self._objects.pop((k.plural, meta.get("namespace", ""), meta.get("name", "")), None)
            try:
                return self._create(k, "", body, validate=False)
            except _StatusError as e:
                raise EmulatorError(e.message) from None

    def ensure_namespace(self, name: str) -> JSON:
        """The namespace, created (seeded) if missing."""
        with self._lock:
            existing = self._objects.get(("namespaces", "", name))
            if existing is not None:
                return copy.deepcopy(existing)
            return self.seed({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    def get_object(self, kind: str, name: str, namespace: str = "") -> JSON | None:
        """A copy of the stored object, or None; ``kind`` as ``"Secret"`` or ``"secrets"``."""
        k = _kind(kind)
        with self._lock:
            obj = self._objects.get((k.plural, namespace if k.namespaced else "", name))
            return copy.deepcopy(obj)

    def list_objects(self, kind: str, namespace: str | None = None) -> list[JSON]:
        """Copies of the stored objects of a kind (in one namespace, or all)."""
        k = _kind(kind)
        with self._lock:
            keys = [key for key in sorted(self._objects) if key[0] == k.plural]
            return [
                copy.deepcopy(self._objects[key]) for key in keys if namespace in (None, key[1])
            ]

    # ------------------------------------------------------------ kubelet and controller side

    def set_pod_log(self, namespace: str, pod: str, text: str, container: str = "") -> None:
        """The log text of a pod's container (``container`` empty: its first container)."""
        with self._lock:
            self._logs[(namespace, pod, self._container(namespace, pod, container))] = text

    def set_pod_status(
        self,
        namespace: str,
        name: str,
        *,
        phase: str | None = None,
        ready: bool | None = None,
        waiting: tuple[str, str] | None = None,
        container_statuses: list[JSON] | None = None,
        pod_ip: str | None = None,
        node_name: str | None = None,
        start_time: str | None = None,
        restart_count: int = 0,
    ) -> JSON:
        """Write what the kubelet reports. ``waiting=(reason, message)`` puts every container
        in ``state.waiting``; ``ready`` defaults to "Running and not waiting";
        ``container_statuses`` replaces the generated list verbatim."""
        with self._lock:
            pod = copy.deepcopy(self._must_get("Pod", namespace, name))
            status, spec, now = pod.setdefault("status", {}), pod["spec"], _now()
            if phase is not None:
                status["phase"] = phase
            if node_name is not None:
                spec["nodeName"], status["hostIP"] = node_name, "10.0.0.10"
            if pod_ip is not None:
                status["podIP"], status["podIPs"] = pod_ip, [{"ip": pod_ip}]
            if start_time is not None or (spec.get("nodeName") and "startTime" not in status):
                status["startTime"] = start_time or now
            running = status.get("phase") == "Running" and waiting is None
            ready = running if ready is None else ready
            if container_statuses is None:
                container_statuses = []
                for c in spec.get("containers", []):
                    image = c.get("image", "")
                    state: JSON = {"running": {"startedAt": status.get("startTime", now)}}
                    if waiting is not None:
                        state = {"waiting": {"reason": waiting[0], "message": waiting[1]}}
                    elif not running:
                        state = {"waiting": {"reason": "ContainerCreating"}}
                    digest = hashlib.sha256(image.encode()).hexdigest()
                    container_statuses.append(
                        {
                            "name": c["name"],
                            "image": image,
                            "imageID": f"{image}@sha256:{digest}" if running else "",
                            "ready": ready,
                            "restartCount": restart_count,
                            "started": running,
                            "state": state,
                        }
                    )
            status["containerStatuses"] = container_statuses
            all_ready = bool(container_statuses) and all(c["ready"] for c in container_statuses)
            checks = [
                ("PodScheduled", bool(spec.get("nodeName"))),
                ("Initialized", True),
                ("ContainersReady", all_ready),
                ("Ready", all_ready),
            ]
            status["conditions"] = [
                {"type": t, "status": str(ok), "lastTransitionTime": now} for t, ok in checks
            ]
            status.setdefault("qosClass", "BestEffort")
            return self._commit(_BY_NAME["Pod"], pod)

    def add_event(
        self,
        involved: Mapping[str, Any],
        reason: str,
        message: str,
        *,
        event_type: str = "Normal",
        component: str = "kubelet",
        host: str | None = "node-1",
        count: int = 1,
        field_path: str | None = None,
    ) -> JSON:
        """Store a core/v1 Event about ``involved`` (a stored object, or a reference with
        ``kind``, ``name``, ``namespace``), as a kubelet or a controller would."""
        meta = involved.get("metadata", involved)
        namespace, name = meta.get("namespace", "default"), meta["name"]
        ref = {"kind": involved["kind"], "namespace": namespace, "name": name}
        ref |= {key: meta[key] for key in ("uid", "resourceVersion") if key in meta}
        ref |= {"apiVersion": involved.get("apiVersion", "v1")}
        ref |= {"fieldPath": field_path} if field_path else {}
        now = _now()
        return self.seed(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": f"{name}.{uuid.uuid4().hex[:16]}", "namespace": namespace},
                "involvedObject": ref,
                "reason": reason,
                "message": message,
                "type": event_type,
                "source": {"component": component} | ({"host": host} if host else {}),
                "count": count,
                "firstTimestamp": now,
                "lastTimestamp": now,
                "reportingComponent": component,
                "reportingInstance": host or "",
            }
        )

    def image_pull_failure(
        self,
        namespace: str,
        pod: str,
        *,
        reason: str = "ImagePullBackOff",
        error: str | None = None,
        container: str = "",
    ) -> JSON:
        """Put a pod in ``ErrImagePull`` or ``ImagePullBackOff`` (``reason``), with the
        kubelet's events; ``error`` is the container runtime's text (default: not found)."""
        with self._lock:
            spec = self._must_get("Pod", namespace, pod)["spec"]
            name = self._container(namespace, pod, container)
            image = next(c.get("image", "") for c in spec["containers"] if c["name"] == name)
            error = error or (
                f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": '
                f'failed to resolve reference "{image}": {image}: not found'
            )
            backoff = f'Back-off pulling image "{image}"'
            message = error if reason == "ErrImagePull" else f"{backoff}: ErrImagePull: {error}"
            updated = self.set_pod_status(
                namespace,
                pod,
                phase="Pending",
                waiting=(reason, message),
                node_name=spec.get("nodeName") or "node-1",
            )
            events = [
                ("Normal", "Pulling", f'Pulling image "{image}"'),
                ("Warning", "Failed", f'Failed to pull image "{image}": {error}'),
                ("Warning", "Failed", "Error: ErrImagePull"),
            ]
            if reason == "ImagePullBackOff":
                events += [
                    ("Normal", "BackOff", backoff),
                    ("Warning", "Failed", f"Error: {reason}"),
                ]
            for kind, why, text in events:
                path = f"spec.containers{{{name}}}"
                self.add_event(updated, why, text, event_type=kind, field_path=path)
            return updated

    def create_pods_for(
        self,
        namespace: str,
        deployment: str,
        *,
        count: int | None = None,
        phase: str = "Running",
        ready: bool | None = None,
    ) -> list[JSON]:
        """Create the pods the Deployment's ReplicaSet would (template labels plus
        ``pod-template-hash``, ownerReference, ServiceAccount admission), on ``node-1``."""
        with self._lock:
            dep = self._must_get("Deployment", namespace, deployment)
            template, digest = dep["spec"]["template"], _template_hash(dep)
            labels = dict((template.get("metadata") or {}).get("labels") or {})
            labels["pod-template-hash"] = digest
            owner = {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": f"{deployment}-{digest}",
                "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/{deployment}-{digest}")),
                "controller": True,
                "blockOwnerDeletion": True,
            }
            created = []
            for _ in range(dep["spec"].get("replicas", 1) if count is None else count):
                meta: JSON = {"name": f"{owner['name']}-{_suffix()}", "namespace": namespace}
                meta |= {"labels": dict(labels), "ownerReferences": [dict(owner)]}
                pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta}
                pod["spec"] = copy.deepcopy(template["spec"])
                try:
                    stored = self._create(_BY_NAME["Pod"], namespace, pod)
                except _StatusError as e:
                    raise EmulatorError(e.message) from None
                self._ips += 1
                ip = f"10.244.{self._ips // 250}.{self._ips % 250 + 2}"
                name = stored["metadata"]["name"]
                created.append(
                    self.set_pod_status(
                        namespace, name, phase=phase, ready=ready, node_name="node-1", pod_ip=ip
                    )
                )
            return created

    def set_deployment_status(self, namespace: str, name: str, status: JSON) -> JSON:
        """Replace a Deployment's ``status`` (as its controller does)."""
        with self._lock:
            dep = copy.deepcopy(self._must_get("Deployment", namespace, name))
            dep["status"] = copy.deepcopy(status)
            return self._commit(_BY_NAME["Deployment"], dep)

    def complete_rollout(self, namespace: str, name: str, *, create_pods: bool = True) -> JSON:
        """What the controllers report once every replica is updated and ready (its pods are
        created, or marked running and ready, unless ``create_pods`` is false)."""
        with self._lock:
            dep = self._must_get("Deployment", namespace, name)
            replicas = dep["spec"].get("replicas", 1)
            if create_pods:
                existing = self._pods_of(dep)
                for pod in (p for p in existing if not _pod_ready(p)):
                    pod_name = pod["metadata"]["name"]
                    self.set_pod_status(namespace, pod_name, phase="Running", ready=True)
                if replicas > len(existing):
                    self.create_pods_for(namespace, name, count=replicas - len(existing))
            counts = ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")
            status: JSON = {"observedGeneration": dep["metadata"].get("generation", 1)}
            status |= {key: replicas for key in counts if replicas}
            rs = f"{name}-{_template_hash(dep)}"
            status["conditions"] = [
                _condition("Available", "True", "MinimumReplicasAvailable",
                           "Deployment has minimum availability."),
                _condition("Progressing", "True", "NewReplicaSetAvailable",
                           f'ReplicaSet "{rs}" has successfully progressed.'),
            ]  # fmt: skip
            return self.set_deployment_status(namespace, name, status)

    def stall_rollout(
        self,
        namespace: str,
        name: str,
        *,
        reason: str = "ImagePullBackOff",
        error: str | None = None,
        deadline_exceeded: bool = False,
    ) -> JSON:
        """Pods that cannot pull their image (with the kubelet's events) and the Deployment
        status that results (``ProgressDeadlineExceeded`` if ``deadline_exceeded``)."""
        with self._lock:
            dep = self._must_get("Deployment", namespace, name)
            replicas = dep["spec"].get("replicas", 1)
            for pod in self.create_pods_for(namespace, name, phase="Pending", ready=False):
                pod_name = pod["metadata"]["name"]
                self.image_pull_failure(namespace, pod_name, reason=reason, error=error)
            rs = f"{name}-{_template_hash(dep)}"
            progressing = (
                (
                    "False",
                    "ProgressDeadlineExceeded",
                    f'ReplicaSet "{rs}" has timed out progressing.',
                )
                if deadline_exceeded
                else ("True", "ReplicaSetUpdated", f'ReplicaSet "{rs}" is progressing.')
            )
            status = {
                "observedGeneration": dep["metadata"].get("generation", 1),
                "replicas": replicas,
                "updatedReplicas": replicas,
                "unavailableReplicas": replicas,
                "conditions": [
                    _condition("Available", "False", "MinimumReplicasUnavailable",
                               "Deployment does not have minimum availability."),
                    _condition("Progressing", *progressing),
                ],
            }  # fmt: skip
            return self.set_deployment_status(namespace, name, status)

    def _pods_of(self, dep: JSON) -> list[JSON]:
        reqs = _selector_requirements(dep["spec"]["selector"])
        return [
            pod
            for (plural, ns, _), pod in sorted(self._objects.items())
            if plural == "pods"
            and ns == dep["metadata"]["namespace"]
            and all(r.matches(pod["metadata"].get("labels") or {}) for r in reqs)
        ]

    def _container(self, namespace: str, pod: str, container: str) -> str:
        names = [c["name"] for c in self._must_get("Pod", namespace, pod)["spec"]["containers"]]
        if container and container not in names:
            raise EmulatorError(f"container {container} is not valid for pod {pod}")
        return container or names[0]

    def _must_get(self, kind: str, namespace: str, name: str) -> JSON:
        try:
            return self._get(_BY_NAME[kind], namespace, name)
        except _StatusError as e:
            raise EmulatorError(e.message) from None

    # ------------------------------------------------------------------------ HTTP serving

    def _listen(self, port: int = 0) -> None:
        server = _Server(("127.0.0.1", port), self)
        self._server, self._port = server, server.server_port
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"kube-emulator-{self._port}",
            daemon=True,
        )
        self._thread.start()

    def _close_server(self) -> None:
        server, thread, self._server, self._thread = self._server, self._thread, None, None
        if server is None or thread is None:
            return
        server.shutdown()
        server.server_close()
        thread.join()
        server.drop_connections()
        server.join_workers(timeout=5.0)

    def _on_request(self, h: _Handler) -> None:
        try:
            self._serve(h)
        except OSError:  # the client went away, or refuse()/stop() shut the socket down
            h.close_connection = True

    def _serve(self, h: _Handler) -> None:
        parts = urlsplit(h.path)
        path = unquote(parts.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        raw = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        try:
            parsed: Any = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        entry = JournalEntry(h.command, path, query, h.headers.get("Content-Type"), parsed)
        with self._lock:
            self._journal.append(entry)
            hang = self.timeout_mode or self._hang_budget > 0
            self._hang_budget = max(0, self._hang_budget - 1)
            fault = next((f for f in self._faults if self._fault_applies(f, h.command, path)), None)
            if fault is not None:
                fault.remaining -= 1
        if hang:  # accept, then wait until the client gives up (or the server stops)
            while not self._stopping.wait(0.05) and not _client_gone(h.connection):
                pass
            h.close_connection = True
            return
        if self.latency > 0:
            self._stopping.wait(self.latency)
        response = _PAGE_NOT_FOUND
        if fault is None or fault.after_commit:
            response = self._respond(h, path, query, raw)
        if fault is not None:
            reason, text = _FAULT_TEXT.get(fault.status, ("", f"injected failure {fault.status}"))
            error = _StatusError(fault.status, reason, fault.message or text)
            headers = {"Retry-After": "1"} if fault.status in (429, 503) else {}
            response = _Response(fault.status, _dumps(error.body()), headers=headers)
        entry.status = response.code
        h.send_response(response.code)
        for name, value in {
            "Content-Type": response.content_type,
            "Content-Length": str(len(response.body)),
            "Cache-Control": "no-cache, private",
            **response.headers,
        }.items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(response.body)

    @staticmethod
    def _fault_applies(fault: _Fault, method: str, path: str) -> bool:
        wanted_method = fault.method in (None, method)
        return fault.remaining > 0 and wanted_method and (fault.path or "") in path

    def _respond(self, h: _Handler, path: str, query: dict[str, str], raw: bytes) -> _Response:
        try:
            if path in ("/healthz", "/livez", "/readyz"):
                return _Response(200, b"ok", "text/plain; charset=utf-8")
            if path == "/version":
                return _Response(200, _dumps(self._version()))
            if self.token and h.headers.get("Authorization") != f"Bearer {self.token}":
                raise _StatusError(401, "Unauthorized", "Unauthorized")
            ctype = (h.headers.get("Content-Type") or "application/json").split(";")[0]
            return self._dispatch(h.command, path, query, raw, ctype.strip().lower())
        except _StatusError as e:
            return _Response(e.code, _dumps(e.body()))
        except Exception:  # an emulator bug: answer as the real server would, and keep it
            self.internal_errors.append(traceback.format_exc())
            error = _StatusError(500, "InternalError", "Internal error occurred: emulator bug")
            return _Response(500, _dumps(error.body()))

    def _version(self) -> JSON:
        major, minor = self.git_version.lstrip("v").split(".")[:2]
        return {
            "major": major,
            "minor": minor,
            "gitVersion": self.git_version,
            "gitCommit": "0" * 40,
            "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z",
            "goVersion": "go1.25.0",
            "compiler": "gc",
            "platform": "linux/amd64",
        }

    def _discovery(self, path: str) -> JSON:
        if path == "/api":
            address = {"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{self._port}"}
            return {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [address],
            }
        if path == "/apis":
            groups = []
            for group in sorted({k.group for k in KINDS if k.group}):
                version = {"groupVersion": f"{group}/v1", "version": "v1"}
                groups.append({"name": group, "versions": [version], "preferredVersion": version})
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
        group_version = path.removeprefix("/api/").removeprefix("/apis/")
        resources = []
        for k in (k for k in KINDS if k.api_version == group_version):
            base = {"singularName": "", "namespaced": k.namespaced, "kind": k.kind}
            resources.append(base | {"name": k.plural, "singularName": k.kind.lower()})
            resources[-1]["verbs"] = list(k.verbs)
            for sub in k.subresources:
                verbs = ["get"] if sub == "log" else ["get", "patch", "update"]
                resources.append(base | {"name": f"{k.plural}/{sub}", "verbs": verbs})
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": group_version,
            "resources": resources,
        }

    def _dispatch(
        self, method: str, path: str, query: dict[str, str], raw: bytes, ctype: str
    ) -> _Response:
        segments = [s for s in path.split("/") if s]
        if segments[:1] == ["api"] and len(segments) >= 2:
            group, version, rest = "", segments[1], segments[2:]
        elif segments[:1] == ["apis"] and len(segments) >= 3:
            group, version, rest = segments[1], segments[2], segments[3:]
        elif path in ("/api", "/apis") and method == "GET":
            return _Response(200, _dumps(self._discovery(path)))
        else:
            return _PAGE_NOT_FOUND
        if not any(k.group == group and k.version == version for k in KINDS):
            return _PAGE_NOT_FOUND
        if not rest:
            return _Response(200, _dumps(self._discovery(path.rstrip("/"))))
        namespace = ""
        if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
            namespace, rest = rest[1], rest[2:]
        k = _BY_PATH.get((group, version, rest[0]))
        name, sub = (rest + ["", ""])[1:3]
        if k is None or len(rest) > 3 or (sub and sub not in k.subresources):
            raise _no_route()
        if (k.namespaced and name and not namespace) or (namespace and not k.namespaced):
            raise _no_route()
        verbs = {"GET": "get" if name else "list", "POST": "create", "PUT": "update"}
        verb = (verbs | {"PATCH": "patch", "DELETE": "delete"}).get(method, "")
        needs_name = verb in ("get", "update", "patch", "delete")
        unsupported = query.get("watch") in ("true", "1") or (sub == "log" and verb != "get")
        if verb not in k.verbs or needs_name != bool(name) or unsupported:
            message = "the server does not allow this method on the requested resource"
            raise _StatusError(405, "MethodNotAllowed", message, _details(k, name))
        self._authorize(k, verb, namespace, name, sub)
        dry_run = query.get("dryRun")
        if dry_run not in (None, "All"):
            raise _bad_request(f'dryRun: Unsupported value: "{dry_run}": supported values: "All"')
        body: Any = None
        if method in ("POST", "PUT") or (method == "DELETE" and raw):
            if ctype != "application/json":
                raise _unsupported_media(
                    "application/json, application/yaml, application/vnd.kubernetes.protobuf"
                )
            try:
                body = json.loads(raw) if raw else None
            except ValueError as e:
                raise _decode_error(
                    k, f"couldn't get version/kind; json parse error: {e}"
                ) from None
        with self._lock:
            if verb == "get":
                if sub == "log":
                    return self._pod_log(namespace, name, query)
                return _Response(200, _dumps(self._get(k, namespace, name)))
            if verb == "list":
                return _Response(200, _dumps(self._list(k, namespace, query)))
            if k.kind == "SelfSubjectAccessReview":
                return _Response(201, _dumps(self._access_review(k, body)))
            if verb == "create":
                return _Response(201, _dumps(self._create(k, namespace, body, bool(dry_run))))
            if verb == "update":
                result = self._update(k, namespace, name, body, sub, bool(dry_run))
            elif verb == "patch":
                result = self._patch(k, namespace, name, raw, ctype, sub, bool(dry_run))
            else:
                result = self._delete(k, namespace, name, body, bool(dry_run))
            return _Response(200, _dumps(result))

    def _authorize(self, k: Kind, verb: str, namespace: str, name: str, sub: str) -> None:
        resource = f"{k.plural}/{sub}" if sub else k.plural
        if not self._denied(verb, resource, namespace, name, k.group):
            return
        scope = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
        why = f'User "{self.username}" cannot {verb} resource "{resource}" in API group "{k.group}"'
        subject = f'{k.resource} "{name}"' if name else k.resource
        message = f"{subject} is forbidden: {why}{scope}"
        raise _StatusError(403, "Forbidden", message, _details(k, name))

    def _denied(self, verb: str, resource: str, namespace: str, name: str, group: str) -> bool:
        return any(
            d_verb in ("*", verb)
            and d_resource in ("*", resource)
            and d_namespace in (None, namespace)
            and d_name in (None, name)
            and d_group in (None, group)
            for d_verb, d_resource, d_namespace, d_name, d_group in self._denials
        )

    # -------------------------------------------------------------------------------- verbs

    def _get(self, k: Kind, namespace: str, name: str) -> JSON:
        obj = self._objects.get((k.plural, namespace if k.namespaced else "", name))
        if obj is None:
            raise _not_found(k, name)
        return obj

    def _commit(self, k: Kind, obj: JSON, delete: bool = False) -> JSON:
        """Store (or delete) an object under a new resourceVersion; returns a copy."""
        self._rv += 1
        meta = obj["metadata"]
        meta["resourceVersion"] = str(self._rv)
        key = (k.plural, meta.get("namespace", ""), meta["name"])
        if delete:
            self._objects.pop(key, None)
        else:
            self._objects[key] = obj
        return copy.deepcopy(obj)

    def _list(self, k: Kind, namespace: str, query: Mapping[str, str]) -> JSON:
        labels = parse_label_selector(query.get("labelSelector", ""))
        fields = _parse_field_selector(k, query.get("fieldSelector", ""))
        items = []
        for key in sorted(self._objects):
            obj = self._objects[key]
            if key[0] != k.plural or (namespace and key[1] != namespace):
                continue
            if not all(r.matches(obj["metadata"].get("labels") or {}) for r in labels):
                continue
            if all((_field_value(obj, f) == value) == equal for f, equal, value in fields):
                item = copy.deepcopy(obj)  # list items carry no kind/apiVersion
                items.append({f: v for f, v in item.items() if f not in ("kind", "apiVersion")})
        start, limit = 0, int(query.get("limit") or 0)
        if query.get("continue"):
            try:
                start = int(json.loads(base64.urlsafe_b64decode(query["continue"]))["start"])
            except (ValueError, KeyError, TypeError):
                raise _bad_request("continue key is not valid: incorrect encoded start") from None
        meta: JSON = {"resourceVersion": str(self._rv)}
        if limit > 0 and start + limit < len(items):
            token = _dumps({"rv": self._rv, "start": start + limit})
            meta["continue"] = base64.urlsafe_b64encode(token).decode()
            meta["remainingItemCount"] = len(items) - start - limit
        page = items[start : start + limit] if limit > 0 else items[start:]
        return {
            "kind": f"{k.kind}List",
            "apiVersion": k.api_version,
            "metadata": meta,
            "items": page,
        }

    def _check_body(self, k: Kind, body: Any) -> JSON:
        if not isinstance(body, dict):
            kind = _json_type(body) if body is not None else "null"
            raise _decode_error(k, f"json: cannot unmarshal {kind} into Go value of type struct")
        api_version, kind = body.get("apiVersion") or k.api_version, body.get("kind") or k.kind
        if api_version != k.api_version:
            raise _bad_request(
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({k.api_version})"
            )
        if kind != k.kind:
            raise _bad_request(f"the object provided is unrecognized (must be of type {k.kind})")
        obj = copy.deepcopy(body) | {"apiVersion": k.api_version, "kind": k.kind}
        if not isinstance(obj.setdefault("metadata", {}), dict):
            raise _decode_error(k, "json: cannot unmarshal into Go struct field .metadata")
        empty: tuple[Any, ...] = (None, {}, [], "")  # Go's omitempty drops them
        obj["metadata"] = {key: v for key, v in obj["metadata"].items() if v not in empty}
        return obj

    def _create(
        self, k: Kind, namespace: str, body: Any, dry_run: bool = False, validate: bool = True
    ) -> JSON:
        """POST, in the real order: decode (400), admission (404/403), validation (422),
        storage (500 for a resourceVersion, 409 AlreadyExists). ``validate=False``: seed."""
        obj = self._check_body(k, body)
        meta = obj["metadata"]
        self._decode_checks(k, obj)
        if k.namespaced:
            if namespace and meta.get("namespace") not in (None, "", namespace):
                raise _bad_request(
                    "the namespace of the provided object does not match the namespace sent on "
                    "the request"
                )
            namespace = meta["namespace"] = namespace or meta.get("namespace") or ""
            if ("namespaces", "", namespace) not in self._objects:
                raise _not_found(_BY_NAME["Namespace"], namespace)
        else:
            meta.pop("namespace", None)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = f"{meta['generateName']}{_suffix()}"
        name = meta.get("name") or ""
        self._default(k, obj, None)
        if validate and k.kind == "Pod":
            self._admit_pod(obj)
        if validate:
            errors = _metadata_errors(k, meta, True) + self._kind_errors(k, obj, None)
            if errors:
                raise _invalid(k, name, errors)
            if meta.get("resourceVersion"):
                raise _StatusError(
                    500, "", "resourceVersion should not be set on objects to be created"
                )
        if (k.plural, namespace, name) in self._objects:
            raise _StatusError(
                409, "AlreadyExists", f'{k.resource} "{name}" already exists', _details(k, name)
            )
        for key, value in (("uid", str(uuid.uuid4())), ("creationTimestamp", _now())):
            meta[key] = value if validate or not meta.get(key) else meta[key]
        meta.pop("resourceVersion", None)
        if k.kind in _GENERATION_KINDS:
            meta["generation"] = 1
        if dry_run:
            return obj
        stored = self._commit(k, obj)
        if k.kind == "Namespace":  # what the serviceaccount and root-ca-cert controllers add
            account: JSON = {"kind": "ServiceAccount", "metadata": {"name": "default"}}
            root_ca: JSON = {"kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt"}}
            for extra in (account, root_ca | {"data": {"ca.crt": _ROOT_CA}}):
                extra_kind = _BY_NAME[extra["kind"]]
                if (extra_kind.plural, name, extra["metadata"]["name"]) not in self._objects:
                    self._create(extra_kind, name, {"apiVersion": "v1", **extra})
        return stored

    def _update(
        self, k: Kind, namespace: str, name: str, body: Any, sub: str, dry_run: bool
    ) -> JSON:
        """PUT (and the end of PATCH): preconditions, then a whole-object replace."""
        obj = self._check_body(k, body)
        meta = obj["metadata"]
        if meta.get("name") != name:
            raise _bad_request(
                f"the name of the object ({meta.get('name', '')}) does not match the name on the "
                f"URL ({name})"
            )
        if k.namespaced:
            if meta.get("namespace") not in (None, "", namespace):
                raise _bad_request(
                    "the namespace of the provided object does not match the namespace sent on "
                    "the request"
                )
            meta["namespace"] = namespace
        current = self._get(k, namespace, name)
        cmeta = current["metadata"]
        if meta.get("uid") and meta["uid"] != cmeta["uid"]:
            why = f"UID in precondition: {meta['uid']}, UID in object meta: {cmeta['uid']}"
            raise _conflict(k, name, f"Precondition failed: {why}")
        if meta.get("resourceVersion") and meta["resourceVersion"] != cmeta["resourceVersion"]:
            raise _conflict(k, name, _MODIFIED)
        self._decode_checks(k, obj)
        if sub == "status":
            new = copy.deepcopy(current) | {"status": obj.get("status") or {}}
        else:
            new = obj
            if "status" in k.subresources:
                new.pop("status", None)
                new |= {"status": copy.deepcopy(current["status"])} if "status" in current else {}
            self._default(k, new, current)
        for key in ("uid", "creationTimestamp", "generation", "resourceVersion"):
            if key in cmeta:
                new["metadata"][key] = cmeta[key]
        errors = _metadata_errors(k, new["metadata"], False) + self._kind_errors(k, new, current)
        if errors:
            raise _invalid(k, name, errors)
        if new == current:
            return copy.deepcopy(current)  # a no-op update keeps the resourceVersion
        if k.kind in _GENERATION_KINDS and new.get("spec") != current.get("spec"):
            new["metadata"]["generation"] = cmeta.get("generation", 1) + 1
        return new if dry_run else self._commit(k, new)

    def _patch(
        self, k: Kind, namespace: str, name: str, raw: bytes, ctype: str, sub: str, dry_run: bool
    ) -> JSON:
        if ctype not in (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH):
            note = " (server-side apply is not emulated)" if ctype == APPLY_PATCH else ""
            types = f"{JSON_PATCH}, {MERGE_PATCH}, {APPLY_PATCH}, {STRATEGIC_PATCH}"
            raise _unsupported_media(types + note)
        current = self._get(k, namespace, name)
        try:
            patch = json.loads(raw)
        except ValueError as e:
            raise _bad_request(f"error decoding patch: {e}") from None
        if ctype == JSON_PATCH:
            if not isinstance(patch, list):
                kind = _json_type(patch)
                raise _bad_request(
                    f"json: cannot unmarshal {kind} into Go value of type jsonpatch.Patch"
                )
            try:
                result = jsonpatch.JsonPatch(patch).apply(copy.deepcopy(current))
            except jsonpatch.InvalidJsonPatch as e:
                raise _bad_request(str(e)) from None
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as e:
                raise _StatusError(422, "Invalid", str(e), {}) from None
        elif not isinstance(patch, dict):
            kind = _json_type(patch)
            raise _bad_request(
                f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
            )
        else:
            merge = merge_patch if ctype == MERGE_PATCH else strategic_merge
            result = merge(current, patch)
        return self._update(k, namespace, name, result, sub, dry_run)

    def _delete(self, k: Kind, namespace: str, name: str, options: Any, dry_run: bool) -> JSON:
        current = self._get(k, namespace, name)
        meta = current["metadata"]
        pre = (options.get("preconditions") or {}) if isinstance(options, dict) else {}
        for key, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
            if pre.get(key) and pre[key] != meta[key]:
                why = f"{label} in precondition: {pre[key]}, {label} in object meta: {meta[key]}"
                raise _conflict(k, name, f"Precondition failed: {why}")
        if not dry_run:
            if k.kind == "Namespace":  # its contents go with it
                for inside in [key for key in self._objects if key[1] == name]:
                    self._commit(_BY_NAME[inside[0]], self._objects[inside], delete=True)
            self._logs = {
                key: text
                for key, text in self._logs.items()
                if key[0] != name and (k.kind != "Pod" or key[:2] != (namespace, name))
            }
            self._commit(k, copy.deepcopy(current), delete=True)
        details = _details(k, name) | {"uid": meta["uid"]}
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": details,
        }

    def _access_review(self, k: Kind, body: Any) -> JSON:
        spec = self._check_body(k, body).get("spec") or {}
        attrs = spec.get("resourceAttributes")
        if not attrs and not spec.get("nonResourceAttributes"):
            detail = "exactly one of nonResourceAttributes or resourceAttributes must be specified"
            raise _invalid(k, "", [_required("spec.resourceAttributes", detail)])
        allowed = True
        if attrs:
            resource = attrs.get("resource", "")
            resource += f"/{attrs['subresource']}" if attrs.get("subresource") else ""
            allowed = not self._denied(
                attrs.get("verb", ""),
                resource,
                attrs.get("namespace", ""),
                attrs.get("name", ""),
                attrs.get("group", ""),
            )
        return {
            "kind": k.kind,
            "apiVersion": k.api_version,
            "metadata": {},
            "spec": spec,
            "status": {"allowed": allowed},
        }

    def _pod_log(self, namespace: str, name: str, query: Mapping[str, str]) -> _Response:
        spec = self._get(_BY_NAME["Pod"], namespace, name)["spec"]
        names = [c["name"] for c in [*spec["containers"], *(spec.get("initContainers") or [])]]
        container = query.get("container", "")
        if not container and len(spec["containers"]) != 1:
            raise _bad_request(
                f"a container name must be specified for pod {name}, choose one of: "
                f"[{' '.join(names)}]"
            )
        if container and container not in names:
            raise _bad_request(f"container {container} is not valid for pod {name}")
        container = container or names[0]
        pod = self._objects[("pods", namespace, name)]
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        states = [s.get("state") or {} for s in statuses if s.get("name") == container]
        waiting = states[0].get("waiting") if states else None
        if waiting and (namespace, name, container) not in self._logs:
            reason = waiting.get("reason", "")
            why = {
                "ErrImagePull": "image can't be pulled",
                "ImagePullBackOff": "trying and failing to pull image",
            }.get(reason, reason)
            raise _bad_request(
                f'container "{container}" in pod "{name}" is waiting to start: {why}'
            )
        text = self._logs.get((namespace, name, container), "")
        if query.get("tailLines", "").lstrip("-").isdigit():
            tail = int(query["tailLines"])
            text = "".join(text.splitlines(keepends=True)[-tail:]) if tail > 0 else ""
        data = text.encode()
        if query.get("limitBytes", "").isdigit():
            data = data[: int(query["limitBytes"])]
        return _Response(200, data, "text/plain")

    # ----------------------------------------------------------------- kind-specific rules

    def _decode_checks(self, k: Kind, obj: JSON) -> None:
        """What the real server's decoding rejects (400), then ``stringData`` merging."""
        sections: dict[str, str] = {"labels": "string", "annotations": "string"}
        for section, go_type in sections.items():
            self._check_map(k, "ObjectMeta.metadata", section, obj["metadata"], go_type)
        kind_sections = {
            "Secret": {"data": "[]uint8", "stringData": "string"},
            "ConfigMap": {"data": "string", "binaryData": "[]uint8"},
        }
        for section, go_type in kind_sections.get(k.kind, {}).items():
            self._check_map(k, k.kind, section, obj, go_type)
        if k.kind == "Secret" and "stringData" in obj:
            data = obj.get("data") or {}
            for key, value in (obj.pop("stringData") or {}).items():
                data[key] = base64.b64encode(value.encode()).decode()
            obj["data"] = data

    @staticmethod
    def _check_map(k: Kind, struct: str, section: str, parent: JSON, go_type: str) -> None:
        values = parent.get(section) or {}
        where = f"Go struct field {struct}.{section} of type"
        if not isinstance(values, dict):
            detail = (
                f"json: cannot unmarshal {_json_type(values)} into {where} map[string]{go_type}"
            )
            raise _decode_error(k, detail)
        for value in values.values():
            if not isinstance(value, str):
                raise _decode_error(
                    k, f"json: cannot unmarshal {_json_type(value)} into {where} {go_type}"
                )
            if go_type == "[]uint8" and (error := _base64_error(value)):
                raise _decode_error(k, error)

    def _default(self, k: Kind, obj: JSON, old: JSON | None) -> None:
        """Server-side defaulting (on create and update, as decoding applies it)."""
        spec = obj.get("spec")
        if k.kind == "Secret":
            obj.setdefault("type", "Opaque")
        elif k.kind == "Namespace":
            labels = obj["metadata"].setdefault("labels", {})
            labels["kubernetes.io/metadata.name"] = obj["metadata"].get("name", "")
            obj["spec"] = copy.deepcopy(old["spec"]) if old else {"finalizers": ["kubernetes"]}
            obj["status"] = copy.deepcopy(old["status"]) if old else {"phase": "Active"}
        elif k.kind == "Deployment" and isinstance(spec, dict):
            for key, value in (("replicas", 1), ("revisionHistoryLimit", 10)):
                spec.setdefault(key, value)
            spec.setdefault("progressDeadlineSeconds", 600)
            strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
            if strategy.get("type", "RollingUpdate") == "RollingUpdate":
                strategy.setdefault("rollingUpdate", {"maxUnavailable": "25%", "maxSurge": "25%"})
            if isinstance((spec.get("template") or {}).get("spec"), dict):
                self._default_pod_spec(spec["template"]["spec"])
            if old is None:
                obj["status"] = {}
        elif k.kind == "Pod" and isinstance(spec, dict):
            self._default_pod_spec(spec)
            if old is None:
                obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
        elif k.kind == "Service" and isinstance(spec, dict):
            spec.setdefault("type", "ClusterIP")
            spec.setdefault("sessionAffinity", "None")
            if spec["type"] != "ExternalName" and not spec.get("clusterIP"):
                old_ip = ((old or {}).get("spec") or {}).get("clusterIP")
                self._ips += 1
                spec["clusterIP"] = old_ip or f"10.96.{self._ips // 250}.{self._ips % 250 + 1}"
            if spec.get("clusterIP"):
                spec.setdefault("clusterIPs", [spec["clusterIP"]])
            for port in spec.get("ports") or []:
                port.setdefault("protocol", "TCP")
                port.setdefault("targetPort", port.get("port"))
            if old is None:
                obj["status"] = {"loadBalancer": {}}
        elif k.kind in ("PersistentVolumeClaim", "PersistentVolume") and isinstance(spec, dict):
            spec.setdefault("volumeMode", "Filesystem")
            if old is None:
                obj["status"] = {"phase": "Pending" if k.kind.endswith("Claim") else "Available"}

    @staticmethod
    def _default_pod_spec(spec: JSON) -> None:
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("dnsPolicy", "ClusterFirst")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        spec.setdefault("schedulerName", "default-scheduler")
        spec.setdefault("securityContext", {})
        for c in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
            if not isinstance(c, dict):
                continue
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            c.setdefault("resources", {})
            last = str(c.get("image", "")).rsplit("/", 1)[-1]
            latest = "@" not in last and (":" not in last or last.endswith(":latest"))
            c.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
            for port in c.get("ports") or []:
                port.setdefault("protocol", "TCP")

    def _admit_pod(self, pod: JSON) -> None:
        """The ServiceAccount admission plugin."""
        spec, meta = pod.setdefault("spec", {}), pod["metadata"]
        account = spec.setdefault("serviceAccountName", "default")
        spec["serviceAccount"] = account
        sa = self._objects.get(("serviceaccounts", meta["namespace"], account))
        if sa is None:
            name = meta.get("name", "")
            where = f"{meta['namespace']}/{account}"
            why = f'error looking up service account {where}: serviceaccount "{account}" not found'
            message = f'pods "{name}" is forbidden: {why}'
            raise _StatusError(403, "Forbidden", message, _details(_BY_NAME["Pod"], name))
        if not spec.get("imagePullSecrets") and sa.get("imagePullSecrets"):
            spec["imagePullSecrets"] = copy.deepcopy(sa["imagePullSecrets"])

    def _kind_errors(self, k: Kind, obj: JSON, old: JSON | None) -> list[_FieldError]:
        validator = getattr(self, f"_validate_{k.kind.lower()}", None)
        return validator(obj, old) if validator is not None else []

    def _validate_secret(self, obj: JSON, old: JSON | None) -> list[_FieldError]:
        data, kind, errors = obj.get("data") or {}, obj.get("type", "Opaque"), []
        if old is not None and kind != old.get("type", "Opaque"):
            errors.append(_bad("type", kind, "field is immutable"))
        if old is not None and old.get("immutable"):
            if data != (old.get("data") or {}) or obj.get("immutable") is not True:
                errors.append(_forbidden("data", _IMMUTABLE_DATA))
        errors += _config_key_errors("data", data)
        required = {
            "kubernetes.io/dockerconfigjson": [".dockerconfigjson"],
            "kubernetes.io/dockercfg": [".dockercfg"],
            "kubernetes.io/tls": ["tls.crt", "tls.key"],
            "kubernetes.io/ssh-auth": ["ssh-privatekey"],
        }.get(kind, [])
        for key in required:
            if key not in data:
                errors.append(_required(f"data[{key}]"))
            elif key in (".dockerconfigjson", ".dockercfg"):
                if problem := _json_object_error(base64.b64decode(data[key])):
                    errors.append(_bad(f"data[{key}]", "<secret contents redacted>", problem))
        if sum(_b64len(v) for v in data.values()) > MAX_DATA_SIZE:
            errors.append(
                _FieldError("data", "Too long", None, f"must have at most {MAX_DATA_SIZE} bytes")
            )
        return errors

    def _validate_configmap(self, obj: JSON, old: JSON | None) -> list[_FieldError]:
        data, binary = obj.get("data") or {}, obj.get("binaryData") or {}
        errors = _config_key_errors("data", data) + _config_key_errors("binaryData", binary)
        if old is not None and old.get("immutable"):
            if data != (old.get("data") or {}) or binary != (old.get("binaryData") or {}):
                errors.append(_forbidden("data", _IMMUTABLE_DATA))
        size = sum(len(v.encode()) for v in data.values()) + sum(map(_b64len, binary.values()))
        if size > MAX_DATA_SIZE:
            errors.append(
                _FieldError("[]", "Too long", None, f"must have at most {MAX_DATA_SIZE} bytes")
            )
        return errors

    def _validate_deployment(self, obj: JSON, old: JSON | None) -> list[_FieldError]:
        spec = obj.get("spec") or {}
        template = spec.get("template") or {}
        labels = (template.get("metadata") or {}).get("labels") or {}
        selector, errors = spec.get("selector"), []
        mismatch = _bad(
            "spec.template.metadata.labels", labels, "`selector` does not match template `labels`"
        )
        if selector is None:
            errors += [_required("spec.selector"), mismatch]
        elif not _selector_requirements(selector):
            errors.append(
                _bad("spec.selector", selector, "empty selector is invalid for deployment")
            )
        elif not all(r.matches(labels) for r in _selector_requirements(selector)):
            errors.append(mismatch)
        replicas = spec.get("replicas", 1)
        if isinstance(replicas, int) and replicas < 0:
            errors.append(_bad("spec.replicas", replicas, "must be greater than or equal to 0"))
        errors += _pod_spec_errors(template.get("spec") or {}, "spec.template.spec", True)
        if old is not None and selector != old["spec"].get("selector"):
            errors.append(_bad("spec.selector", selector, "field is immutable"))
        return errors

    def _validate_pod(self, obj: JSON, old: JSON | None) -> list[_FieldError]:
        errors = _pod_spec_errors(obj.get("spec") or {}, "spec", False)

        def mutable_parts_removed(spec: JSON) -> JSON:
            spec = copy.deepcopy(spec)
            for c in [*spec.get("containers", []), *spec.get("initContainers", [])]:
                c.pop("image", None)
            return {
                k: v for k, v in spec.items() if k not in ("activeDeadlineSeconds", "tolerations")
            }

        if old is not None and mutable_parts_removed(obj["spec"]) != mutable_parts_removed(
            old["spec"]
        ):
            errors.append(
                _forbidden(
                    "spec",
                    "pod updates may not change fields other than `spec.containers[*].image`,"
                    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
                    "`spec.tolerations` (only additions to existing tolerations),"
                    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
                    "previously negative)",
                )
            )
        return errors

    def _validate_service(self, obj: JSON, old: JSON | None) -> list[_FieldError]:
        spec, errors = obj.get("spec") or {}, []
        ports = spec.get("ports") or []
        if not ports and spec.get("type") != "ExternalName" and spec.get("clusterIP") != "None":
            errors.append(_required("spec.ports"))
        for i, port in enumerate(ports):
            if not isinstance(port.get("port"), int) or not 0 < port["port"] < 65536:
                detail = "must be between 1 and 65535, inclusive"
                errors.append(_bad(f"spec.ports[{i}].port", port.get("port"), detail))
            if len(ports) > 1 and not port.get("name"):
                errors.append(_required(f"spec.ports[{i}].name"))
        old_ip = ((old or {}).get("spec") or {}).get("clusterIP")
        if old_ip and spec.get("clusterIP") != old_ip:
            errors.append(
                _bad("spec.clusterIPs[0]", spec.get("clusterIP"), "may not change once set")
            )
        return errors

    def _validate_role(self, obj: JSON, old: JSON | None) -> list[_FieldError]:
        return [
            _required(f"rules[{i}].verbs", "verbs must contain at least one value")
            for i, rule in enumerate(obj.get("rules") or [])
            if not rule.get("verbs")
        ]

    def _validate_rolebinding(self, obj: JSON, old: JSON | None) -> list[_FieldError]:
        ref, errors = obj.get("roleRef") or {}, []
        if ref.get("kind") not in ("Role", "ClusterRole"):
            errors.append(_unsupported("roleRef.kind", ref.get("kind", ""), "Role", "ClusterRole"))
        if ref.get("apiGroup") != _RBAC:
            errors.append(_unsupported("roleRef.apiGroup", ref.get("apiGroup", ""), _RBAC))
        if not ref.get("name"):
            errors.append(_required("roleRef.name"))
        for i, subject in enumerate(obj.get("subjects") or []):
            kinds = ("ServiceAccount", "User", "Group")
            if subject.get("kind") not in kinds:
                errors.append(_unsupported(f"subjects[{i}].kind", subject.get("kind", ""), *kinds))
            if not subject.get("name"):
                errors.append(_required(f"subjects[{i}].name"))
        if old is not None and ref != old.get("roleRef"):
            errors.append(_bad("roleRef", ref, "cannot change roleRef"))
        return errors


def _pod_spec_errors(spec: JSON, path: str, template: bool) -> list[_FieldError]:
    containers, errors, seen = spec.get("containers") or [], [], set()
    if not containers:
        errors.append(_required(f"{path}.containers"))
    for i, c in enumerate(containers):
        where, name = f"{path}.containers[{i}]", c.get("name") or ""
        if not name:
            errors.append(_required(f"{where}.name"))
        errors += [_bad(f"{where}.name", name, m) for m in _name_errors("label", name) if name]
        if name in seen:
            errors.append(_FieldError(f"{where}.name", "Duplicate value", name))
        seen.add(name)
        if not c.get("image"):
            errors.append(_required(f"{where}.image"))
        for j, port in enumerate(c.get("ports") or []):
            number = port.get("containerPort")
            if not isinstance(number, int) or not 0 < number < 65536:
                detail = "must be between 1 and 65535, inclusive"
                errors.append(_bad(f"{where}.ports[{j}].containerPort", number, detail))
        for j, env in enumerate(c.get("env") or []):
            if not env.get("name"):
                errors.append(_required(f"{where}.env[{j}].name"))
    policy = spec.get("restartPolicy", "Always")
    if template and policy != "Always":
        errors.append(_unsupported(f"{path}.restartPolicy", policy, "Always"))
    return errors


# ----------------------------------------------------------------------------- HTTP plumbing


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: avoid 40 ms stalls
    server: _Server

    def do_GET(self) -> None:
        self.server.emulator._on_request(self)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(ThreadingHTTPServer):
    """Tracks its connections and worker threads, so that stop() and refuse() end them all."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: KubeEmulator) -> None:
        self.emulator = emulator
        self.connections: set[socket.socket] = set()
        self.workers: set[threading.Thread] = set()
        self.guard = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:  # no reverse DNS lookup, unlike HTTPServer.server_bind
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        worker = threading.Thread(target=self._work, args=(request, client_address), daemon=True)
        with self.guard:
            self.connections.add(request)
            self.workers.add(worker)
        worker.start()

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self.guard:
                self.connections.discard(request)
                self.workers.discard(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.emulator.internal_errors.append(traceback.format_exc())

    def drop_connections(self) -> None:
        with self.guard:
            connections = list(self.connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def join_workers(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self.guard:
            workers = list(self.workers)
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
