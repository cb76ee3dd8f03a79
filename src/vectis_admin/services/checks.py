"""Registry checks: Test Connection on a saved registry or on unsaved form values, and tags.

A check of a saved registry uses exactly the stored credentials, records its one-line summary on
the registry (for the card), and is audited with its verdict — never with a secret.
"""

from __future__ import annotations

from datetime import datetime

from vectis_admin.domain.checks import CheckReport, ProbeTarget, TagList
from vectis_admin.domain.images import image_in_registry
from vectis_admin.domain.registries import kind_info, validate_registry
from vectis_admin.errors import InvalidInput
from vectis_admin.services.ports import (
    AuditEntry,
    Clock,
    RegistryProber,
    Store,
)
from vectis_admin.services.registries import RegistryDraft, RegistryService

__all__ = ["CheckService"]


class CheckService:
    def __init__(
        self,
        *,
        store: Store,
        registries: RegistryService,
        prober: RegistryProber,
        clock: Clock,
    ) -> None:
        self._store = store
        self._registries = registries
        self._prober = prober
        self._clock = clock

    def test_saved(self, ref: str, *, image: str | None, actor: str) -> CheckReport:
        record = self._registries.get(ref)
        repository, reference = _image_of(record.url, record.image_path, record.default_tag, image)
        report = self._prober.check(self._registries.target_of(record, repository, reference))
        now = self._clock.now()
        with self._store.transaction() as tx:
            tx.registries.record_check(record.id, at=now, ok=report.ok, summary=report.summary)
            tx.audit.record(_audit(report, actor, "registry.test", record.id, record.name, now))
        return report

    def test_unsaved(self, draft: RegistryDraft, *, image: str | None, actor: str) -> CheckReport:
        """Test form values before Create: validated like a create, nothing stored but audit."""
        info = kind_info(draft.kind)
        checked = validate_registry(
            kind=draft.kind,
            url=draft.url or info.default_url,
            image_path=draft.image_path,
            default_tag=draft.default_tag,
            requires_auth=draft.requires_auth,
            credentials=draft.credentials,
            credentials_required=True,
            tls_mode=draft.tls_mode,
            ca_bundle=draft.ca_bundle,
        )
        repository, reference = _image_of(
            checked.url, checked.image_path, checked.default_tag or "latest", image
        )
        report = self._prober.check(
            ProbeTarget(
                label=draft.name or checked.url,
                kind=draft.kind,
                host=checked.url,
                tls_mode=draft.tls_mode,
                ca_bundle=checked.ca_bundle,
                credentials=checked.credentials,
                repository=repository,
                reference=reference,
            )
        )
        with self._store.transaction() as tx:
            tx.audit.record(
                _audit(report, actor, "registry.test_unsaved", None, draft.name, self._clock.now())
            )
        return report

    def tags(
        self, ref: str, *, image_path: str | None = None, page_size: int = 100, max_pages: int = 10
    ) -> TagList:
        record = self._registries.get(ref)
        path = image_path or record.image_path
        if not path:
            raise InvalidInput.one("image_path", "is required: this registry has no image path")
        repository, _ = image_in_registry(path, registry_host=record.url, field="image_path")
        return self._prober.tags(
            self._registries.target_of(record, repository, None),
            page_size=page_size,
            max_pages=max_pages,
        )


def _image_of(
    host: str, image_path: str | None, default_tag: str, image: str | None
) -> tuple[str | None, str | None]:
    """The repository and reference to check: the given image, or the registry's default."""
    if image:
        if image.startswith((":", "@")):  # another tag or digest of the default image
            if not image_path:
                raise InvalidInput.one("image", "names only a tag, and the registry has no path")
            image = image_path + image
        return image_in_registry(image, registry_host=host)
    if not image_path:
        return None, None
    return image_path, default_tag


def _audit(
    report: CheckReport,
    actor: str,
    action: str,
    target_id: str | None,
    name: str | None,
    at: datetime,
) -> AuditEntry:
    failure = report.failure
    return AuditEntry(
        at=at,
        actor=actor,
        action=action,
        target_type="registry",
        target_id=target_id,
        target_name=name,
        changes={
            "image": report.image,
            "result": "ok" if report.ok else "failed",
            "failed_step": failure.step.value if failure else None,
            "failure": failure.failure.value if failure and failure.failure else None,
            "summary": report.summary,
        },
        outcome="success" if report.ok else "failure",
    )
