"""API schemas for Test Connection reports and tag listings."""

from __future__ import annotations

from pydantic import BaseModel, Field

from vectis_admin.domain.checks import CheckReport, TagList
from vectis_admin.web.schemas.registries import RegistryCreate

__all__ = ["CheckRequest", "CheckReportPublic", "StepPublic", "TagPage", "UnsavedCheckRequest"]


class CheckRequest(BaseModel):
    image: str | None = Field(
        default=None,
        description="Image to check: `path:tag`, `:tag`, `@digest` or a full reference in this "
        "registry. Default: the registry's image path and default tag.",
        examples=["cpoder/vectis-server:1.4.2"],
    )


class UnsavedCheckRequest(RegistryCreate):
    """The Add Registry form's values, tested before Create (nothing is stored)."""

    image: str | None = None


class StepPublic(BaseModel):
    step: str
    title: str
    status: str
    message: str
    hint: str
    latency_ms: float | None
    failure: str | None


class CheckReportPublic(BaseModel):
    registry: str
    image: str | None
    ok: bool
    summary: str
    digest: str | None
    media_type: str | None
    platforms: list[str] | None
    round_trips: int
    steps: list[StepPublic]

    @classmethod
    def of(cls, report: CheckReport) -> CheckReportPublic:
        return cls(
            registry=report.registry,
            image=report.image,
            ok=report.ok,
            summary=report.summary,
            digest=report.digest,
            media_type=report.media_type,
            platforms=list(report.platforms) if report.platforms is not None else None,
            round_trips=report.round_trips,
            steps=[
                StepPublic(
                    step=s.step.value,
                    title=s.title,
                    status=s.status.value,
                    message=s.message,
                    hint=s.hint,
                    latency_ms=round(s.latency_ms, 2) if s.latency_ms is not None else None,
                    failure=s.failure.value if s.failure else None,
                )
                for s in report.steps
            ],
        )


class TagPage(BaseModel):
    repository: str
    items: list[str]
    total: int
    limit: int
    offset: int
    complete: bool = Field(description="False when the registry had more tags than were read")

    @classmethod
    def of(cls, tags: TagList, *, limit: int, offset: int) -> TagPage:
        ordered = sorted(tags.tags)
        return cls(
            repository=tags.repository,
            items=ordered[offset : offset + limit],
            total=len(ordered),
            limit=limit,
            offset=offset,
            complete=tags.complete,
        )
