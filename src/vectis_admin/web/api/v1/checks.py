"""`/api/v1/checks`: best-practice findings (the seed's "Bonnes pratiques")."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from vectis_admin.domain.policy import Finding
from vectis_admin.web.deps import ActorDep, RuntimeDep

router = APIRouter(prefix="/checks", tags=["checks"])


class FindingPublic(BaseModel):
    code: str
    severity: str
    message: str
    fix: str
    objects: list[str]

    @classmethod
    def of(cls, finding: Finding) -> FindingPublic:
        return cls(
            code=finding.code,
            severity=finding.severity.value,
            message=finding.message,
            fix=finding.fix,
            objects=list(finding.objects),
        )


@router.get("", response_model=list[FindingPublic])
def best_practice_findings(runtime: RuntimeDep, _actor: ActorDep) -> list[FindingPublic]:
    """Production on public registries or mutable tags, shared or old credentials, insecure
    registries in production, anonymous Docker Hub — each naming the objects and the fix."""
    return [FindingPublic.of(f) for f in runtime.best_practices.findings()]
