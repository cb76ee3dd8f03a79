"""`/api/v1/clusters`: Vectis clusters, Deploy, status, pods, logs, rendered manifests."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response
from fastapi.responses import PlainTextResponse

from vectis_admin.web.deps import ActorDep, ClustersDep, RuntimeDep
from vectis_admin.web.schemas.clusters import (
    ClusterCreate,
    ClusterPage,
    ClusterPublic,
    ClusterUpdate,
    DeploymentStatusPublic,
    DiagnosisReport,
    PodPublic,
)

router = APIRouter(prefix="/clusters", tags=["clusters"])


@router.get("", response_model=ClusterPage)
def list_clusters(
    clusters: ClustersDep,
    _actor: ActorDep,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
) -> ClusterPage:
    page = clusters.list(limit=limit, offset=offset)
    return ClusterPage(
        items=[ClusterPublic.of(c) for c in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.post("", response_model=ClusterPublic, status_code=201)
def create_cluster(body: ClusterCreate, clusters: ClustersDep, actor: ActorDep) -> ClusterPublic:
    return ClusterPublic.of(clusters.create(body.to_draft(), actor=actor))


@router.get("/{cluster_id}", response_model=ClusterPublic)
def get_cluster(cluster_id: str, clusters: ClustersDep, _actor: ActorDep) -> ClusterPublic:
    return ClusterPublic.of(clusters.get(cluster_id))


@router.patch("/{cluster_id}", response_model=ClusterPublic)
def update_cluster(
    cluster_id: str, body: ClusterUpdate, clusters: ClustersDep, actor: ActorDep
) -> ClusterPublic:
    return ClusterPublic.of(clusters.update(cluster_id, body.to_changes(), actor=actor))


@router.delete("/{cluster_id}", status_code=204)
def delete_cluster(cluster_id: str, clusters: ClustersDep, actor: ActorDep) -> Response:
    """Removes exactly what Deploy created, then the cluster."""
    clusters.delete(cluster_id, actor=actor)
    return Response(status_code=204)


@router.post("/{cluster_id}/deploy", response_model=DeploymentStatusPublic)
def deploy_cluster(
    cluster_id: str,
    clusters: ClustersDep,
    actor: ActorDep,
    force: bool = Query(default=False, description="Rolling restart even if nothing changed"),
) -> DeploymentStatusPublic:
    return DeploymentStatusPublic.of(clusters.deploy(cluster_id, force=force, actor=actor))


@router.get("/{cluster_id}/deployment/status", response_model=DeploymentStatusPublic)
def deployment_status(
    cluster_id: str, clusters: ClustersDep, _actor: ActorDep
) -> DeploymentStatusPublic:
    return DeploymentStatusPublic.of(clusters.status(cluster_id))


@router.get("/{cluster_id}/pods", response_model=list[PodPublic])
def list_pods(cluster_id: str, clusters: ClustersDep, _actor: ActorDep) -> list[PodPublic]:
    return [PodPublic.of(p) for p in clusters.pods(cluster_id)]


@router.get("/{cluster_id}/pods/{pod}/logs", response_class=PlainTextResponse)
def pod_logs(
    cluster_id: str,
    pod: str,
    clusters: ClustersDep,
    _actor: ActorDep,
    lines: int = Query(default=100, ge=1, le=10000),
) -> str:
    return clusters.logs(cluster_id, pod, lines=lines)


@router.get("/{cluster_id}/manifests", response_class=PlainTextResponse)
def manifests(
    cluster_id: str,
    clusters: ClustersDep,
    _actor: ActorDep,
    include_secrets: bool = Query(default=False, description="Include the pull Secret itself"),
) -> str:
    """Multi-document YAML for `kubectl apply` or GitOps (works without any cluster)."""
    return clusters.render(cluster_id, include_secrets=include_secrets)


@router.get("/{cluster_id}/diagnosis", response_model=DiagnosisReport)
def diagnosis(cluster_id: str, runtime: RuntimeDep, _actor: ActorDep) -> DiagnosisReport:
    """Why pods cannot pull: pod states and events classified, then live checks and a remedy."""
    return DiagnosisReport.of(runtime.diagnosis.diagnose(cluster_id))
