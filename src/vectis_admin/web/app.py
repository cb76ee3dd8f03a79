"""The FastAPI application factory: the one place the web interface is wired to the runtime."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from vectis_admin import __version__
from vectis_admin.runtime import Runtime
from vectis_admin.web.api.v1 import audit, orchestrators, registries, tokens
from vectis_admin.web.errors import install_error_handlers

__all__ = ["create_app"]


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="Vectis Admin",
        version=__version__,
        description="Container registries, pull secrets and Vectis clusters on Kubernetes.",
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    api = APIRouter(prefix="/api/v1")
    for module in (registries, orchestrators, audit, tokens):
        api.include_router(module.router)
    app.include_router(api)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
