"""API schemas for pull-secret copies and their sync state."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, SecretStr

from vectis_admin.services.ports import SecretCopy
from vectis_admin.services.pull_secrets import SyncReport
from vectis_admin.services.rotation import RotationResult

__all__ = [
    "NamespacePlacement",
    "RotateRequest",
    "RotationPublic",
    "SecretCopyPublic",
    "SyncPublic",
]


class SecretCopyPublic(BaseModel):
    orchestrator_id: str
    namespace: str
    secret_name: str
    state: str = Field(description="synced, pending (retried with backoff) or error")
    desired: str = Field(description="present, or absent while a removal is pending")
    message: str
    attempts: int
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    next_attempt_at: datetime | None

    @classmethod
    def of(cls, copy: SecretCopy) -> SecretCopyPublic:
        return cls(
            orchestrator_id=copy.orchestrator_id,
            namespace=copy.namespace,
            secret_name=f"registry-secret-{copy.registry_id}",
            state=copy.state.value,
            desired=copy.desired,
            message=copy.message,
            attempts=copy.attempts,
            last_attempt_at=copy.last_attempt_at,
            last_success_at=copy.last_success_at,
            next_attempt_at=copy.next_attempt_at,
        )


class SyncPublic(BaseModel):
    registry_id: str
    ok: bool
    writes: int | None = Field(default=None, description="Write calls made by this sync")
    copies: list[SecretCopyPublic]

    @classmethod
    def of_report(cls, report: SyncReport) -> SyncPublic:
        return cls(
            registry_id=report.registry_id,
            ok=report.ok,
            writes=report.writes,
            copies=[SecretCopyPublic.of(c) for c in report.copies],
        )

    @classmethod
    def of_copies(cls, registry_id: str, copies: list[SecretCopy]) -> SyncPublic:
        return cls(
            registry_id=registry_id,
            ok=all(c.state.value == "synced" for c in copies),
            copies=[SecretCopyPublic.of(c) for c in copies],
        )


class NamespacePlacement(BaseModel):
    orchestrator: str = Field(description="Orchestrator id or name")
    namespace: str


class RotateRequest(BaseModel):
    credentials: dict[str, SecretStr] = Field(
        description="The new credential fields (e.g. password); checked before being stored"
    )
    redeploy: bool = Field(default=False, description="Restart the affected clusters after")


class RotationPublic(BaseModel):
    registry_id: str
    verified_images: list[str]
    clusters: list[str] = Field(description="Clusters using this registry")
    redeployed: list[str]
    sync: SyncPublic

    @classmethod
    def of(cls, result: RotationResult) -> RotationPublic:
        return cls(
            registry_id=result.registry_id,
            verified_images=list(result.verified_images),
            clusters=list(result.clusters),
            redeployed=list(result.redeployed),
            sync=SyncPublic.of_report(result.sync),
        )
