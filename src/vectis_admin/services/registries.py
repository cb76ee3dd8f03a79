"""Registry use cases: create, read, update, delete, set default, import a Docker config.

Each use case is one transaction that also writes its audit entry, so a change and its trace
land together or not at all. Secret credential fields are encrypted before they reach the store
and decrypted only to re-validate a partial update.
"""

from __future__ import annotations

import builtins
import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from vectis_admin.domain.checks import ProbeTarget
from vectis_admin.domain.dockerconfig import ImportableEntry, parse_docker_config
from vectis_admin.domain.registries import RegistryKind, TlsMode, kind_info, validate_registry
from vectis_admin.errors import Conflict, FieldIssue, InvalidInput, NotFound, VectisError
from vectis_admin.services.audit import diff_fields, record_change
from vectis_admin.services.ports import (
    AuditEntry,
    Clock,
    Page,
    RegistryRecord,
    SecretCipher,
    SecretFields,
    Store,
    Transaction,
)
from vectis_admin.services.secrets import seal, unseal

__all__ = [
    "ImportReport",
    "RegistryChanges",
    "RegistryDraft",
    "RegistryService",
    "Saved",
]

MAX_PAGE = 500


@dataclass(frozen=True, kw_only=True)
class RegistryDraft:
    name: str
    kind: RegistryKind
    url: str | None = None
    image_path: str | None = None
    default_tag: str = "latest"
    requires_auth: bool = True
    is_default: bool = False
    enabled: bool = True
    description: str = ""
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)
    tls_mode: TlsMode = TlsMode.VERIFY
    ca_bundle: str | None = None


@dataclass(frozen=True, kw_only=True)
class RegistryChanges:
    """A partial update: None means "keep". Omitted credential fields keep the stored ones."""

    name: str | None = None
    kind: RegistryKind | None = None
    url: str | None = None
    image_path: str | None = None
    default_tag: str | None = None
    requires_auth: bool | None = None
    enabled: bool | None = None
    description: str | None = None
    credentials: Mapping[str, str] | None = field(default=None, repr=False)
    tls_mode: TlsMode | None = None
    ca_bundle: str | None = None  # "" removes the bundle
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class Saved:
    registry: RegistryRecord
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ImportReport:
    created: tuple[Saved, ...]
    skipped: tuple[tuple[str, str], ...]  # (server key, reason)


_NAME_RULE = "must be 1-100 characters, not only spaces"


def _check_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > 100:
        raise InvalidInput.one("name", _NAME_RULE)
    return cleaned


def _split_credentials(
    kind: RegistryKind, credentials: Mapping[str, str]
) -> tuple[dict[str, str], SecretFields]:
    secret_names = {f.name for f in kind_info(kind).credential_fields if f.secret}
    public = {k: v for k, v in credentials.items() if k not in secret_names and v != ""}
    secret = SecretFields({k: v for k, v in credentials.items() if k in secret_names and v != ""})
    return public, secret


class RegistryService:
    def __init__(self, *, store: Store, cipher: SecretCipher, clock: Clock) -> None:
        self._store = store
        self._cipher = cipher
        self._clock = clock
        self._listeners: list[Callable[[str, str], object]] = []

    def subscribe(self, listener: Callable[[str, str], object]) -> None:
        """Call `listener(registry_id, actor)` after every committed change (pull secrets
        follow credentials this way, without this service knowing about Kubernetes)."""
        self._listeners.append(listener)

    def _changed(self, registry_id: str, actor: str) -> None:
        for listener in self._listeners:
            listener(registry_id, actor)

    # -- reads ---------------------------------------------------------------------------

    def list(
        self,
        *,
        kind: RegistryKind | None = None,
        enabled: bool | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[RegistryRecord]:
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput.one("limit", f"must be between 1 and {MAX_PAGE}")
        if offset < 0:
            raise InvalidInput.one("offset", "must be 0 or more")
        with self._store.transaction() as tx:
            return tx.registries.list(kind=kind, enabled=enabled, limit=limit, offset=offset)

    def get(self, ref: str) -> RegistryRecord:
        """By id, or by name (the CLI's natural handle)."""
        with self._store.transaction() as tx:
            return self._find(tx, ref)

    def secrets_of(self, record: RegistryRecord) -> SecretFields:
        """Decrypt a registry's secret fields for use (registry checks, pull secrets)."""
        return unseal(self._cipher, record.secret_ciphertext)

    def target_of(
        self,
        record: RegistryRecord,
        repository: str | None = None,
        reference: str | None = None,
    ) -> ProbeTarget:
        """What to contact for this registry, with exactly the stored credentials."""
        credentials = {**record.public_credentials, **self.secrets_of(record)}
        return ProbeTarget(
            label=record.name,
            kind=record.kind,
            host=record.url,
            tls_mode=record.tls_mode,
            ca_bundle=record.ca_bundle,
            credentials=credentials if record.requires_auth else {},
            repository=repository,
            reference=reference,
        )

    # -- writes --------------------------------------------------------------------------

    def create(self, draft: RegistryDraft, *, actor: str) -> Saved:
        # Every broken rule at once: the name's, the URL's and the catalogue's.
        issues: list[FieldIssue] = []
        name = draft.name.strip()
        if not name or len(name) > 100:
            issues.append(FieldIssue("name", _NAME_RULE))
        url = draft.url or kind_info(draft.kind).default_url
        if not url:
            issues.append(FieldIssue("url", f"is required for {kind_info(draft.kind).label}"))
        try:
            checked = validate_registry(
                kind=draft.kind,
                url=url,
                image_path=draft.image_path or None,
                default_tag=draft.default_tag,
                requires_auth=draft.requires_auth,
                credentials=draft.credentials,
                credentials_required=True,
                tls_mode=draft.tls_mode,
                ca_bundle=draft.ca_bundle,
            )
        except InvalidInput as exc:
            known = {i.field for i in issues}
            raise InvalidInput(issues + [i for i in exc.issues if i.field not in known]) from None
        if issues:
            raise InvalidInput(issues)
        public, secret = _split_credentials(draft.kind, checked.credentials)
        now = self._clock.now()
        record = RegistryRecord(
            id=str(uuid.uuid4()),
            name=name,
            kind=draft.kind,
            url=checked.url,
            image_path=checked.image_path,
            default_tag=checked.default_tag or "latest",
            requires_auth=draft.requires_auth,
            is_default=draft.is_default,
            enabled=draft.enabled,
            description=draft.description,
            public_credentials=public,
            secret_ciphertext=seal(self._cipher, secret),
            secret_field_names=sorted(secret),
            created_at=now,
            updated_at=now,
            credential_changed_at=now if (secret or public) else None,
            version=1,
            tls_mode=draft.tls_mode,
            ca_bundle=checked.ca_bundle,
        )
        if draft.is_default and not draft.enabled:
            raise InvalidInput.one("is_default", "a disabled registry cannot be the default")
        with self._store.transaction() as tx:
            if draft.is_default:
                tx.registries.clear_default()
            tx.registries.add(record)
            changes: dict[str, Any] = {
                k: {"to": v} for k, v in _public_view(record).items() if v not in (None, "", {}, [])
            }
            changes.update({f"credentials.{k}": "set" for k in sorted(secret)})
            record_change(tx, self._clock, actor, "registry.create", record, changes)
        self._changed(record.id, actor)
        return Saved(registry=record, warnings=checked.warnings)

    def preview(self, ref: str, changes: RegistryChanges) -> RegistryRecord:
        """The registry as `changes` would make it (validated, nothing stored): lets a
        rotation test new credentials before they replace the old ones."""
        with self._store.transaction() as tx:
            current = self._find(tx, ref)
        updated, _, _ = self._apply(current, changes)
        return updated

    def update(self, ref: str, changes: RegistryChanges, *, actor: str) -> Saved:
        with self._store.transaction() as tx:
            current = self._find(tx, ref)
            if changes.expected_version is not None and changes.expected_version != current.version:
                raise Conflict(
                    f"registry {current.name!r} is at version {current.version}, "
                    f"not {changes.expected_version}: someone else changed it; reload and retry",
                    reason="stale_version",
                )
            updated, warnings, secret_changed = self._apply(current, changes)
            if updated.is_default and not updated.enabled:
                # Disabling the default registry also takes its star away.
                updated.is_default = False
                warnings += ("the registry was the default; it no longer is",)
            diff = diff_fields(_public_view(current), _public_view(updated))
            diff.update({f"credentials.{k}": "changed" for k in secret_changed})
            if not diff:
                return Saved(registry=current, warnings=warnings)
            updated.version = current.version + 1
            updated.updated_at = self._clock.now()
            if secret_changed or any(k.startswith("credentials.") for k in diff):
                updated.credential_changed_at = updated.updated_at
            tx.registries.update(updated, expected_version=current.version)
            record_change(tx, self._clock, actor, "registry.update", updated, diff)
        self._changed(updated.id, actor)
        return Saved(registry=updated, warnings=warnings)

    def delete(self, ref: str, *, actor: str, expected_version: int | None = None) -> None:
        with self._store.transaction() as tx:
            record = self._find(tx, ref)
            if expected_version is not None and expected_version != record.version:
                raise Conflict(
                    f"registry {record.name!r} changed since version {expected_version}",
                    reason="stale_version",
                )
            users = tx.clusters.using_registry(record.id)
            if users:
                names = ", ".join(sorted(c.name for c in users))
                raise Conflict(
                    f"registry {record.name!r} is used by the cluster(s) {names}: point them "
                    "at another registry (or delete them) first",
                    reason="in_use",
                )
            tx.registries.delete(record.id)
            record_change(tx, self._clock, actor, "registry.delete", record, {})
        self._changed(record.id, actor)  # its pull-secret copies are removed

    def set_default(self, ref: str, *, actor: str) -> RegistryRecord:
        with self._store.transaction() as tx:
            record = self._find(tx, ref)
            if not record.enabled:
                raise Conflict(
                    f"registry {record.name!r} is disabled; enable it before making it default",
                    reason="disabled",
                )
            if record.is_default:
                return record
            tx.registries.clear_default()
            updated = replace(
                record, is_default=True, version=record.version + 1, updated_at=self._clock.now()
            )
            tx.registries.update(updated, expected_version=record.version)
            record_change(
                tx,
                self._clock,
                actor,
                "registry.set_default",
                updated,
                {"is_default": {"from": False, "to": True}},
            )
        return updated

    def import_docker_config(self, text: str, *, actor: str) -> ImportReport:
        """Create one registry per importable `auths` entry; report the others with a reason."""
        parsed = parse_docker_config(text)
        created: list[Saved] = []
        skipped: list[tuple[str, str]] = [(e.server_key, e.reason) for e in parsed.not_importable]
        for entry in parsed.entries:
            if entry.kind is RegistryKind.ECR:
                # A config.json ECR login is a 12-hour token; ECR needs AWS keys to stay valid.
                skipped.append((entry.server_key, _ECR_NOT_IMPORTABLE))
                continue
            try:
                created.append(self.create(_draft_from_entry(entry), actor=actor))
            except VectisError as exc:
                skipped.append((entry.server_key, exc.message))
        return ImportReport(created=tuple(created), skipped=tuple(skipped))

    def reencrypt_all(self, cipher: SecretCipher, *, actor: str) -> int:
        """Re-encrypt every stored secret under the cipher's newest key; returns rows changed."""
        count = 0
        with self._store.transaction() as tx:
            ids = [r.id for r in tx.registries.all() if r.secret_ciphertext]
        for registry_id in ids:
            with self._store.transaction() as tx:
                record = tx.registries.get(registry_id)
                if record is None or not record.secret_ciphertext:
                    continue
                rotated = replace(record, secret_ciphertext=cipher.rotate(record.secret_ciphertext))
                # Same version: re-encryption is not an edit, and must not fail a concurrent one.
                tx.registries.update(rotated, expected_version=record.version)
                count += 1
        with self._store.transaction() as tx:
            tx.audit.record(
                AuditEntry(
                    at=self._clock.now(),
                    actor=actor,
                    action="keys.rotate",
                    target_type="keyring",
                    target_id=None,
                    target_name=None,
                    changes={"reencrypted_registries": count},
                )
            )
        return count

    # -- helpers -------------------------------------------------------------------------

    def _find(self, tx: Transaction, ref: str) -> RegistryRecord:
        record = tx.registries.get(ref) or tx.registries.get_by_name(ref)
        if record is None:
            raise NotFound(f"registry {ref!r} not found")
        return record

    def _apply(
        self, current: RegistryRecord, changes: RegistryChanges
    ) -> tuple[RegistryRecord, tuple[str, ...], builtins.list[str]]:
        kind = changes.kind or current.kind
        requires_auth = (
            current.requires_auth if changes.requires_auth is None else changes.requires_auth
        )
        if kind != current.kind or not requires_auth:
            base: dict[str, str] = {}  # another kind has other fields: start afresh
        else:
            base = {**current.public_credentials, **self.secrets_of(current)}
        merged = {**base, **(changes.credentials or {})}
        default_tag = (
            changes.default_tag if changes.default_tag is not None else current.default_tag
        )
        image_path = current.image_path if changes.image_path is None else changes.image_path
        tls_mode = changes.tls_mode or current.tls_mode
        ca_bundle = current.ca_bundle if changes.ca_bundle is None else changes.ca_bundle
        checked = validate_registry(
            kind=kind,
            url=changes.url or current.url,
            image_path=image_path or None,
            default_tag=default_tag,
            requires_auth=requires_auth,
            credentials=merged if requires_auth else (changes.credentials or {}),
            credentials_required=True,
            tls_mode=tls_mode,
            ca_bundle=ca_bundle,
        )
        public, secret = _split_credentials(kind, checked.credentials)
        old_secret = self.secrets_of(current)
        secret_changed: builtins.list[str] = sorted(
            k for k in set(secret) | set(old_secret) if secret.get(k) != old_secret.get(k)
        )
        ciphertext = current.secret_ciphertext
        if secret_changed:
            ciphertext = seal(self._cipher, secret)
        updated = replace(
            current,
            name=_check_name(changes.name) if changes.name is not None else current.name,
            kind=kind,
            url=checked.url,
            image_path=checked.image_path,
            default_tag=checked.default_tag or "latest",
            requires_auth=requires_auth,
            enabled=current.enabled if changes.enabled is None else changes.enabled,
            description=current.description if changes.description is None else changes.description,
            public_credentials=public,
            secret_ciphertext=ciphertext,
            secret_field_names=sorted(secret),
            tls_mode=tls_mode,
            ca_bundle=checked.ca_bundle,
        )
        return updated, checked.warnings, secret_changed


def _public_view(record: RegistryRecord) -> dict[str, Any]:
    """The fields an audit diff may show: everything but secrets and bookkeeping."""
    view: dict[str, Any] = {
        "name": record.name,
        "kind": record.kind.value,
        "url": record.url,
        "image_path": record.image_path,
        "default_tag": record.default_tag,
        "requires_auth": record.requires_auth,
        "is_default": record.is_default,
        "enabled": record.enabled,
        "description": record.description,
        "tls_mode": record.tls_mode.value,
        # A fingerprint, so the audit tells "changed" without pasting certificates.
        "ca_bundle": hashlib.sha256(record.ca_bundle.encode()).hexdigest()[:16]
        if record.ca_bundle
        else None,
    }
    view.update({f"credentials.{k}": v for k, v in record.public_credentials.items()})
    return view


_ECR_NOT_IMPORTABLE = (
    "an ECR login is a 12-hour token; add this registry with AWS access keys "
    "(`vectis-admin registry add --kind ecr`) so the console can renew it"
)


def _draft_from_entry(entry: ImportableEntry) -> RegistryDraft:
    return RegistryDraft(
        name=entry.host,
        kind=entry.kind,
        url=entry.host,
        requires_auth=True,
        credentials={"username": entry.username, "password": entry.password},
    )
