"""Schemas shared by several resources."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, SecretStr

from vectis_admin.services.ports import ApiTokenRecord, AuditEntry

__all__ = [
    "AuditEntryPublic",
    "AuditPage",
    "ErrorBody",
    "TokenCreate",
    "TokenCreated",
    "TokenPublic",
    "reveal",
]


def reveal(credentials: dict[str, SecretStr] | None) -> dict[str, str] | None:
    """The plain values of write-only credential fields, for handing to a service."""
    if credentials is None:
        return None
    return {k: v.get_secret_value() for k, v in credentials.items()}


class ErrorBody(BaseModel):
    error: str
    message: str
    issues: list[dict[str, str]] | None = None
    reason: str | None = None


class AuditEntryPublic(BaseModel):
    id: int | None
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str | None
    target_name: str | None
    changes: dict[str, Any]
    outcome: str

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryPublic:
        return cls(
            id=entry.id,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            target_type=entry.target_type,
            target_id=entry.target_id,
            target_name=entry.target_name,
            changes=dict(entry.changes),
            outcome=entry.outcome,
        )


class AuditPage(BaseModel):
    items: list[AuditEntryPublic]
    total: int
    limit: int
    offset: int


class TokenCreate(BaseModel):
    name: str
    ttl_days: int | None = None


class TokenPublic(BaseModel):
    id: str
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, record: ApiTokenRecord) -> TokenPublic:
        return cls(
            id=record.id,
            name=record.name,
            prefix=record.prefix,
            created_at=record.created_at,
            expires_at=record.expires_at,
            last_used_at=record.last_used_at,
            revoked_at=record.revoked_at,
        )


class TokenCreated(TokenPublic):
    token: str
