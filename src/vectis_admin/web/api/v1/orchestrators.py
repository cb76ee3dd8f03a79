"""`/api/v1/orchestrators`: the Kubernetes clusters the console deploys to."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from vectis_admin.web.deps import ActorDep, OrchestratorsDep
from vectis_admin.web.schemas.orchestrators import (
    OrchestratorCheckPublic,
    OrchestratorCreate,
    OrchestratorPage,
    OrchestratorPublic,
    OrchestratorUpdate,
)

router = APIRouter(prefix="/orchestrators", tags=["orchestrators"])


@router.get("", response_model=OrchestratorPage)
def list_orchestrators(
    orchestrators: OrchestratorsDep,
    _actor: ActorDep,
    enabled: bool | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
) -> OrchestratorPage:
    page = orchestrators.list(enabled=enabled, limit=limit, offset=offset)
    return OrchestratorPage(
        items=[OrchestratorPublic.of(o) for o in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.post("", response_model=OrchestratorPublic, status_code=201)
def create_orchestrator(
    body: OrchestratorCreate, orchestrators: OrchestratorsDep, actor: ActorDep
) -> OrchestratorPublic:
    record, warnings = orchestrators.create(body.to_draft(), actor=actor)
    return OrchestratorPublic.of(record, warnings=warnings)


@router.get("/{orchestrator_id}", response_model=OrchestratorPublic)
def get_orchestrator(
    orchestrator_id: str, orchestrators: OrchestratorsDep, _actor: ActorDep
) -> OrchestratorPublic:
    return OrchestratorPublic.of(orchestrators.get(orchestrator_id))


@router.patch("/{orchestrator_id}", response_model=OrchestratorPublic)
def update_orchestrator(
    orchestrator_id: str, body: OrchestratorUpdate, orchestrators: OrchestratorsDep, actor: ActorDep
) -> OrchestratorPublic:
    record, warnings = orchestrators.update(orchestrator_id, body.to_changes(), actor=actor)
    return OrchestratorPublic.of(record, warnings=warnings)


@router.delete("/{orchestrator_id}", status_code=204)
def delete_orchestrator(
    orchestrator_id: str, orchestrators: OrchestratorsDep, actor: ActorDep
) -> Response:
    orchestrators.delete(orchestrator_id, actor=actor)
    return Response(status_code=204)


@router.post("/{orchestrator_id}/test", response_model=OrchestratorCheckPublic)
def test_orchestrator(
    orchestrator_id: str,
    orchestrators: OrchestratorsDep,
    actor: ActorDep,
    namespace: str = Query(default="default", description="Where deploy rights are checked"),
) -> OrchestratorCheckPublic:
    report = orchestrators.test(orchestrator_id, namespace=namespace, actor=actor)
    return OrchestratorCheckPublic.of(report)
