"""API schemas for Vectis clusters, deployment status and pods."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from vectis_admin.domain.manifests import Environment
from vectis_admin.services.clusters import (
    ClusterChanges,
    ClusterDraft,
    DeploymentStatus,
    PodInfo,
)
from vectis_admin.services.diagnosis import ClusterDiagnosis
from vectis_admin.services.ports import ClusterRecord

__all__ = [
    "ClusterCreate",
    "ClusterPage",
    "ClusterPublic",
    "ClusterUpdate",
    "DeploymentStatusPublic",
    "DiagnosisReport",
    "PodPublic",
]


class ClusterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    environment: Environment = Environment.DEVELOPMENT
    description: str = Field(default="", max_length=2000)
    orchestrator: str = Field(description="Orchestrator id or name")
    namespace: str = "default"
    create_namespace: bool = True
    deployment_name: str
    replicas: int = Field(default=3, ge=1, le=10)
    storage_host_path: str
    storage_size: str = "10Gi"
    vectis_port: int = Field(default=5000, ge=1, le=65535)
    registry: str | None = Field(default=None, description="Container Registry (id or name)")
    image_path: str | None = Field(default=None, description="Default: the registry's")
    tag: str | None = Field(default=None, description="Default: the registry's default tag")
    image: str | None = Field(default=None, description="A full image reference instead")

    def to_draft(self) -> ClusterDraft:
        return ClusterDraft(**self.model_dump())


class ClusterUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = None
    environment: Environment | None = None
    replicas: int | None = Field(default=None, ge=1, le=10)
    vectis_port: int | None = Field(default=None, ge=1, le=65535)
    storage_host_path: str | None = None
    storage_size: str | None = None
    registry: str | None = None
    image_path: str | None = None
    tag: str | None = None
    image: str | None = None
    version: int | None = None

    def to_changes(self) -> ClusterChanges:
        values = self.model_dump()
        values["expected_version"] = values.pop("version")
        return ClusterChanges(**values)


class ClusterPublic(BaseModel):
    id: str
    name: str
    environment: Environment
    description: str
    orchestrator_id: str
    namespace: str
    create_namespace: bool
    deployment_name: str
    replicas: int
    storage_host_path: str
    storage_size: str
    vectis_port: int
    registry_id: str | None
    image: str
    deployment_state: str
    state_reason: str
    deployed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, record: ClusterRecord) -> ClusterPublic:
        return cls(
            id=record.id,
            name=record.name,
            environment=record.environment,
            description=record.description,
            orchestrator_id=record.orchestrator_id,
            namespace=record.namespace,
            create_namespace=record.create_namespace,
            deployment_name=record.deployment_name,
            replicas=record.replicas,
            storage_host_path=record.storage_host_path,
            storage_size=record.storage_size,
            vectis_port=record.vectis_port,
            registry_id=record.registry_id,
            image=record.image,
            deployment_state=record.deployment_state.value,
            state_reason=record.state_reason,
            deployed_at=record.deployed_at,
            created_at=record.created_at,
            updated_at=record.updated_at,
            version=record.version,
        )


class ClusterPage(BaseModel):
    items: list[ClusterPublic]
    total: int
    limit: int
    offset: int


class DeploymentStatusPublic(BaseModel):
    cluster: str
    state: str
    reason: str
    health: str
    replicas: int
    ready_replicas: int
    endpoint: str | None
    message: str
    objects: list[dict[str, str]]

    @classmethod
    def of(cls, status: DeploymentStatus) -> DeploymentStatusPublic:
        return cls(
            cluster=status.cluster.name,
            state=status.cluster.deployment_state.value,
            reason=status.cluster.state_reason,
            health=status.health,
            replicas=status.replicas,
            ready_replicas=status.ready_replicas,
            endpoint=status.endpoint,
            message=status.message,
            objects=[dict(o) for o in status.objects],
        )


class PodPublic(BaseModel):
    name: str
    phase: str
    ready: bool
    leader: bool
    ip: str | None
    node: str | None
    started_at: str | None
    restarts: int
    waiting_reason: str | None
    waiting_message: str | None

    @classmethod
    def of(cls, pod: PodInfo) -> PodPublic:
        return cls(**pod.__dict__)


class DiagnosisReport(BaseModel):
    cluster: str
    healthy: bool
    cause: str | None
    summary: str
    fix: str
    evidence: list[str]
    pods: list[dict[str, str]]
    findings: list[dict[str, str | bool]]
    remedy: dict[str, str] | None

    @classmethod
    def of(cls, result: ClusterDiagnosis) -> DiagnosisReport:
        return cls(
            cluster=result.cluster,
            healthy=result.healthy,
            cause=result.cause.value if result.cause else None,
            summary=result.summary,
            fix=result.fix,
            evidence=list(result.evidence),
            pods=[
                {
                    "pod": p.pod,
                    "reason": p.reason,
                    "message": p.message,
                    "cause": p.diagnosis.cause.value,
                }
                for p in result.pods
            ],
            findings=[{"check": f.check, "ok": f.ok, "detail": f.detail} for f in result.findings],
            remedy=result.remedy.__dict__ if result.remedy else None,
        )
