"""Best-practice checks over the stored definitions, with the digest to pin looked up live."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from vectis_admin.domain.images import image_in_registry
from vectis_admin.domain.policy import ClusterFacts, Finding, RegistryFacts, evaluate
from vectis_admin.services.ports import (
    Clock,
    ClusterRecord,
    RegistryProber,
    RegistryRecord,
    Store,
)
from vectis_admin.services.registries import RegistryService

__all__ = ["BestPracticeService"]


class BestPracticeService:
    def __init__(
        self, *, store: Store, registries: RegistryService, prober: RegistryProber, clock: Clock
    ) -> None:
        self._store = store
        self._registries = registries
        self._prober = prober
        self._clock = clock

    def findings(self, *, pin_digests: bool = True) -> list[Finding]:
        """Every finding; `pin_digests` asks the registry for the digest a mutable tag is on
        now (a network call per such cluster, so the dashboard skips it)."""
        with self._store.transaction() as tx:
            registries = tx.registries.all()
            clusters = tx.clusters.all()
        facts = [
            RegistryFacts(
                id=r.id,
                name=r.name,
                kind=r.kind,
                url=r.url,
                requires_auth=r.requires_auth,
                tls_mode=r.tls_mode,
                credential_changed_at=r.credential_changed_at,
            )
            for r in registries
        ]
        cluster_facts = [
            ClusterFacts(
                id=c.id,
                name=c.name,
                environment=c.environment,
                registry_id=c.registry_id,
                image=c.image,
            )
            for c in clusters
        ]
        by_name = {c.name: c for c in clusters}
        found = evaluate(facts, cluster_facts, now=self._clock.now())
        if not pin_digests:
            return found
        return [self._with_digest(f, by_name, registries) for f in found]

    def _with_digest(
        self,
        finding: Finding,
        clusters: Mapping[str, ClusterRecord],
        registries: Sequence[RegistryRecord],
    ) -> Finding:
        """For a mutable tag, name the digest to pin (what the registry serves right now)."""
        if finding.code != "production-mutable-tag":
            return finding
        cluster = clusters[finding.objects[0]]
        registry = next((r for r in registries if r.id == cluster.registry_id), None)
        if registry is None:
            return finding
        repository, reference = image_in_registry(cluster.image, registry_host=registry.url)
        report = self._prober.check(
            self._registries.target_of(registry, repository, reference), warm=True
        )
        if not report.ok or not report.digest:
            return finding
        pinned = f"{registry.url}/{repository}@{report.digest}"
        return replace(finding, fix=f"{finding.fix} Pin: {pinned}")
