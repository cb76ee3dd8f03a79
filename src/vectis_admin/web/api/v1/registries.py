"""`/api/v1/registries`: each route parses, calls one service function, renders."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from vectis_admin.domain.registries import RegistryKind
from vectis_admin.web.deps import (
    ActorDep,
    ChecksDep,
    NowDep,
    PullSecretsDep,
    RegistriesDep,
    RuntimeDep,
)
from vectis_admin.web.schemas.checks import (
    CheckReportPublic,
    CheckRequest,
    TagPage,
    UnsavedCheckRequest,
)
from vectis_admin.web.schemas.common import reveal
from vectis_admin.web.schemas.registries import (
    RegistryCreate,
    RegistryPage,
    RegistryPublic,
    RegistryUpdate,
)
from vectis_admin.web.schemas.sync import (
    NamespacePlacement,
    RotateRequest,
    RotationPublic,
    SyncPublic,
)

router = APIRouter(prefix="/registries", tags=["registries"])


@router.post("/test", response_model=CheckReportPublic)
def test_unsaved_registry(
    body: UnsavedCheckRequest, checks: ChecksDep, actor: ActorDep
) -> CheckReportPublic:
    """Test Connection on form values, before Create; nothing is stored."""
    report = checks.test_unsaved(body.to_draft(), image=body.image, actor=actor)
    return CheckReportPublic.of(report)


@router.get("", response_model=RegistryPage)
def list_registries(
    registries: RegistriesDep,
    _actor: ActorDep,
    now: NowDep,
    kind: RegistryKind | None = None,
    enabled: bool | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
) -> RegistryPage:
    page = registries.list(kind=kind, enabled=enabled, limit=limit, offset=offset)
    items = [RegistryPublic.of(r, now=now) for r in page.items]
    return RegistryPage(items=items, total=page.total, limit=page.limit, offset=page.offset)


@router.post("", response_model=RegistryPublic, status_code=201)
def create_registry(
    body: RegistryCreate, registries: RegistriesDep, actor: ActorDep, now: NowDep
) -> RegistryPublic:
    return RegistryPublic.of_saved(registries.create(body.to_draft(), actor=actor), now=now)


@router.get("/{registry_id}", response_model=RegistryPublic)
def get_registry(
    registry_id: str, registries: RegistriesDep, _actor: ActorDep, now: NowDep
) -> RegistryPublic:
    return RegistryPublic.of(registries.get(registry_id), now=now)


@router.patch("/{registry_id}", response_model=RegistryPublic)
def update_registry(
    registry_id: str, body: RegistryUpdate, registries: RegistriesDep, actor: ActorDep, now: NowDep
) -> RegistryPublic:
    saved = registries.update(registry_id, body.to_changes(), actor=actor)
    return RegistryPublic.of_saved(saved, now=now)


@router.delete("/{registry_id}", status_code=204)
def delete_registry(
    registry_id: str,
    registries: RegistriesDep,
    actor: ActorDep,
    version: int | None = Query(default=None, description="Refuse if the registry changed since"),
) -> Response:
    registries.delete(registry_id, actor=actor, expected_version=version)
    return Response(status_code=204)


@router.post("/{registry_id}/default", response_model=RegistryPublic)
def set_default_registry(
    registry_id: str, registries: RegistriesDep, actor: ActorDep, now: NowDep
) -> RegistryPublic:
    return RegistryPublic.of(registries.set_default(registry_id, actor=actor), now=now)


@router.post("/{registry_id}/test", response_model=CheckReportPublic)
def test_registry(
    registry_id: str, checks: ChecksDep, actor: ActorDep, body: CheckRequest | None = None
) -> CheckReportPublic:
    """Test Connection: reachability, credentials, image and tag, step by step."""
    image = body.image if body else None
    return CheckReportPublic.of(checks.test_saved(registry_id, image=image, actor=actor))


@router.get("/{registry_id}/tags", response_model=TagPage)
def list_tags(
    registry_id: str,
    checks: ChecksDep,
    _actor: ActorDep,
    image_path: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = Query(default=0, ge=0),
) -> TagPage:
    """Tags of the registry's image (or of `image_path`), sorted, read from the registry."""
    tags = checks.tags(registry_id, image_path=image_path)
    return TagPage.of(tags, limit=limit, offset=offset)


@router.get("/{registry_id}/sync", response_model=SyncPublic)
def sync_state(
    registry_id: str, registries: RegistriesDep, pull_secrets: PullSecretsDep, _actor: ActorDep
) -> SyncPublic:
    """State of every copy of the registry's pull secret (per orchestrator and namespace)."""
    registry = registries.get(registry_id)
    return SyncPublic.of_copies(registry.id, pull_secrets.copies(registry.id))


@router.post("/{registry_id}/sync", response_model=SyncPublic)
def sync_now(
    registry_id: str, registries: RegistriesDep, pull_secrets: PullSecretsDep, actor: ActorDep
) -> SyncPublic:
    """Converge the copies now (drift repair, retries) instead of waiting for the reconciler."""
    registry = registries.get(registry_id)
    return SyncPublic.of_report(pull_secrets.sync_registry(registry.id, actor=actor))


@router.get("/{registry_id}/namespaces", response_model=list[NamespacePlacement])
def extra_namespaces(
    registry_id: str, pull_secrets: PullSecretsDep, _actor: ActorDep
) -> list[NamespacePlacement]:
    """Namespaces listed for this registry beyond those of the clusters that use it."""
    return [
        NamespacePlacement(orchestrator=o, namespace=n)
        for o, n in pull_secrets.extra_namespaces(registry_id)
    ]


@router.put("/{registry_id}/namespaces", response_model=SyncPublic)
def set_extra_namespaces(
    registry_id: str,
    body: list[NamespacePlacement],
    pull_secrets: PullSecretsDep,
    actor: ActorDep,
) -> SyncPublic:
    """Replace the extra namespaces, then sync: copies appear (and vanish) accordingly."""
    pairs = [(p.orchestrator, p.namespace) for p in body]
    return SyncPublic.of_report(pull_secrets.set_extra_namespaces(registry_id, pairs, actor=actor))


@router.post("/{registry_id}/rotate", response_model=RotationPublic)
def rotate_credentials(
    registry_id: str, body: RotateRequest, runtime: RuntimeDep, actor: ActorDep
) -> RotationPublic:
    """Verified rotation: the new credentials are checked against every image the registry's
    clusters run; only then stored and pushed to every pull-secret copy (409 otherwise)."""
    result = runtime.rotation.rotate(
        registry_id, reveal(body.credentials) or {}, redeploy=body.redeploy, actor=actor
    )
    return RotationPublic.of(result)
