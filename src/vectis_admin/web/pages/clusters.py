"""Console pages: Vectis clusters — the list, Add Cluster, and the detail page.

The detail page reads without JavaScript (status, pods, logs of `?pod=`, rendered manifests);
htmx refreshes its status and pods every few seconds and runs Deploy / Redeploy / Delete in
place. The Add Cluster form offers the selected registry's tags, read from the registry itself.
Kubernetes being unreachable is shown where the data would be, never as a broken page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from vectis_admin.domain.manifests import Environment
from vectis_admin.errors import VectisError
from vectis_admin.runtime import Runtime
from vectis_admin.services.clusters import ClusterService
from vectis_admin.services.ports import DeploymentState
from vectis_admin.web.deps import ChecksDep, ClustersDep, RegistriesDep, RuntimeDep
from vectis_admin.web.errors import status_for
from vectis_admin.web.pages._forms import FormDep, done, field_errors, is_htmx, validated
from vectis_admin.web.schemas.clusters import ClusterCreate, ClusterPublic
from vectis_admin.web.sessions import PageUser, SessionUser
from vectis_admin.web.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

LOG_LINES = (50, 100, 200, 500, 1000)
_OPTIONAL = ("description", "registry", "image_path", "tag", "image")


def _payload(form: Mapping[str, str]) -> dict[str, Any]:
    payload: dict[str, Any] = {
        key: form.get(key, "").strip()
        for key in ("name", "environment", "orchestrator", "deployment_name", "storage_host_path")
    }
    payload |= {key: form.get(key, "").strip() or None for key in _OPTIONAL}
    payload["description"] = payload["description"] or ""
    payload |= {
        "namespace": form.get("namespace", "").strip() or "default",
        "create_namespace": "create_namespace" in form,
        "replicas": form.get("replicas", "").strip(),
        "vectis_port": form.get("vectis_port", "").strip(),
        "storage_size": form.get("storage_size", "").strip() or "10Gi",
    }
    return payload


def _form_context(runtime: Runtime) -> dict[str, Any]:
    """What the Add Cluster form offers: enabled orchestrators and registries."""
    registries = runtime.registries.list(enabled=True, limit=500).items
    return {
        "environments": [e.value for e in Environment],
        "orchestrator_choices": runtime.orchestrators.list(enabled=True, limit=500).items,
        "registry_choices": registries,
        "default_registry": next((r.id for r in registries if r.is_default), ""),
    }


def _list_page(
    request: Request,
    runtime: Runtime,
    *,
    open_form: bool = False,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    clusters = runtime.clusters.list(limit=500).items
    orchestrators = {o.id: o.name for o in runtime.orchestrators.list(limit=500).items}
    context = {
        "active": "clusters",
        "clusters": [ClusterPublic.of(c) for c in clusters],
        "orchestrator_names": orchestrators,
        "open_form": open_form,
        "values": (form or {}).get("values", {}),
        "errors": (form or {}).get("errors", {}),
        **_form_context(runtime),
    }
    return render(request, "pages/clusters.html", context, status_code=status_code)


@router.get("/clusters")
def clusters_page(
    request: Request, _user: PageUser, runtime: RuntimeDep, new: str | None = None
) -> Response:
    """`?new` opens the Add Cluster form without JavaScript."""
    return _list_page(request, runtime, open_form=new is not None)


@router.post("/clusters")
def create_cluster(
    request: Request, user: SessionUser, runtime: RuntimeDep, form: FormDep
) -> Response:
    try:
        draft = validated(ClusterCreate, _payload(form)).to_draft()
        record = runtime.clusters.create(draft, actor=user)
    except VectisError as exc:
        again = {"values": form, "errors": field_errors(exc)}
        if is_htmx(request):
            context = {**again, **_form_context(runtime)}
            return render(
                request, "partials/cluster_form.html", context, status_code=status_for(exc)
            )
        status = status_for(exc)
        return _list_page(request, runtime, open_form=True, form=again, status_code=status)
    return done(request, f"/clusters/{record.id}", f"Cluster {record.name} created.")


@router.get("/clusters/tags")
def registry_tags(
    request: Request,
    _user: PageUser,
    checks: ChecksDep,
    registries: RegistriesDep,
    registry: str = "",
    image_path: str = "",
    tag: str = "",
) -> Response:
    """The image-tag field for the chosen registry: its tags, listed by the registry itself."""
    context: dict[str, Any] = {"selected": tag, "registry": None, "tags": [], "problem": ""}
    if registry:
        context["registry"] = record = registries.get(registry)
        context["selected"] = tag or record.default_tag
        try:
            listing = checks.tags(record.id, image_path=image_path or None)
            context |= {"tags": sorted(listing.tags), "repository": listing.repository}
        except VectisError as exc:
            context["problem"] = exc.message
    return render(request, "partials/cluster_tags.html", context)


def _detail_context(clusters: ClusterService, cluster_id: str) -> dict[str, Any]:
    status = clusters.status(cluster_id)
    return {
        "status": status,
        "cluster": ClusterPublic.of(status.cluster),
        **_pods_context(clusters, status.cluster.id, status.cluster.deployment_state),
    }


def _pods_context(
    clusters: ClusterService, cluster_id: str, state: DeploymentState
) -> dict[str, Any]:
    if state in (DeploymentState.NOT_DEPLOYED, DeploymentState.DELETING):
        return {"pods": [], "pods_problem": "", "deployed": False}
    try:
        return {"pods": clusters.pods(cluster_id), "pods_problem": "", "deployed": True}
    except VectisError as exc:
        return {"pods": [], "pods_problem": exc.message, "deployed": True}


@router.get("/clusters/{cluster_id}")
def cluster_detail(
    request: Request,
    _user: PageUser,
    runtime: RuntimeDep,
    cluster_id: str,
    pod: str | None = None,
    lines: int = Query(default=100, ge=1, le=10000),
) -> Response:
    """Everything at once for readers without JavaScript; `?pod=` adds that pod's logs."""
    context = _detail_context(runtime.clusters, cluster_id)
    cluster = context["status"].cluster
    context |= {
        "active": "clusters",
        "orchestrator": runtime.orchestrators.get(cluster.orchestrator_id),
        "registry": runtime.registries.get(cluster.registry_id) if cluster.registry_id else None,
        "manifests": runtime.clusters.render(cluster.id),
        "log_lines": LOG_LINES,
        "lines": lines,
        "log_pod": pod,
        "logs": _logs(runtime.clusters, cluster.id, pod, lines) if pod else None,
    }
    return render(request, "pages/cluster_detail.html", context)


def _logs(clusters: ClusterService, cluster_id: str, pod: str, lines: int) -> dict[str, str]:
    try:
        return {"text": clusters.logs(cluster_id, pod, lines=lines), "problem": ""}
    except VectisError as exc:
        return {"text": "", "problem": exc.message}


@router.get("/clusters/{cluster_id}/status")
def cluster_status(
    request: Request, _user: PageUser, clusters: ClustersDep, cluster_id: str
) -> Response:
    return render(request, "partials/cluster_status.html", {"status": clusters.status(cluster_id)})


@router.get("/clusters/{cluster_id}/health")
def cluster_health(
    request: Request, _user: PageUser, clusters: ClustersDep, cluster_id: str
) -> Response:
    return render(request, "partials/cluster_health.html", {"status": clusters.status(cluster_id)})


@router.get("/clusters/{cluster_id}/pods")
def cluster_pods(
    request: Request, _user: PageUser, clusters: ClustersDep, cluster_id: str
) -> Response:
    cluster = clusters.get(cluster_id)
    context = {
        "cluster": cluster,
        "log_lines": LOG_LINES,
        **_pods_context(clusters, cluster.id, cluster.deployment_state),
    }
    return render(request, "partials/cluster_pods.html", context)


@router.get("/clusters/{cluster_id}/logs")
def cluster_logs(
    request: Request,
    _user: PageUser,
    clusters: ClustersDep,
    cluster_id: str,
    pod: str,
    lines: int = Query(default=100, ge=1, le=10000),
) -> Response:
    context = {
        "cluster_id": cluster_id,
        "log_pod": pod,
        "lines": lines,
        "log_lines": LOG_LINES,
        "logs": _logs(clusters, cluster_id, pod, lines),
    }
    return render(request, "partials/cluster_logs.html", context)


@router.post("/clusters/{cluster_id}/deploy")
def deploy_cluster(
    request: Request, user: SessionUser, clusters: ClustersDep, form: FormDep, cluster_id: str
) -> Response:
    force = form.get("force") == "1"
    status = clusters.deploy(cluster_id, force=force, actor=user)
    cluster = status.cluster
    failed = cluster.deployment_state is DeploymentState.FAILED
    if is_htmx(request):
        headers = {"HX-Trigger": "pods-changed"}
        return render(request, "partials/cluster_status.html", {"status": status}, headers=headers)
    message = (
        f"Deploy of {cluster.name} failed: {cluster.state_reason}"
        if failed
        else f"Cluster {cluster.name} {'redeployed' if force else 'deployed'}."
    )
    return done(request, f"/clusters/{cluster.id}", message, "error" if failed else "success")


@router.post("/clusters/{cluster_id}/delete")
def delete_cluster(
    request: Request, user: SessionUser, clusters: ClustersDep, cluster_id: str
) -> Response:
    name = clusters.get(cluster_id).name
    clusters.delete(cluster_id, actor=user)
    return done(request, "/clusters", f"Cluster {name} deleted, with everything Deploy created.")


@router.get("/clusters/{cluster_id}/diagnosis")
def cluster_diagnosis(
    request: Request, _user: PageUser, runtime: RuntimeDep, cluster_id: str
) -> Response:
    """Why pods cannot pull: classified pod states, live checks, the cause and a remedy."""
    report = runtime.diagnosis.diagnose(cluster_id)
    return render(request, "partials/cluster_diagnosis.html", {"report": report})


@router.post("/clusters/{cluster_id}/remedy")
def apply_remedy(
    request: Request, user: SessionUser, runtime: RuntimeDep, form: FormDep, cluster_id: str
) -> Response:
    """The one-click remedies: re-sync the pull secret, or restart the cluster."""
    cluster = runtime.clusters.get(cluster_id)
    action = form.get("action")
    if action == "resync" and cluster.registry_id:
        runtime.pull_secrets.sync_registry(cluster.registry_id, actor=user)
    elif action == "redeploy":
        runtime.clusters.deploy(cluster.id, force=True, actor=user)
    else:
        raise VectisError(f"no one-click remedy {action!r}: follow the fix shown")
    report = runtime.diagnosis.diagnose(cluster.id)
    return render(request, "partials/cluster_diagnosis.html", {"report": report, "applied": action})
