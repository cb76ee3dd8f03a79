"""The Kubernetes objects the console creates, rendered as plain JSON-ready dicts.

One renderer serves every path: the Kubernetes adapter applies these dicts, the reconciler
compares them with what the cluster holds, and `cluster render` / `GET …/manifests` print them
for `kubectl apply` or GitOps when there is no cluster at all. Every object carries
`app.kubernetes.io/managed-by: vectis-admin`, which is how the console recognises its own
objects and refuses to overwrite anyone else's.

Pull secrets are byte for byte what `kubectl create secret docker-registry` writes (see
`dockerconfig`), under the `auths` key kubelet matches for the registry's images
(`kubelet_match`). The annotation `vectis.io/content-hash` holds the sha256 of the
`.dockerconfigjson` text, so a copy whose data no longer hashes to the annotation (edited in the
cluster) or whose annotation differs from the desired one (rotated password) is found without
comparing secrets by eye.

Storage. A Vectis cluster stores its data under a host path on the nodes, and Deploy creates a
PersistentVolumeClaim. A claim cannot name a host path, so the host path lives in a `hostPath`
PersistentVolume that is pre-bound both ways (`claimRef` on the volume, `volumeName` on the
claim, `storageClassName: ""` on both) so that no other claim can take it and no provisioner
interferes. The volume is cluster-scoped: its name includes the namespace, and creating it needs
a cluster-level permission on `persistentvolumes`. `Retain` keeps the data when the cluster is
deleted. A hostPath volume is not attached, so every node running a replica uses its own
directory at that path.

No YAML library is a dependency: JSON is YAML, so `render_multi_document` writes one JSON
document per object, separated by `---`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, Literal

from vectis_admin.domain.dockerconfig import auths_key_for, build_dockerconfigjson
from vectis_admin.domain.images import parse_image_reference
from vectis_admin.errors import FieldIssue, InvalidInput

__all__ = [
    "validate_namespace",
    "APP_NAME",
    "CONTENT_HASH_ANNOTATION",
    "DOCKERCONFIGJSON_KEY",
    "MANAGED_BY",
    "MANAGED_BY_LABEL",
    "PULL_SECRET_PREFIX",
    "REGISTRY_ID_LABEL",
    "ClusterSpec",
    "Environment",
    "content_hash",
    "dockerconfigjson_text",
    "is_managed",
    "pull_secret",
    "pull_secret_name",
    "render_cluster",
    "render_multi_document",
    "selector_labels",
]

Manifest = dict[str, Any]

MANAGED_BY_LABEL: Final = "app.kubernetes.io/managed-by"
MANAGED_BY: Final = "vectis-admin"
REGISTRY_ID_LABEL: Final = "vectis.io/registry-id"
REGISTRY_NAME_ANNOTATION: Final = "vectis.io/registry-name"
CLUSTER_ID_LABEL: Final = "vectis.io/cluster-id"
CLUSTER_NAME_ANNOTATION: Final = "vectis.io/cluster-name"
ENVIRONMENT_LABEL: Final = "vectis.io/environment"
CONTENT_HASH_ANNOTATION: Final = "vectis.io/content-hash"
CONFIG_HASH_ANNOTATION: Final = "vectis.io/config-hash"
PULL_SECRET_PREFIX: Final = "registry-secret-"
DOCKERCONFIGJSON_KEY: Final = ".dockerconfigjson"
DOCKERCONFIGJSON_TYPE: Final = "kubernetes.io/dockerconfigjson"
APP_NAME: Final = "vectis-server"
CONTAINER_NAME: Final = "vectis"
PORT_NAME: Final = "vectis"
DATA_MOUNT_PATH: Final = "/data"
DATA_VOLUME: Final = "data"

_NAME_LABEL: Final = "app.kubernetes.io/name"
_INSTANCE_LABEL: Final = "app.kubernetes.io/instance"
_COMPONENT_LABEL: Final = "app.kubernetes.io/component"

# apimachinery validation: IsDNS1123Label, IsDNS1035Label, IsDNS1123Subdomain, label values and
# qualified names (label keys).
_DNS1123_LABEL_RE: Final = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1035_LABEL_RE: Final = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN_RE: Final = re.compile(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
)
_LABEL_VALUE_RE: Final = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_QUALIFIED_NAME_RE: Final = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_QUANTITY_RE: Final = re.compile(r"[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?")
# Characters that would end or confuse a YAML comment line or a shell word shown in one.
_UNSAFE_IN_COMMENT_RE: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
# JSON escapes control characters already; these would still be line breaks or refused
# characters for YAML parsers when written raw.
_YAML_UNSAFE_RE: Final = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
_RESERVED_LABEL_PREFIXES: Final = ("app.kubernetes.io/", "vectis.io/")


class Environment(StrEnum):
    DEVELOPMENT = "DEVELOPMENT"
    STAGING = "STAGING"
    PRODUCTION = "PRODUCTION"


# --- pull secrets ----------------------------------------------------------------------------


def validate_namespace(namespace: str, *, field: str = "namespace") -> str:
    """A namespace name: a DNS-1123 label of at most 63 characters."""
    issues = _name_issues(namespace, field=field, pattern=_DNS1123_LABEL_RE, limit=63)
    if issues:
        raise InvalidInput(issues)
    return namespace


def pull_secret_name(registry_id: str) -> str:
    """`registry-secret-{id}`: the name every copy of a registry's pull secret has."""
    _require_label_value(registry_id, field="registry_id", dns_label=True)
    return PULL_SECRET_PREFIX + registry_id


def pull_secret(
    *,
    registry_id: str,
    registry_name: str,
    server_host: str,
    username: str,
    password: str,
    namespace: str,
) -> Manifest:
    """The `kubernetes.io/dockerconfigjson` Secret of a registry in one namespace.

    `data` and `type` equal what `kubectl create secret docker-registry` writes with
    `--docker-server` = `auths_key_for(server_host)`; for Docker Hub that is kubectl's own
    default, `https://index.docker.io/v1/`.
    """
    issues = _name_issues(namespace, field="namespace", pattern=_DNS1123_LABEL_RE, limit=63)
    if not username:
        issues.append(FieldIssue("username", "must not be empty"))
    if not password:
        issues.append(FieldIssue("password", "must not be empty"))
    if issues:
        raise InvalidInput(issues)
    name = pull_secret_name(registry_id)
    text = build_dockerconfigjson(auths_key_for(server_host), username, password)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                MANAGED_BY_LABEL: MANAGED_BY,
                _COMPONENT_LABEL: "pull-secret",
                REGISTRY_ID_LABEL: registry_id,
            },
            "annotations": {
                REGISTRY_NAME_ANNOTATION: registry_name,
                CONTENT_HASH_ANNOTATION: _sha256(text),
            },
        },
        "type": DOCKERCONFIGJSON_TYPE,
        "data": {DOCKERCONFIGJSON_KEY: base64.b64encode(text.encode()).decode("ascii")},
    }


def dockerconfigjson_text(secret: Mapping[str, Any]) -> str | None:
    """The `.dockerconfigjson` text of a Secret (`stringData` wins, as on the API server)."""
    string_data = secret.get("stringData") or {}
    if isinstance(string_data.get(DOCKERCONFIGJSON_KEY), str):
        return str(string_data[DOCKERCONFIGJSON_KEY])
    encoded = (secret.get("data") or {}).get(DOCKERCONFIGJSON_KEY)
    if not isinstance(encoded, str):
        return None
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-8")
    except ValueError:
        return None


def content_hash(secret: Mapping[str, Any]) -> str | None:
    """`sha256:<hex>` of the Secret's `.dockerconfigjson`, computed from its data.

    Compare with the annotation of the same Secret (edited in the cluster?) and with the hash
    of the desired Secret (credentials changed?). None when the Secret has no readable payload.
    """
    text = dockerconfigjson_text(secret)
    return None if text is None else _sha256(text)


def is_managed(obj: Mapping[str, Any]) -> bool:
    """Does the object carry our managed-by label? Objects without it are never overwritten."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return bool(labels.get(MANAGED_BY_LABEL) == MANAGED_BY)


def _sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


# --- clusters --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ClusterSpec:
    """Everything `render_cluster` needs; checked on construction (InvalidInput lists all)."""

    name: str
    namespace: str
    deployment_name: str
    image: str  # a full or short reference; rendered normalised (`docker.io/library/x:1`)
    storage_host_path: str
    environment: Environment = Environment.DEVELOPMENT
    replicas: int = 3
    vectis_port: int = 5000
    pull_secret_name: str | None = None
    service_type: Literal["LoadBalancer", "NodePort"] = "LoadBalancer"
    create_namespace: bool = True
    cluster_id: str | None = None
    storage_size: str = "10Gi"
    extra_labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        issues = _spec_issues(self)
        if issues:
            raise InvalidInput(issues)
        object.__setattr__(self, "extra_labels", MappingProxyType(dict(self.extra_labels)))

    @property
    def image_reference(self) -> str:
        return str(parse_image_reference(self.image))

    @property
    def persistent_volume_name(self) -> str:
        return f"vectis-{self.namespace}-{self.deployment_name}-data"

    @property
    def claim_name(self) -> str:
        return f"{self.deployment_name}-data"

    @property
    def config_map_name(self) -> str:
        return f"{self.deployment_name}-config"

    @property
    def peer_selector(self) -> str:
        """The label selector the servers list their peers with."""
        return ",".join(f"{k}={v}" for k, v in selector_labels(self).items())


def selector_labels(spec: ClusterSpec) -> dict[str, str]:
    """The Deployment's (immutable) selector and the Service's: stable across redeploys."""
    return {_NAME_LABEL: APP_NAME, _INSTANCE_LABEL: spec.deployment_name}


def render_cluster(spec: ClusterSpec, *, pull_secret: Manifest | None = None) -> list[Manifest]:
    """Every object Deploy creates, in apply order.

    Namespace (unless `create_namespace` is off), the pull Secret when given (before anything
    that needs it), ServiceAccount, Role, RoleBinding, ConfigMap, PersistentVolume,
    PersistentVolumeClaim, Deployment, Service. Delete removes the same list in reverse.
    """
    if pull_secret is not None:
        _check_pull_secret(spec, pull_secret)
    config = _config_data(spec)
    objects: list[Manifest] = []
    if spec.create_namespace:
        objects.append(_namespace(spec))
    if pull_secret is not None:
        objects.append(pull_secret)
    objects += [
        _service_account(spec),
        _role(spec),
        _role_binding(spec),
        _config_map(spec, config),
        _persistent_volume(spec),
        _persistent_volume_claim(spec),
        _deployment(spec, config),
        _service(spec),
    ]
    return objects


def render_multi_document(objects: Sequence[Mapping[str, Any]], *, include_secrets: bool) -> str:
    """Multi-document YAML (each document a JSON object) for `kubectl apply -f -` or GitOps.

    Unless `include_secrets`, a Secret is replaced by comments that show how to create it,
    with the password left as a placeholder; the comments lead the next document, so no
    document is empty.
    """
    header = "# Rendered by vectis-admin: apply with `kubectl apply -f <this file>`.\n"
    documents: list[str] = []
    pending = ""
    for obj in objects:
        if obj.get("kind") == "Secret" and not include_secrets:
            pending += _secret_comment(obj)
            continue
        body = json.dumps(dict(obj), indent=2, ensure_ascii=False)
        body = _YAML_UNSAFE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", body)
        documents.append(pending + body + "\n")
        pending = ""
    if pending:
        if documents:
            documents[-1] += pending
        else:
            documents.append(pending)
    return header + "---\n" + "---\n".join(documents)


# --- rendering -------------------------------------------------------------------------------


def _common_labels(spec: ClusterSpec, component: str) -> dict[str, str]:
    labels = {
        **spec.extra_labels,
        MANAGED_BY_LABEL: MANAGED_BY,
        _NAME_LABEL: APP_NAME,
        _INSTANCE_LABEL: spec.deployment_name,
        _COMPONENT_LABEL: component,
        ENVIRONMENT_LABEL: spec.environment.value.lower(),
    }
    if spec.cluster_id is not None:
        labels[CLUSTER_ID_LABEL] = spec.cluster_id
    return labels


def _metadata(spec: ClusterSpec, name: str, component: str, *, namespaced: bool = True) -> Manifest:
    metadata: Manifest = {"name": name}
    if namespaced:
        metadata["namespace"] = spec.namespace
    metadata["labels"] = _common_labels(spec, component)
    metadata["annotations"] = {CLUSTER_NAME_ANNOTATION: spec.name}
    return metadata


def _namespace(spec: ClusterSpec) -> Manifest:
    # Several clusters may share a namespace, so it carries no cluster's identity.
    metadata = {"name": spec.namespace, "labels": {MANAGED_BY_LABEL: MANAGED_BY}}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}


def _service_account(spec: ClusterSpec) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _metadata(spec, spec.deployment_name, "server"),
    }


def _role(spec: ClusterSpec) -> Manifest:
    # The servers find their peers by listing and watching pods with the peer selector.
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": _metadata(spec, spec.deployment_name, "peer-discovery"),
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}],
    }


def _role_binding(spec: ClusterSpec) -> Manifest:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": _metadata(spec, spec.deployment_name, "peer-discovery"),
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": spec.deployment_name,
        },
        "subjects": [
            {"kind": "ServiceAccount", "name": spec.deployment_name, "namespace": spec.namespace}
        ],
    }


def _config_data(spec: ClusterSpec) -> dict[str, str]:
    return {
        "VECTIS_CLUSTER_NAME": spec.name,
        "VECTIS_ENVIRONMENT": spec.environment.value,
        "VECTIS_PORT": str(spec.vectis_port),
        "VECTIS_DATA_DIR": DATA_MOUNT_PATH,
        "VECTIS_DISCOVERY_NAMESPACE": spec.namespace,
        "VECTIS_DISCOVERY_LABEL_SELECTOR": spec.peer_selector,
        "VECTIS_EXPECTED_REPLICAS": str(spec.replicas),
    }


def _config_map(spec: ClusterSpec, data: dict[str, str]) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(spec, spec.config_map_name, "config"),
        "data": data,
    }


def _persistent_volume(spec: ClusterSpec) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": _metadata(spec, spec.persistent_volume_name, "storage", namespaced=False),
        "spec": {
            "capacity": {"storage": spec.storage_size},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "",
            "volumeMode": "Filesystem",
            "hostPath": {"path": spec.storage_host_path, "type": "DirectoryOrCreate"},
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": spec.namespace,
                "name": spec.claim_name,
            },
        },
    }


def _persistent_volume_claim(spec: ClusterSpec) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": _metadata(spec, spec.claim_name, "storage"),
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "",
            "volumeMode": "Filesystem",
            "volumeName": spec.persistent_volume_name,
            "resources": {"requests": {"storage": spec.storage_size}},
        },
    }


def _deployment(spec: ClusterSpec, config: dict[str, str]) -> Manifest:
    pod_labels = {**_common_labels(spec, "server"), **selector_labels(spec)}
    config_hash = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
    pod_spec: Manifest = {
        "serviceAccountName": spec.deployment_name,
        "containers": [_container(spec)],
        "volumes": [{"name": DATA_VOLUME, "persistentVolumeClaim": {"claimName": spec.claim_name}}],
    }
    if spec.pull_secret_name is not None:
        pod_spec["imagePullSecrets"] = [{"name": spec.pull_secret_name}]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(spec, spec.deployment_name, "server"),
        "spec": {
            "replicas": spec.replicas,
            "selector": {"matchLabels": selector_labels(spec)},
            "template": {
                "metadata": {
                    "labels": pod_labels,
                    # A changed ConfigMap rolls the pods, which read it only at start.
                    "annotations": {CONFIG_HASH_ANNOTATION: "sha256:" + config_hash},
                },
                "spec": pod_spec,
            },
        },
    }


def _container(spec: ClusterSpec) -> Manifest:
    def field_env(name: str, path: str) -> Manifest:
        return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}}

    return {
        "name": CONTAINER_NAME,
        "image": spec.image_reference,
        "ports": [{"name": PORT_NAME, "containerPort": spec.vectis_port, "protocol": "TCP"}],
        "envFrom": [{"configMapRef": {"name": spec.config_map_name}}],
        "env": [
            field_env("POD_NAME", "metadata.name"),
            field_env("POD_NAMESPACE", "metadata.namespace"),
            field_env("POD_IP", "status.podIP"),
            field_env("NODE_NAME", "spec.nodeName"),
        ],
        "readinessProbe": {
            "tcpSocket": {"port": PORT_NAME},
            "initialDelaySeconds": 5,
            "periodSeconds": 10,
        },
        "livenessProbe": {
            "tcpSocket": {"port": PORT_NAME},
            "initialDelaySeconds": 30,
            "periodSeconds": 20,
            "failureThreshold": 3,
        },
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}},
        "volumeMounts": [{"name": DATA_VOLUME, "mountPath": DATA_MOUNT_PATH}],
    }


def _service(spec: ClusterSpec) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(spec, spec.deployment_name, "server"),
        "spec": {
            "type": spec.service_type,
            "selector": selector_labels(spec),
            "ports": [
                {
                    "name": PORT_NAME,
                    "port": spec.vectis_port,
                    "targetPort": PORT_NAME,
                    "protocol": "TCP",
                }
            ],
        },
    }


def _secret_comment(secret: Mapping[str, Any]) -> str:
    metadata = secret.get("metadata") or {}
    name = _comment_safe(metadata.get("name"), "<secret-name>")
    namespace = _comment_safe(metadata.get("namespace"), "<namespace>")
    server, username = _server_and_user(secret)
    lines = [
        f"Secret {namespace}/{name}",
        "is left out (render with --include-secrets to include it). Create it before",
        "applying, with the registry's password or token in place of <password>:",
        f"  kubectl create secret docker-registry {name} --namespace {namespace} \\",
        f"    --docker-server={server} --docker-username={username} \\",
        "    --docker-password='<password>'",
    ]
    labels = metadata.get("labels") or {}
    pairs = [f"{k}={v}" for k, v in labels.items() if _is_safe(k) and _is_safe(v)]
    if pairs:
        lines.append(f"  kubectl label secret {name} --namespace {namespace} \\")
        lines.append("    " + " ".join(shlex.quote(p) for p in pairs))
    return "".join(f"# {line}\n" for line in lines)


def _server_and_user(secret: Mapping[str, Any]) -> tuple[str, str]:
    placeholders = ("<registry-server>", "<username>")
    text = dockerconfigjson_text(secret)
    try:
        auths = json.loads(text or "")["auths"]
        ((server, entry),) = auths.items()
        username = entry["username"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return placeholders
    return (
        _comment_safe(server, placeholders[0]),
        _comment_safe(username, placeholders[1]),
    )


def _is_safe(value: object) -> bool:
    return isinstance(value, str) and bool(value) and not _UNSAFE_IN_COMMENT_RE.search(value)


def _comment_safe(value: object, placeholder: str) -> str:
    # A value with a line break would end the comment and inject YAML; quote for the shell.
    return shlex.quote(value) if isinstance(value, str) and _is_safe(value) else placeholder


def _check_pull_secret(spec: ClusterSpec, secret: Manifest) -> None:
    metadata = secret.get("metadata") or {}
    if secret.get("kind") != "Secret" or metadata.get("name") != spec.pull_secret_name:
        raise InvalidInput.one(
            "pull_secret", "must be the Secret named by the cluster's pull_secret_name"
        )
    if metadata.get("namespace") != spec.namespace:
        raise InvalidInput.one("pull_secret", "must be in the cluster's namespace")


# --- validation ------------------------------------------------------------------------------


def _spec_issues(spec: ClusterSpec) -> list[FieldIssue]:
    issues = _name_issues(spec.namespace, field="namespace", pattern=_DNS1123_LABEL_RE, limit=63)
    # The Service takes the deployment's name, and Service names are DNS-1035 labels.
    issues += _name_issues(
        spec.deployment_name, field="deployment_name", pattern=_DNS1035_LABEL_RE, limit=63
    )
    if not spec.name.strip():
        issues.append(FieldIssue("name", "must not be empty"))
    if not _is_int(spec.replicas) or not 1 <= spec.replicas <= 10:
        issues.append(FieldIssue("replicas", "must be a whole number from 1 to 10"))
    if not _is_int(spec.vectis_port) or not 1 <= spec.vectis_port <= 65535:
        issues.append(FieldIssue("vectis_port", "must be a port number from 1 to 65535"))
    if not spec.storage_host_path.startswith("/") or any(
        part == ".." for part in spec.storage_host_path.split("/")
    ):
        issues.append(
            FieldIssue("storage_host_path", "must be an absolute path on the node, without '..'")
        )
    if not _QUANTITY_RE.fullmatch(spec.storage_size):
        issues.append(FieldIssue("storage_size", "must be a quantity such as 10Gi"))
    if spec.service_type not in ("LoadBalancer", "NodePort"):
        issues.append(FieldIssue("service_type", "must be LoadBalancer or NodePort"))
    try:
        parse_image_reference(spec.image)
    except InvalidInput as exc:
        issues += exc.issues
    if spec.pull_secret_name is not None:
        issues += _name_issues(
            spec.pull_secret_name,
            field="pull_secret_name",
            pattern=_DNS1123_SUBDOMAIN_RE,
            limit=253,
        )
    if spec.cluster_id is not None:
        issues += _label_value_issues(spec.cluster_id, field="cluster_id")
    for key, value in spec.extra_labels.items():
        issues += _label_key_issues(key)
        issues += _label_value_issues(value, field=f"extra_labels.{key}")
    # The PersistentVolume's name joins both names; keep it a valid object name.
    if len(spec.persistent_volume_name) > 253:
        issues.append(FieldIssue("deployment_name", "is too long with this namespace"))
    return issues


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _name_issues(
    value: str, *, field: str, pattern: re.Pattern[str], limit: int
) -> list[FieldIssue]:
    if len(value) > limit:
        return [FieldIssue(field, f"must be at most {limit} characters long")]
    if not pattern.fullmatch(value):
        what = "start with a letter and " if pattern is _DNS1035_LABEL_RE else ""
        return [
            FieldIssue(
                field,
                f"must {what}consist of lowercase letters, digits and '-', "
                "starting and ending with a letter or digit",
            )
        ]
    return []


def _label_value_issues(value: str, *, field: str) -> list[FieldIssue]:
    if len(value) > 63 or not _LABEL_VALUE_RE.fullmatch(value):
        return [
            FieldIssue(
                field,
                "must be a label value: at most 63 letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit",
            )
        ]
    return []


def _label_key_issues(key: str) -> list[FieldIssue]:
    field = f"extra_labels.{key}"
    if key.startswith(_RESERVED_LABEL_PREFIXES):
        return [FieldIssue(field, "must not use the app.kubernetes.io/ or vectis.io/ prefixes")]
    prefix, slash, name = key.rpartition("/")
    if (
        (slash and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN_RE.fullmatch(prefix)))
        or len(name) > 63
        or not _QUALIFIED_NAME_RE.fullmatch(name)
    ):
        return [FieldIssue(field, "must be a label key: [prefix/]name, name at most 63 characters")]
    return []


def _require_label_value(value: str, *, field: str, dns_label: bool) -> None:
    issues = _label_value_issues(value, field=field)
    if not issues and dns_label:
        issues = _name_issues(value, field=field, pattern=_DNS1123_LABEL_RE, limit=63)
    if issues:
        raise InvalidInput(issues)
