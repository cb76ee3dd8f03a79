"""The audit trail: who changed what, when — field names and non-secret values only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from vectis_admin.errors import InvalidInput
from vectis_admin.services.ports import AuditEntry, Clock, Page, Store, Transaction

__all__ = ["AuditService", "diff_fields", "record_change"]


class _Named(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...


def record_change(
    tx: Transaction,
    clock: Clock,
    actor: str,
    action: str,
    target: _Named,
    changes: Mapping[str, Any] | None = None,
    outcome: str = "success",
) -> None:
    """One audit entry for `action` ("registry.update"…) on a named object, in `tx`."""
    tx.audit.record(
        AuditEntry(
            at=clock.now(),
            actor=actor,
            action=action,
            target_type=action.split(".", 1)[0],
            target_id=target.id,
            target_name=target.name,
            changes=dict(changes or {}),
            outcome=outcome,
        )
    )


def diff_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """{field: {"from": old, "to": new}} for each field whose value differs."""
    return {
        key: {"from": before.get(key), "to": after.get(key)}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


class AuditService:
    def __init__(self, *, store: Store) -> None:
        self._store = store

    def list(
        self,
        *,
        target_type: str | None = None,
        target_id: str | None = None,
        action: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[AuditEntry]:
        if not 1 <= limit <= 500:
            raise InvalidInput.one("limit", "must be between 1 and 500")
        if offset < 0:
            raise InvalidInput.one("offset", "must be 0 or more")
        with self._store.transaction() as tx:
            return tx.audit.list(
                target_type=target_type,
                target_id=target_id,
                action=action,
                actor=actor,
                since=since,
                until=until,
                limit=limit,
                offset=offset,
            )
