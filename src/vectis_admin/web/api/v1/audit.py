"""`/api/v1/audit`: the audit trail, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from vectis_admin.web.deps import ActorDep, AuditDep
from vectis_admin.web.schemas.common import AuditEntryPublic, AuditPage

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=AuditPage)
def list_audit(
    audit: AuditDep,
    _actor: ActorDep,
    target_type: str | None = None,
    target_id: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    since: Annotated[datetime | None, Query(description="From this time (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="Before this time (ISO 8601)")] = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
) -> AuditPage:
    page = audit.list(
        target_type=target_type,
        target_id=target_id,
        action=action,
        actor=actor,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return AuditPage(
        items=[AuditEntryPublic.of(e) for e in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )
