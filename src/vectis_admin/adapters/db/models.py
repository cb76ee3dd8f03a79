"""ORM tables. Schema changes go through Alembic migrations (see migrations/versions)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = ["ApiTokenRow", "AuditRow", "Base", "OrchestratorRow", "RegistryRow", "UserRow"]


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
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON}


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
