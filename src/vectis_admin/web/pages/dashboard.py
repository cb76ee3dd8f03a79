"""The dashboard: what needs the operator's attention, at a glance."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from vectis_admin.web.deps import RuntimeDep
from vectis_admin.web.sessions import PageUser
from vectis_admin.web.templating import render

router = APIRouter(include_in_schema=False)

CREDENTIAL_MAX_AGE_DAYS = 90  # the seed's "rotate tokens every 90 days"


@router.get("/")
def dashboard(request: Request, user: PageUser, runtime: RuntimeDep) -> Response:
    now = runtime.clock.now()
    registries = runtime.registries.list(limit=500).items
    clusters = runtime.clusters.list(limit=500).items
    orchestrators = runtime.orchestrators.list(limit=500).items
    old_credentials = [
        r
        for r in registries
        if r.credential_changed_at
        and (now - r.credential_changed_at).days > CREDENTIAL_MAX_AGE_DAYS
    ]
    failing_checks = [r for r in registries if r.last_check_at and not r.last_check_ok]
    return render(
        request,
        "pages/dashboard.html",
        {
            "active": "dashboard",
            "registries": registries,
            "clusters": clusters,
            "orchestrators": orchestrators,
            "old_credentials": old_credentials,
            "failing_checks": failing_checks,
            "max_age": CREDENTIAL_MAX_AGE_DAYS,
            "findings": runtime.best_practices.findings(pin_digests=False),
        },
    )
