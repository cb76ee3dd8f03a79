"""API schemas for registries, by role: Create, Update, Public, Page.

Secret credential values arrive as `SecretStr` (masked in any repr) and never leave: responses
say which secret fields are set and when credentials last changed.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from vectis_admin.domain.registries import RegistryKind, TlsMode, kind_info
from vectis_admin.services.ports import RegistryRecord
from vectis_admin.services.registries import RegistryChanges, RegistryDraft, Saved
from vectis_admin.web.schemas.common import reveal as _reveal

__all__ = ["RegistryCreate", "RegistryPage", "RegistryPublic", "RegistryUpdate"]

_Credentials = dict[str, SecretStr]


class RegistryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    kind: RegistryKind
    url: str | None = Field(default=None, description="Host[:port]; defaults to the kind's URL")
    image_path: str | None = Field(default=None, examples=["cpoder/vectis-server"])
    default_tag: str = "latest"
    requires_auth: bool = True
    is_default: bool = False
    enabled: bool = True
    description: str = Field(default="", max_length=2000)
    credentials: _Credentials = Field(
        default_factory=dict,
        description="Per kind: username/password, or access_key_id/secret_access_key/region "
        "(ECR). Write-only.",
    )
    tls_mode: TlsMode = TlsMode.VERIFY
    ca_bundle: str | None = Field(default=None, description="PEM CA certificates to trust")

    def to_draft(self) -> RegistryDraft:
        return RegistryDraft(
            name=self.name,
            kind=self.kind,
            url=self.url,
            image_path=self.image_path,
            default_tag=self.default_tag,
            requires_auth=self.requires_auth,
            is_default=self.is_default,
            enabled=self.enabled,
            description=self.description,
            credentials=_reveal(self.credentials) or {},
            tls_mode=self.tls_mode,
            ca_bundle=self.ca_bundle,
        )


class RegistryUpdate(BaseModel):
    """Partial update. Omitted fields keep their value; omitted credential fields too."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    kind: RegistryKind | None = None
    url: str | None = None
    image_path: str | None = None
    default_tag: str | None = None
    requires_auth: bool | None = None
    enabled: bool | None = None
    description: str | None = Field(default=None, max_length=2000)
    credentials: _Credentials | None = None
    tls_mode: TlsMode | None = None
    ca_bundle: str | None = Field(default=None, description='"" removes the bundle')
    version: int | None = Field(
        default=None, description="The version you read; a concurrent change makes this 409."
    )

    def to_changes(self) -> RegistryChanges:
        return RegistryChanges(
            name=self.name,
            kind=self.kind,
            url=self.url,
            image_path=self.image_path,
            default_tag=self.default_tag,
            requires_auth=self.requires_auth,
            enabled=self.enabled,
            description=self.description,
            credentials=_reveal(self.credentials),
            tls_mode=self.tls_mode,
            ca_bundle=self.ca_bundle,
            expected_version=self.version,
        )


class LastCheck(BaseModel):
    at: datetime
    ok: bool
    summary: str


class RegistryPublic(BaseModel):
    id: str
    name: str
    kind: RegistryKind
    kind_label: str
    url: str
    image_path: str | None
    default_tag: str
    image: str | None = Field(description="The default image reference, when an image path is set")
    requires_auth: bool
    is_default: bool
    enabled: bool
    description: str
    credentials: dict[str, str] = Field(description="Non-secret credential fields only")
    secret_fields_set: list[str]
    has_credentials: bool
    credential_changed_at: datetime | None
    credential_age_days: int | None
    created_at: datetime
    updated_at: datetime
    version: int
    tls_mode: TlsMode
    insecure: bool
    ca_bundle: str | None
    last_check: LastCheck | None
    warnings: list[str] = Field(default_factory=list)

    @classmethod
    def of(
        cls, record: RegistryRecord, *, now: datetime, warnings: tuple[str, ...] = ()
    ) -> RegistryPublic:
        changed = record.credential_changed_at
        return cls(
            id=record.id,
            name=record.name,
            kind=record.kind,
            kind_label=kind_info(record.kind).label,
            url=record.url,
            image_path=record.image_path,
            default_tag=record.default_tag,
            image=f"{record.url}/{record.image_path}:{record.default_tag}"
            if record.image_path
            else None,
            requires_auth=record.requires_auth,
            is_default=record.is_default,
            enabled=record.enabled,
            description=record.description,
            credentials=record.public_credentials,
            secret_fields_set=record.secret_field_names,
            has_credentials=bool(record.secret_field_names or record.public_credentials),
            credential_changed_at=changed,
            credential_age_days=max(0, (now - changed).days) if changed else None,
            created_at=record.created_at,
            updated_at=record.updated_at,
            version=record.version,
            tls_mode=record.tls_mode,
            insecure=record.tls_mode is not TlsMode.VERIFY,
            ca_bundle=record.ca_bundle,
            last_check=LastCheck(
                at=record.last_check_at,
                ok=bool(record.last_check_ok),
                summary=record.last_check_summary or "",
            )
            if record.last_check_at
            else None,
            warnings=list(warnings),
        )

    @classmethod
    def of_saved(cls, saved: Saved, *, now: datetime) -> RegistryPublic:
        return cls.of(saved.registry, now=now, warnings=saved.warnings)


class RegistryPage(BaseModel):
    items: list[RegistryPublic]
    total: int
    limit: int
    offset: int
