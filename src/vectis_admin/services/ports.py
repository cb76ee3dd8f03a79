"""The small interfaces services depend on; adapters implement them, tests hand in real ones.

Records here are plain dataclasses: services never see ORM rows. Secret credential fields travel
only inside `SecretFields`, whose repr is masked.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from vectis_admin.domain.checks import CheckReport, ProbeTarget, TagList
from vectis_admin.domain.manifests import Environment
from vectis_admin.domain.orchestrators import KubeAuthMode, OrchestratorKind
from vectis_admin.domain.registries import RegistryKind, TlsMode

__all__ = [
    "ApiTokenRecord",
    "AuditEntry",
    "AuditRepository",
    "Clock",
    "ClusterRecord",
    "ClusterRepository",
    "DeploymentState",
    "SecretCopy",
    "SecretCopyRepository",
    "SyncState",
    "ClusterGateway",
    "KubeAccess",
    "KubeAuthMode",
    "KubeConnector",
    "KubeObject",
    "LeaseRepository",
    "OrchestratorRecord",
    "OrchestratorRepository",
    "Page",
    "RegistryProber",
    "RegistryRecord",
    "RegistryRepository",
    "SecretCipher",
    "SecretFields",
    "Store",
    "Transaction",
    "UserRecord",
    "UserRepository",
]


class SecretFields(dict[str, str]):
    """Secret credential values by field name; never printed."""

    def __repr__(self) -> str:
        return f"SecretFields({sorted(self)!r} set)"

    __str__ = __repr__


@dataclass(kw_only=True)
class RegistryRecord:
    id: str
    name: str
    kind: RegistryKind
    url: str
    image_path: str | None
    default_tag: str
    requires_auth: bool
    is_default: bool
    enabled: bool
    description: str
    # Non-secret credential fields (username, region, role ARN...), shown to operators.
    public_credentials: dict[str, str]
    # Encrypted JSON of the secret fields; services decrypt it only when they must use it.
    secret_ciphertext: str | None = field(repr=False)
    secret_field_names: list[str]
    created_at: datetime
    updated_at: datetime
    credential_changed_at: datetime | None
    version: int
    tls_mode: TlsMode = TlsMode.VERIFY
    ca_bundle: str | None = None
    last_check_at: datetime | None = None
    last_check_ok: bool | None = None
    last_check_summary: str | None = None


T = TypeVar("T")


@dataclass(kw_only=True)
class OrchestratorRecord:
    id: str
    name: str
    kind: OrchestratorKind
    description: str
    auth_mode: KubeAuthMode
    api_server_url: str | None
    skip_tls_verify: bool
    supports_load_balancer: bool
    metallb_range: str | None
    enabled: bool
    public_credentials: dict[str, str]
    secret_ciphertext: str | None = field(repr=False)
    secret_field_names: list[str]
    created_at: datetime
    updated_at: datetime
    credential_changed_at: datetime | None
    version: int
    last_check_at: datetime | None = None
    last_check_ok: bool | None = None
    last_check_summary: str | None = None


class DeploymentState(StrEnum):
    NOT_DEPLOYED = "NOT_DEPLOYED"
    DEPLOYING = "DEPLOYING"
    DEPLOYED = "DEPLOYED"
    FAILED = "FAILED"
    DELETING = "DELETING"


@dataclass(kw_only=True)
class ClusterRecord:
    id: str
    name: str
    environment: Environment
    description: str
    orchestrator_id: str
    namespace: str
    create_namespace: bool
    deployment_name: str
    replicas: int
    storage_host_path: str
    storage_size: str
    vectis_port: int
    registry_id: str | None
    image: str
    deployment_state: DeploymentState
    state_reason: str
    deployed_objects: list[dict[str, str]]
    deployed_at: datetime | None
    restarted_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


class SyncState(StrEnum):
    SYNCED = "synced"
    PENDING = "pending"
    ERROR = "error"


@dataclass(kw_only=True)
class SecretCopy:
    """One pull-secret copy's state: where, what was last written, how it went."""

    registry_id: str
    orchestrator_id: str
    namespace: str
    state: SyncState
    desired: str  # "present" or "absent"
    content_hash: str | None = None
    message: str = ""
    attempts: int = 0
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    next_attempt_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str | None
    target_name: str | None
    # Non-secret fields: {"from": old, "to": new}; secret fields: the string "changed".
    changes: Mapping[str, Any] = field(default_factory=dict)
    outcome: str = "success"
    id: int | None = None


@dataclass(kw_only=True)
class UserRecord:
    id: int
    username: str
    password_hash: str = field(repr=False)
    created_at: datetime
    password_changed_at: datetime


@dataclass(kw_only=True)
class ApiTokenRecord:
    id: str
    name: str
    username: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class RegistryRepository(Protocol):
    def get(self, registry_id: str) -> RegistryRecord | None: ...
    def get_by_name(self, name: str) -> RegistryRecord | None: ...
    def list(
        self, *, kind: RegistryKind | None, enabled: bool | None, limit: int, offset: int
    ) -> Page[RegistryRecord]: ...
    def all(self) -> builtins.list[RegistryRecord]: ...
    def add(self, record: RegistryRecord) -> None: ...
    def update(self, record: RegistryRecord, *, expected_version: int) -> None: ...
    def delete(self, registry_id: str) -> None: ...
    def clear_default(self) -> None: ...
    def record_check(self, registry_id: str, *, at: datetime, ok: bool, summary: str) -> None: ...


class OrchestratorRepository(Protocol):
    def get(self, orchestrator_id: str) -> OrchestratorRecord | None: ...
    def get_by_name(self, name: str) -> OrchestratorRecord | None: ...
    def list(
        self, *, enabled: bool | None, limit: int, offset: int
    ) -> Page[OrchestratorRecord]: ...
    def all(self) -> builtins.list[OrchestratorRecord]: ...
    def add(self, record: OrchestratorRecord) -> None: ...
    def update(self, record: OrchestratorRecord, *, expected_version: int) -> None: ...
    def delete(self, orchestrator_id: str) -> None: ...
    def record_check(
        self, orchestrator_id: str, *, at: datetime, ok: bool, summary: str
    ) -> None: ...


class ClusterRepository(Protocol):
    def get(self, cluster_id: str) -> ClusterRecord | None: ...
    def get_by_name(self, name: str) -> ClusterRecord | None: ...
    def list(self, *, limit: int, offset: int) -> Page[ClusterRecord]: ...
    def all(self) -> builtins.list[ClusterRecord]: ...
    def using_registry(self, registry_id: str) -> builtins.list[ClusterRecord]: ...
    def on_orchestrator(self, orchestrator_id: str) -> builtins.list[ClusterRecord]: ...
    def add(self, record: ClusterRecord) -> None: ...
    def update(self, record: ClusterRecord, *, expected_version: int) -> None: ...
    def delete(self, cluster_id: str) -> None: ...


class SecretCopyRepository(Protocol):
    def for_registry(self, registry_id: str) -> builtins.list[SecretCopy]: ...
    def all(self) -> builtins.list[SecretCopy]: ...
    def save(self, copy: SecretCopy) -> None: ...
    def remove(self, copy: SecretCopy) -> None: ...
    def extra_namespaces(self, registry_id: str) -> builtins.list[tuple[str, str]]: ...
    def set_extra_namespaces(
        self, registry_id: str, pairs: builtins.list[tuple[str, str]]
    ) -> None: ...


class LeaseRepository(Protocol):
    def acquire(self, name: str, *, holder: str, now: datetime, ttl: timedelta) -> bool: ...
    def release(self, name: str, *, holder: str, now: datetime) -> None: ...


class AuditRepository(Protocol):
    def record(self, entry: AuditEntry) -> None: ...
    def list(
        self,
        *,
        target_type: str | None,
        target_id: str | None,
        action: str | None,
        actor: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int,
        offset: int,
    ) -> Page[AuditEntry]: ...


class UserRepository(Protocol):
    def get(self, username: str) -> UserRecord | None: ...
    def count(self) -> int: ...
    def add(self, *, username: str, password_hash: str, at: datetime) -> None: ...
    def set_password(self, *, username: str, password_hash: str, at: datetime) -> None: ...
    def add_token(self, record: ApiTokenRecord, *, token_hash: str) -> None: ...
    def find_token(self, token_hash: str) -> ApiTokenRecord | None: ...
    def touch_token(self, token_id: str, *, at: datetime) -> None: ...
    def list_tokens(self, username: str) -> builtins.list[ApiTokenRecord]: ...
    def revoke_token(
        self, token_id: str, *, username: str, at: datetime
    ) -> ApiTokenRecord | None: ...


class RegistryProber(Protocol):
    """Runs Test Connection against a live registry (the registry probe adapter)."""

    def check(self, target: ProbeTarget, *, warm: bool = False) -> CheckReport: ...
    def tags(self, target: ProbeTarget, *, page_size: int, max_pages: int) -> TagList: ...
    def login(self, target: ProbeTarget) -> tuple[str | None, str | None]: ...


# --- Kubernetes ---------------------------------------------------------------------------

KubeObject = dict[str, Any]  # a manifest or an object read back, as plain JSON


@dataclass(frozen=True, kw_only=True)
class KubeAccess:
    """How to reach one cluster's API, secrets decrypted (never printed)."""

    auth_mode: KubeAuthMode
    server: str | None = None  # https://host:6443 (token / certificate modes)
    skip_tls_verify: bool = False
    ca_pem: str | None = None
    token: str | None = field(default=None, repr=False)
    client_cert_pem: str | None = None
    client_key_pem: str | None = field(default=None, repr=False)
    kubeconfig: str | None = field(default=None, repr=False)  # YAML text
    context: str | None = None
    timeout: float = 10.0


class ClusterGateway(Protocol):
    """One Kubernetes API server. Every call goes through the adapter's single choke point,
    which raises the `KubeError` family (errors.py) and never returns raw client errors."""

    def version(self) -> str: ...
    def can_i(self, *, verb: str, resource: str, group: str, namespace: str) -> bool: ...
    def get(self, kind: str, name: str, *, namespace: str | None = None) -> KubeObject | None: ...
    def create(self, obj: KubeObject) -> KubeObject: ...
    def replace(self, obj: KubeObject) -> KubeObject: ...
    def json_patch(
        self, kind: str, name: str, operations: list[dict[str, Any]], *, namespace: str | None
    ) -> KubeObject: ...
    def merge_patch(
        self, kind: str, name: str, patch: dict[str, Any], *, namespace: str | None
    ) -> KubeObject: ...
    def delete(self, kind: str, name: str, *, namespace: str | None = None) -> bool: ...
    def list(
        self, kind: str, *, namespace: str | None, label_selector: str | None = None
    ) -> builtins.list[KubeObject]: ...
    def pod_logs(self, name: str, *, namespace: str, lines: int | None) -> str: ...
    def events_for(self, name: str, *, namespace: str) -> builtins.list[KubeObject]: ...
    def close(self) -> None: ...


class KubeConnector(Protocol):
    def connect(self, access: KubeAccess) -> ClusterGateway: ...


class Transaction(Protocol):
    @property
    def registries(self) -> RegistryRepository: ...
    @property
    def orchestrators(self) -> OrchestratorRepository: ...
    @property
    def clusters(self) -> ClusterRepository: ...
    @property
    def copies(self) -> SecretCopyRepository: ...
    @property
    def leases(self) -> LeaseRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def users(self) -> UserRepository: ...


class Store(Protocol):
    def transaction(self) -> AbstractContextManager[Transaction, bool | None]: ...


class SecretCipher(Protocol):
    def encrypt(self, plaintext: str) -> str: ...
    def decrypt(self, ciphertext: str) -> str: ...
    def rotate(self, ciphertext: str) -> str: ...


class Clock(Protocol):
    def now(self) -> datetime: ...
