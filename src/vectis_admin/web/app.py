"""The FastAPI application factory: the one place the web interface is wired to the runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from vectis_admin import __version__
from vectis_admin.background import Reconciler
from vectis_admin.runtime import Runtime
from vectis_admin.web.api.v1 import (
    audit,
    checks,
    clusters,
    diagnose,
    orchestrators,
    registries,
    tokens,
)
from vectis_admin.web.errors import install_error_handlers
from vectis_admin.web.pages import audit as audit_pages
from vectis_admin.web.pages import auth, dashboard
from vectis_admin.web.pages import clusters as cluster_pages
from vectis_admin.web.pages import orchestrators as orchestrator_pages
from vectis_admin.web.pages import registries as registry_pages
from vectis_admin.web.sessions import load_session_key
from vectis_admin.web.templating import STATIC_DIR, make_templates

__all__ = ["create_app"]


def create_app(runtime: Runtime, *, background: bool = False) -> FastAPI:
    """The console. `background=True` (what `serve` uses) runs the reconciler while it lives."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        reconciler = Reconciler(runtime.refresh) if background else None
        if reconciler:
            reconciler.start()
        try:
            yield
        finally:
            if reconciler:
                reconciler.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="Vectis Admin",
        version=__version__,
        description="Container registries, pull secrets and Vectis clusters on Kubernetes.",
    )
    app.state.runtime = runtime
    app.state.templates = make_templates()
    settings = runtime.settings
    app.add_middleware(
        SessionMiddleware,
        secret_key=load_session_key(settings.data_dir / "session.key"),
        session_cookie="vectis_session",
        max_age=settings.session_hours * 3600,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_error_handlers(app)
    api = APIRouter(prefix="/api/v1")
    for module in (registries, orchestrators, clusters, diagnose, checks, audit, tokens):
        api.include_router(module.router)
    app.include_router(api)
    for page in (auth, dashboard, registry_pages, orchestrator_pages, cluster_pages, audit_pages):
        app.include_router(page.router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
