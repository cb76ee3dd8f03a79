"""`/api/v1/diagnose`: explain a pull failure from what `kubectl describe pod` shows."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from vectis_admin.domain.pull_failures import PullDiagnosis, explain_pull_failure
from vectis_admin.web.deps import ActorDep

router = APIRouter(prefix="/diagnose", tags=["diagnose"])


class ExplainRequest(BaseModel):
    message: str = Field(
        min_length=1,
        max_length=20_000,
        description="The waiting message and/or the pod's events, as kubectl describe shows them",
    )
    reason: str | None = Field(default=None, examples=["ImagePullBackOff", "ErrImagePull"])


class DiagnosisPublic(BaseModel):
    cause: str
    known: bool
    summary: str
    fix: str
    evidence: str

    @classmethod
    def of(cls, diagnosis: PullDiagnosis) -> DiagnosisPublic:
        return cls(
            cause=diagnosis.cause.value,
            known=diagnosis.known,
            summary=diagnosis.summary,
            fix=diagnosis.fix,
            evidence=diagnosis.evidence,
        )


@router.post("/explain", response_model=DiagnosisPublic)
def explain(body: ExplainRequest, _actor: ActorDep) -> DiagnosisPublic:
    """Cause and fix of a pull failure; an unrecognised message is reported as unknown."""
    return DiagnosisPublic.of(explain_pull_failure(body.reason, body.message.splitlines()))
