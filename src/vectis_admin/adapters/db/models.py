"""ORM tables. Schema changes go through Alembic migrations (see migrations/versions)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "ApiTokenRow",
    "AuditRow",
    "Base",
    "ClusterRow",
    "LeaseRow",
    "OrchestratorRow",
    "RegistryNamespaceRow",
    "RegistryRow",
    "SecretSyncRow",
    "UserRow",
]


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class RegistryRow(Base):
    __tablename__ = "registries"
    __table_args__ = (
        # At most one default registry, enforced by the database itself.
        Index(
            "uq_registries_single_default",
            "is_default",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    url: Mapped[str] = mapped_column(String(300))
    image_path: Mapped[str | None] = mapped_column(String(255))
    default_tag: Mapped[str] = mapped_column(String(128))
    requires_auth: Mapped[bool] = mapped_column(Boolean)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    public_credentials: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secret_ciphertext: Mapped[str | None] = mapped_column(Text)
    secret_field_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    credential_changed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer)
    tls_mode: Mapped[str] = mapped_column(String(20), server_default="verify")
    ca_bundle: Mapped[str | None] = mapped_column(Text)
    # Summary of the last Test Connection (never secrets): when, verdict, one line.
    last_check_at: Mapped[datetime | None]
    last_check_ok: Mapped[bool | None] = mapped_column(Boolean)
    last_check_summary: Mapped[str | None] = mapped_column(Text)


class OrchestratorRow(Base):
    __tablename__ = "orchestrators"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text, default="")
    auth_mode: Mapped[str] = mapped_column(String(20))
    api_server_url: Mapped[str | None] = mapped_column(String(300))
    skip_tls_verify: Mapped[bool] = mapped_column(Boolean)
    supports_load_balancer: Mapped[bool] = mapped_column(Boolean)
    metallb_range: Mapped[str | None] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(Boolean)
    public_credentials: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secret_ciphertext: Mapped[str | None] = mapped_column(Text)
    secret_field_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    credential_changed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer)
    last_check_at: Mapped[datetime | None]
    last_check_ok: Mapped[bool | None] = mapped_column(Boolean)
    last_check_summary: Mapped[str | None] = mapped_column(Text)


class ClusterRow(Base):
    """A Vectis server cluster: one Deployment and its companions in one namespace."""

    __tablename__ = "clusters"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    environment: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    orchestrator_id: Mapped[str] = mapped_column(ForeignKey("orchestrators.id"), index=True)
    namespace: Mapped[str] = mapped_column(String(63))
    create_namespace: Mapped[bool] = mapped_column(Boolean)
    deployment_name: Mapped[str] = mapped_column(String(63))
    replicas: Mapped[int] = mapped_column(Integer)
    storage_host_path: Mapped[str] = mapped_column(String(500))
    storage_size: Mapped[str] = mapped_column(String(20))
    vectis_port: Mapped[int] = mapped_column(Integer)
    registry_id: Mapped[str | None] = mapped_column(ForeignKey("registries.id"), index=True)
    image: Mapped[str] = mapped_column(String(600))  # full reference, resolved at save
    deployment_state: Mapped[str] = mapped_column(String(20))
    state_reason: Mapped[str] = mapped_column(Text, default="")
    deployed_objects: Mapped[list[Any]] = mapped_column(JSON, default=list)
    deployed_at: Mapped[datetime | None]
    restarted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer)


class RegistryNamespaceRow(Base):
    """Extra namespaces where a registry's pull secret must exist, per orchestrator."""

    __tablename__ = "registry_namespaces"

    registry_id: Mapped[str] = mapped_column(
        ForeignKey("registries.id", ondelete="CASCADE"), primary_key=True
    )
    orchestrator_id: Mapped[str] = mapped_column(
        ForeignKey("orchestrators.id", ondelete="CASCADE"), primary_key=True
    )
    namespace: Mapped[str] = mapped_column(String(63), primary_key=True)


class SecretSyncRow(Base):
    """State of one pull-secret copy: (registry, orchestrator, namespace).

    No foreign keys: a copy outlives its registry until the cluster confirms its deletion.
    """

    __tablename__ = "secret_syncs"

    registry_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    orchestrator_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    namespace: Mapped[str] = mapped_column(String(63), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    desired: Mapped[str] = mapped_column(String(20))  # present | absent
    content_hash: Mapped[str | None] = mapped_column(String(80))
    message: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)


class LeaseRow(Base):
    """A named lease: at most one console replica runs the guarded work at a time."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]


class AuditRow(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100), index=True)
    target_type: Mapped[str] = mapped_column(String(50))
    target_id: Mapped[str | None] = mapped_column(String(100), index=True)
    target_name: Mapped[str | None] = mapped_column(String(200))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outcome: Mapped[str] = mapped_column(String(50), default="success")


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
    password_changed_at: Mapped[datetime]


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    prefix: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
