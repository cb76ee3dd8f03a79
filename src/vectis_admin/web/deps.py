"""Request dependencies, named once: the runtime's services and the authenticated actor."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from vectis_admin.errors import AuthenticationFailed
from vectis_admin.runtime import Runtime
from vectis_admin.services.accounts import AccountService
from vectis_admin.services.audit import AuditService
from vectis_admin.services.checks import CheckService
from vectis_admin.services.clusters import ClusterService
from vectis_admin.services.orchestrators import OrchestratorService
from vectis_admin.services.pull_secrets import PullSecretService
from vectis_admin.services.registries import RegistryService

__all__ = [
    "RuntimeDep",
    "AccountsDep",
    "ActorDep",
    "AuditDep",
    "ChecksDep",
    "ClustersDep",
    "NowDep",
    "OrchestratorsDep",
    "PullSecretsDep",
    "RegistriesDep",
]


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_registries(runtime: RuntimeDep) -> RegistryService:
    return runtime.registries


def get_accounts(runtime: RuntimeDep) -> AccountService:
    return runtime.accounts


def get_audit(runtime: RuntimeDep) -> AuditService:
    return runtime.audit


def get_checks(runtime: RuntimeDep) -> CheckService:
    return runtime.checks


def get_orchestrators(runtime: RuntimeDep) -> OrchestratorService:
    return runtime.orchestrators


def get_pull_secrets(runtime: RuntimeDep) -> PullSecretService:
    return runtime.pull_secrets


def get_clusters(runtime: RuntimeDep) -> ClusterService:
    return runtime.clusters


def now(runtime: RuntimeDep) -> datetime:
    return runtime.clock.now()


NowDep = Annotated[datetime, Depends(now)]
RegistriesDep = Annotated[RegistryService, Depends(get_registries)]
AccountsDep = Annotated[AccountService, Depends(get_accounts)]
AuditDep = Annotated[AuditService, Depends(get_audit)]
ChecksDep = Annotated[CheckService, Depends(get_checks)]
OrchestratorsDep = Annotated[OrchestratorService, Depends(get_orchestrators)]
PullSecretsDep = Annotated[PullSecretService, Depends(get_pull_secrets)]
ClustersDep = Annotated[ClusterService, Depends(get_clusters)]


def require_actor(request: Request, accounts: AccountsDep) -> str:
    """HTTP Basic (admin user) or `Authorization: Bearer <API token>`; returns the user name."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return accounts.authenticate_token(value.strip())
    if scheme.lower() == "basic" and value:
        try:
            username, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationFailed("malformed Basic credentials") from None
        if sep:
            return accounts.authenticate_password(username, password)
    raise AuthenticationFailed("authentication required: HTTP Basic or a Bearer API token")


ActorDep = Annotated[str, Depends(require_actor)]
