"""Console pages: orchestrators, the Kubernetes clusters the console deploys Vectis to.

One card per orchestrator, an Add/Edit form per authentication mode, Test Connection and
Delete. Every action is a plain form post (redirect + flash) that htmx upgrades to a fragment
swap. Credential fields are write-only: the forms never carry a stored secret back, and an empty
secret field on Edit keeps the stored value.

The small form helpers at the bottom (`FormDep`, `validated`, `done`, `field_errors`) are shared
with the clusters pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from vectis_admin.domain.orchestrators import SECRET_FIELDS, KubeAuthMode, OrchestratorKind
from vectis_admin.errors import VectisError
from vectis_admin.services.orchestrators import OrchestratorService
from vectis_admin.services.ports import OrchestratorRecord
from vectis_admin.web.deps import OrchestratorsDep
from vectis_admin.web.errors import status_for
from vectis_admin.web.pages._forms import FormDep, done, field_errors, is_htmx, validated
from vectis_admin.web.schemas.orchestrators import (
    OrchestratorCheckPublic,
    OrchestratorCreate,
    OrchestratorPublic,
    OrchestratorUpdate,
)
from vectis_admin.web.sessions import PageUser, SessionUser
from vectis_admin.web.templating import flash, render

__all__ = ["FormDep", "done", "field_errors", "router", "validated"]

router = APIRouter(include_in_schema=False)


# The credential fields each authentication mode's form shows (the rest are ignored).
MODE_FIELDS: dict[str, tuple[str, ...]] = {
    KubeAuthMode.TOKEN: ("token", "ca_cert"),
    KubeAuthMode.CERTIFICATE: ("client_cert", "client_key", "ca_cert"),
    KubeAuthMode.KUBECONFIG: ("kubeconfig", "kubeconfig_path", "kubeconfig_context"),
    KubeAuthMode.IN_CLUSTER: (),
}
_SERVER_MODES = (KubeAuthMode.TOKEN, KubeAuthMode.CERTIFICATE)
_SWITCHES = ("skip_tls_verify", "supports_load_balancer", "enabled")


# --- orchestrators --------------------------------------------------------------------------


def _payload(form: Mapping[str, str], *, with_version: bool = False) -> dict[str, Any]:
    mode = form.get("auth_mode", "")
    fields = MODE_FIELDS.get(mode, ())
    payload: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "kind": form.get("kind", ""),
        "auth_mode": mode,
        "api_server_url": form.get("api_server_url", "") if mode in _SERVER_MODES else None,
        "description": form.get("description", ""),
        "metallb_range": form.get("metallb_range", ""),
        # Secret fields left empty keep the stored value; public ones are sent as they are.
        "credentials": {
            k: form.get(k, "") for k in fields if k not in SECRET_FIELDS or form.get(k)
        },
        **{switch: switch in form for switch in _SWITCHES},
    }
    if with_version:
        payload["version"] = form.get("version") or None
    return payload


def _page(
    request: Request,
    orchestrators: OrchestratorService,
    *,
    open_form: str | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    records = orchestrators.list(limit=500).items
    return render(
        request,
        "pages/orchestrators.html",
        {
            "active": "orchestrators",
            "orchestrators": [OrchestratorPublic.of(o) for o in records],
            "open_form": open_form,
            "form": form or {},
            **_choices(),
        },
        status_code=status_code,
    )


def _choices() -> dict[str, Any]:
    return {
        "kinds": [k.value for k in OrchestratorKind],
        "auth_modes": [
            ("kubeconfig", "Kubeconfig"),
            ("token", "Bearer token"),
            ("certificate", "Client certificate"),
            ("in_cluster", "In-cluster service account"),
        ],
    }


def _form_again(
    request: Request,
    orchestrators: OrchestratorService,
    exc: VectisError,
    *,
    key: str,
    values: Mapping[str, str],
    record: OrchestratorRecord | None = None,
) -> Response:
    """The form once more, with the errors next to their fields (secrets not echoed)."""
    form = {
        "key": key,
        "values": {k: v for k, v in values.items() if k not in SECRET_FIELDS},
        "errors": field_errors(exc),
        "orchestrator": OrchestratorPublic.of(record) if record else None,
    }
    status = status_for(exc)
    if is_htmx(request):
        return render(
            request, "partials/orchestrator_form.html", {**form, **_choices()}, status_code=status
        )
    return _page(request, orchestrators, open_form=key, form=form, status_code=status)


@router.get("/orchestrators")
def orchestrators_page(
    request: Request,
    _user: PageUser,
    orchestrators: OrchestratorsDep,
    new: str | None = None,
    edit: str | None = None,
) -> Response:
    """`?new` or `?edit=<id>` opens that form without JavaScript."""
    return _page(request, orchestrators, open_form="new" if new is not None else edit)


@router.post("/orchestrators")
def create_orchestrator(
    request: Request, user: SessionUser, orchestrators: OrchestratorsDep, form: FormDep
) -> Response:
    try:
        draft = validated(OrchestratorCreate, _payload(form)).to_draft()
        record, warnings = orchestrators.create(draft, actor=user)
    except VectisError as exc:
        return _form_again(request, orchestrators, exc, key="new", values=form)
    for warning in warnings:
        flash(request, f"{record.name}: {warning}", "warning")
    return done(request, "/orchestrators", f"Orchestrator {record.name} added.")


@router.post("/orchestrators/{orchestrator_id}")
def update_orchestrator(
    request: Request,
    user: SessionUser,
    orchestrators: OrchestratorsDep,
    form: FormDep,
    orchestrator_id: str,
) -> Response:
    try:
        changes = validated(OrchestratorUpdate, _payload(form, with_version=True)).to_changes()
        record, warnings = orchestrators.update(orchestrator_id, changes, actor=user)
    except VectisError as exc:
        current = orchestrators.get(orchestrator_id)
        return _form_again(request, orchestrators, exc, key=current.id, values=form, record=current)
    for warning in warnings:
        flash(request, f"{record.name}: {warning}", "warning")
    return done(request, "/orchestrators", f"Orchestrator {record.name} saved.")


@router.post("/orchestrators/{orchestrator_id}/test")
def test_orchestrator(
    request: Request, user: SessionUser, orchestrators: OrchestratorsDep, orchestrator_id: str
) -> Response:
    report = orchestrators.test(orchestrator_id, actor=user)
    if not is_htmx(request):
        level = "success" if report.ok else "error"
        return done(request, "/orchestrators", f"{report.orchestrator}: {report.message}", level)
    context = {"report": OrchestratorCheckPublic.of(report), "orchestrator_id": orchestrator_id}
    return render(request, "partials/orchestrator_test.html", context)


@router.post("/orchestrators/{orchestrator_id}/delete")
def delete_orchestrator(
    request: Request, user: SessionUser, orchestrators: OrchestratorsDep, orchestrator_id: str
) -> Response:
    name = orchestrators.get(orchestrator_id).name
    orchestrators.delete(orchestrator_id, actor=user)
    return done(request, "/orchestrators", f"Orchestrator {name} deleted.")
