"""Verified credential rotation: prove the new credentials before they replace the old ones.

The seed's advice for an expired token — "update the password and redeploy" — fails badly when
the new password is wrong: every pull secret copy is overwritten with credentials that do not
work. Here the new credentials are first checked against the registry for every image the
registry's clusters run (and its default image); only if all pass are they stored and pushed to
every copy. The affected clusters are listed and, on request, restarted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vectis_admin.domain.images import image_in_registry
from vectis_admin.errors import Conflict, InvalidInput
from vectis_admin.services.audit import record_change
from vectis_admin.services.clusters import ClusterService
from vectis_admin.services.ports import (
    Clock,
    ClusterRecord,
    DeploymentState,
    RegistryProber,
    RegistryRecord,
    Store,
)
from vectis_admin.services.pull_secrets import PullSecretService, SyncReport
from vectis_admin.services.registries import RegistryChanges, RegistryService

__all__ = ["RotationResult", "RotationService"]


@dataclass(frozen=True, kw_only=True)
class RotationResult:
    registry_id: str
    verified_images: tuple[str, ...]
    clusters: tuple[str, ...]
    redeployed: tuple[str, ...]
    sync: SyncReport


class RotationService:
    def __init__(
        self,
        *,
        store: Store,
        registries: RegistryService,
        clusters: ClusterService,
        pull_secrets: PullSecretService,
        prober: RegistryProber,
        clock: Clock,
    ) -> None:
        self._store = store
        self._registries = registries
        self._clusters = clusters
        self._pull_secrets = pull_secrets
        self._prober = prober
        self._clock = clock

    def rotate(
        self,
        ref: str,
        credentials: Mapping[str, str],
        *,
        redeploy: bool = False,
        actor: str,
    ) -> RotationResult:
        if not credentials:
            raise InvalidInput.one("credentials", "must give the new credentials")
        current = self._registries.get(ref)
        changes = RegistryChanges(credentials=credentials, expected_version=current.version)
        verified, users = self._verify(current, changes, actor=actor, login_only_ok=True)
        saved = self._registries.update(current.id, changes, actor=actor)  # syncs every copy
        sync = self._pull_secrets.sync_registry(saved.registry.id, actor=actor)
        redeployed = []
        if redeploy:
            for cluster in users:
                if cluster.deployment_state is DeploymentState.DEPLOYED:
                    self._clusters.deploy(cluster.id, force=True, actor=actor)
                    redeployed.append(cluster.name)
        with self._store.transaction() as tx:
            record_change(
                tx,
                self._clock,
                actor,
                "registry.rotate",
                saved.registry,
                {"verified_images": verified, "redeployed": redeployed, "credentials": "changed"},
            )
        return RotationResult(
            registry_id=saved.registry.id,
            verified_images=tuple(verified),
            clusters=tuple(sorted(c.name for c in users)),
            redeployed=tuple(redeployed),
            sync=sync,
        )

    def verify_edit(self, ref: str, changes: RegistryChanges, *, actor: str) -> None:
        """For an edit that brings new secrets: refuse it (409, nothing stored) if the new
        credentials cannot pull what the registry's clusters run. Registries no cluster uses
        are not contacted: there is nothing a wrong password could break yet."""
        current = self._registries.get(ref)
        self._verify(current, changes, actor=actor, login_only_ok=False)

    def _verify(
        self,
        current: RegistryRecord,
        changes: RegistryChanges,
        *,
        actor: str,
        login_only_ok: bool,
    ) -> tuple[list[str], list[ClusterRecord]]:
        candidate = self._registries.preview(current.id, changes)
        with self._store.transaction() as tx:
            users = tx.clusters.using_registry(current.id)
        if not users and not login_only_ok:
            return [], users
        images = _images_to_verify(candidate, users)
        if not images:
            images = [(None, None)]  # nothing to pull yet: prove at least that the login works
        verified: list[str] = []
        for repository, reference in images:
            report = self._prober.check(
                self._registries.target_of(candidate, repository, reference), warm=True
            )
            if not report.ok:
                failed = report.failure
                why = f"{failed.title}: {failed.message}" if failed else report.summary
                with self._store.transaction() as tx:
                    record_change(
                        tx,
                        self._clock,
                        actor,
                        "registry.rotate",
                        current,
                        {"result": "refused", "image": report.image, "reason": why},
                        "failure",
                    )
                raise Conflict(
                    f"the new credentials were NOT stored: {report.image or candidate.url} "
                    f"failed — {why}",
                    reason="verification_failed",
                )
            verified.append(report.image or candidate.url)
        return verified, users


def _images_to_verify(
    registry: RegistryRecord, clusters: list[ClusterRecord]
) -> list[tuple[str | None, str | None]]:
    """Every image the registry's clusters run, then its default image."""
    images: list[tuple[str | None, str | None]] = []
    for cluster in clusters:
        images.append(image_in_registry(cluster.image, registry_host=registry.url))
    if registry.image_path:
        images.append((registry.image_path, registry.default_tag))
    return list(dict.fromkeys(images))  # each image once, in order
