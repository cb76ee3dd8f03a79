"""API schemas for orchestrators (Kubernetes clusters), by role. Credentials are write-only."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from vectis_admin.domain.orchestrators import KubeAuthMode, OrchestratorKind
from vectis_admin.services.orchestrators import (
    OrchestratorChanges,
    OrchestratorDraft,
    OrchestratorReport,
)
from vectis_admin.services.ports import OrchestratorRecord
from vectis_admin.web.schemas.common import reveal as _reveal
from vectis_admin.web.schemas.registries import LastCheck

__all__ = [
    "OrchestratorCheckPublic",
    "OrchestratorCreate",
    "OrchestratorPage",
    "OrchestratorPublic",
    "OrchestratorUpdate",
]

_CREDENTIALS_HELP = (
    "token (token mode); client_cert + client_key (+ ca_cert) (certificate mode); kubeconfig "
    "content or kubeconfig_path, + kubeconfig_context (kubeconfig mode). Secrets are write-only."
)


class OrchestratorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    kind: OrchestratorKind
    auth_mode: KubeAuthMode
    api_server_url: str | None = Field(default=None, examples=["https://10.0.0.10:6443"])
    description: str = Field(default="", max_length=2000)
    skip_tls_verify: bool = False
    supports_load_balancer: bool = True
    metallb_range: str | None = Field(default=None, examples=["192.168.1.240-192.168.1.250"])
    enabled: bool = True
    credentials: dict[str, SecretStr] = Field(default_factory=dict, description=_CREDENTIALS_HELP)

    def to_draft(self) -> OrchestratorDraft:
        return OrchestratorDraft(
            name=self.name,
            kind=self.kind,
            auth_mode=self.auth_mode,
            api_server_url=self.api_server_url,
            description=self.description,
            skip_tls_verify=self.skip_tls_verify,
            supports_load_balancer=self.supports_load_balancer,
            metallb_range=self.metallb_range,
            enabled=self.enabled,
            credentials=_reveal(self.credentials) or {},
        )


class OrchestratorUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    kind: OrchestratorKind | None = None
    auth_mode: KubeAuthMode | None = None
    api_server_url: str | None = None
    description: str | None = Field(default=None, max_length=2000)
    skip_tls_verify: bool | None = None
    supports_load_balancer: bool | None = None
    metallb_range: str | None = None
    enabled: bool | None = None
    credentials: dict[str, SecretStr] | None = Field(default=None, description=_CREDENTIALS_HELP)
    version: int | None = None

    def to_changes(self) -> OrchestratorChanges:
        return OrchestratorChanges(
            name=self.name,
            kind=self.kind,
            auth_mode=self.auth_mode,
            api_server_url=self.api_server_url,
            description=self.description,
            skip_tls_verify=self.skip_tls_verify,
            supports_load_balancer=self.supports_load_balancer,
            metallb_range=self.metallb_range,
            enabled=self.enabled,
            credentials=_reveal(self.credentials),
            expected_version=self.version,
        )


class OrchestratorPublic(BaseModel):
    id: str
    name: str
    kind: OrchestratorKind
    description: str
    auth_mode: KubeAuthMode
    api_server_url: str | None
    skip_tls_verify: bool
    insecure: bool
    supports_load_balancer: bool
    metallb_range: str | None
    enabled: bool
    credentials: dict[str, str] = Field(description="Non-secret credential fields only")
    secret_fields_set: list[str]
    credential_changed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    last_check: LastCheck | None
    warnings: list[str] = Field(default_factory=list)

    @classmethod
    def of(
        cls, record: OrchestratorRecord, *, warnings: tuple[str, ...] = ()
    ) -> OrchestratorPublic:
        return cls(
            id=record.id,
            name=record.name,
            kind=record.kind,
            description=record.description,
            auth_mode=record.auth_mode,
            api_server_url=record.api_server_url,
            skip_tls_verify=record.skip_tls_verify,
            insecure=record.skip_tls_verify or (record.api_server_url or "").startswith("http://"),
            supports_load_balancer=record.supports_load_balancer,
            metallb_range=record.metallb_range,
            enabled=record.enabled,
            credentials=record.public_credentials,
            secret_fields_set=record.secret_field_names,
            credential_changed_at=record.credential_changed_at,
            created_at=record.created_at,
            updated_at=record.updated_at,
            version=record.version,
            last_check=LastCheck(
                at=record.last_check_at,
                ok=bool(record.last_check_ok),
                summary=record.last_check_summary or "",
            )
            if record.last_check_at
            else None,
            warnings=list(warnings),
        )


class OrchestratorPage(BaseModel):
    items: list[OrchestratorPublic]
    total: int
    limit: int
    offset: int


class PermissionPublic(BaseModel):
    verb: str
    resource: str
    namespace: str
    allowed: bool


class OrchestratorCheckPublic(BaseModel):
    orchestrator: str
    ok: bool
    reachable: bool
    server_version: str | None
    namespace: str
    permissions: list[PermissionPublic]
    message: str
    warnings: list[str]

    @classmethod
    def of(cls, report: OrchestratorReport) -> OrchestratorCheckPublic:
        return cls(
            orchestrator=report.orchestrator,
            ok=report.ok,
            reachable=report.reachable,
            server_version=report.server_version,
            namespace=report.namespace,
            permissions=[
                PermissionPublic(
                    verb=p.verb, resource=p.resource, namespace=p.namespace, allowed=p.allowed
                )
                for p in report.permissions
            ],
            message=report.message,
            warnings=list(report.warnings),
        )
