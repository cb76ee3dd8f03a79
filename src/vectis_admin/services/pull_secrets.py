"""Pull secrets: `registry-secret-{id}` kept in every namespace that needs it, in every cluster.

A pod can only use a pull secret of its own namespace, so a registry's credentials become one
Secret per (orchestrator, namespace): the namespaces of the clusters that use the registry, plus
the extra namespaces listed for it. This service converges the clusters to that wish list:

* one LIST per orchestrator reads every existing copy (label selector), and content hashes say
  which copies differ — a reconcile with nothing to change makes **zero** write calls;
* writes run with bounded concurrency; an update is one JSON-patch request whose `test` op refuses
  a Secret not managed by the console (a same-named foreign Secret is never overwritten);
* every copy's state (synced / pending / error, attempts, last success, message) is stored; failed
  writes are retried with exponential backoff by the reconciler and `vectis-admin reconcile`;
* copies that are no longer wanted (registry deleted, cluster gone) are deleted, and remembered
  until the cluster confirms it.
"""

from __future__ import annotations

import builtins
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from vectis_admin.domain.manifests import (
    CONTENT_HASH_ANNOTATION,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    REGISTRY_ID_LABEL,
    content_hash,
    is_managed,
    pull_secret,
    pull_secret_name,
    validate_namespace,
)
from vectis_admin.errors import (
    KubeConflict,
    KubeError,
    KubeInvalid,
    KubeNotFound,
    KubeUnavailable,
    UpstreamError,
    VectisError,
)
from vectis_admin.services.orchestrators import OrchestratorService
from vectis_admin.services.ports import (
    AuditEntry,
    Clock,
    ClusterGateway,
    DeploymentState,
    KubeConnector,
    KubeObject,
    RegistryProber,
    RegistryRecord,
    SecretCopy,
    Store,
    SyncState,
    Transaction,
)
from vectis_admin.services.registries import RegistryService

__all__ = ["PullSecretService", "SyncReport"]

PRESENT, ABSENT = "present", "absent"
BACKOFF_FIRST = timedelta(seconds=10)
BACKOFF_MAX = timedelta(minutes=5)
_MANAGED_PATH = "/metadata/labels/" + MANAGED_BY_LABEL.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True, kw_only=True)
class SyncReport:
    registry_id: str
    copies: tuple[SecretCopy, ...]
    writes: int

    @property
    def ok(self) -> bool:
        return all(c.state is SyncState.SYNCED for c in self.copies)


@dataclass(frozen=True)
class _Outcome:
    state: SyncState
    message: str
    wrote: bool
    content_hash: str | None


class PullSecretService:
    def __init__(
        self,
        *,
        store: Store,
        registries: RegistryService,
        orchestrators: OrchestratorService,
        connector: KubeConnector,
        prober: RegistryProber,
        clock: Clock,
        max_workers: int = 16,
    ) -> None:
        self._store = store
        self._registries = registries
        self._orchestrators = orchestrators
        self._connector = connector
        self._prober = prober
        self._clock = clock
        self._max_workers = max_workers

    # -- reads ---------------------------------------------------------------------------

    def copies(self, registry_ref: str) -> builtins.list[SecretCopy]:
        registry = self._registries.get(registry_ref)
        with self._store.transaction() as tx:
            return tx.copies.for_registry(registry.id)

    def extra_namespaces(self, registry_ref: str) -> builtins.list[tuple[str, str]]:
        registry = self._registries.get(registry_ref)
        with self._store.transaction() as tx:
            return tx.copies.extra_namespaces(registry.id)

    # -- writes --------------------------------------------------------------------------

    def set_extra_namespaces(
        self, registry_ref: str, pairs: Iterable[tuple[str, str]], *, actor: str
    ) -> SyncReport:
        """Replace the extra namespaces (orchestrator ref, namespace) of a registry, then sync."""
        registry = self._registries.get(registry_ref)
        resolved = sorted(
            {
                (self._orchestrators.get(orchestrator).id, namespace)
                for orchestrator, namespace in pairs
            }
        )
        for _, namespace in resolved:
            validate_namespace(namespace)
        with self._store.transaction() as tx:
            before = tx.copies.extra_namespaces(registry.id)
            tx.copies.set_extra_namespaces(registry.id, resolved)
            tx.audit.record(
                AuditEntry(
                    at=self._clock.now(),
                    actor=actor,
                    action="registry.namespaces",
                    target_type="registry",
                    target_id=registry.id,
                    target_name=registry.name,
                    changes={"from": [list(p) for p in before], "to": [list(p) for p in resolved]},
                )
            )
        return self.sync_registry(registry.id, actor=actor)

    def on_registry_changed(self, registry_id: str, actor: str) -> None:
        """Credentials or the registry itself changed: push it to every copy now."""
        self.sync_registry(registry_id, actor=actor)

    def sync_registry(self, registry_id: str, *, actor: str = "system") -> SyncReport:
        """Converge every copy of one registry's pull secret; never raises for cluster faults."""
        now = self._clock.now()
        with self._store.transaction() as tx:
            registry = tx.registries.get(registry_id)
            wanted = _placements(tx, registry_id) if registry is not None else set()
            known = {
                (c.orchestrator_id, c.namespace): c for c in tx.copies.for_registry(registry_id)
            }
        manifest_for: Callable[[str], KubeObject] | None = None
        login_error = ""
        if registry is not None and wanted:
            try:
                manifest_for = self._manifest_factory(registry)
            except VectisError as exc:
                login_error = f"cannot build the pull secret: {exc.message}"
        by_orchestrator: dict[str, set[str]] = defaultdict(set)
        for orchestrator_id, namespace in set(known) | wanted:
            by_orchestrator[orchestrator_id].add(namespace)
        results: dict[tuple[str, str], _Outcome] = {}
        for orchestrator_id, namespaces in sorted(by_orchestrator.items()):
            want = {ns for ns in namespaces if (orchestrator_id, ns) in wanted}
            results.update(
                self._sync_orchestrator(
                    orchestrator_id,
                    registry_id,
                    want=want,
                    remove=namespaces - want,
                    manifest_for=manifest_for,
                    login_error=login_error,
                )
            )
        copies = self._record(registry_id, results, wanted, known, now)
        writes = sum(1 for r in results.values() if r.wrote)
        if writes or any(c.state is not SyncState.SYNCED for c in copies):
            with self._store.transaction() as tx:
                tx.audit.record(
                    AuditEntry(
                        at=now,
                        actor=actor,
                        action="registry.sync",
                        target_type="registry",
                        target_id=registry_id,
                        target_name=registry.name if registry else None,
                        changes={
                            "writes": writes,
                            "synced": sum(c.state is SyncState.SYNCED for c in copies),
                            "failed": sum(c.state is not SyncState.SYNCED for c in copies),
                        },
                        outcome="success"
                        if all(c.state is SyncState.SYNCED for c in copies)
                        else "failure",
                    )
                )
        return SyncReport(registry_id=registry_id, copies=tuple(copies), writes=writes)

    def reconcile(self, *, due_only: bool = False, actor: str = "reconciler") -> list[SyncReport]:
        """Sync every registry (drift repair), or only those with copies due for a retry."""
        now = self._clock.now()
        with self._store.transaction() as tx:
            copies = tx.copies.all()
            registry_ids = {r.id for r in tx.registries.all()}
        if due_only:
            targets = {
                c.registry_id
                for c in copies
                if c.state is not SyncState.SYNCED
                and (c.next_attempt_at is None or c.next_attempt_at <= now)
            }
        else:
            targets = registry_ids | {c.registry_id for c in copies}
        return [self.sync_registry(rid, actor=actor) for rid in sorted(targets)]

    # -- internals -----------------------------------------------------------------------

    def manifest(self, registry: RegistryRecord, namespace: str) -> KubeObject | None:
        """The Secret this registry needs in `namespace` (None for anonymous registries)."""
        factory = self._manifest_factory(registry)
        return factory(namespace) if factory else None

    def _manifest_factory(self, registry: RegistryRecord) -> Callable[[str], KubeObject] | None:
        if not registry.requires_auth:
            return None  # anonymous pulls need no secret
        username, password = self._prober.login(self._registries.target_of(registry))
        if not username or not password:
            return None

        def manifest(namespace: str) -> KubeObject:
            return pull_secret(
                registry_id=registry.id,
                registry_name=registry.name,
                server_host=registry.url,
                username=username,
                password=password,
                namespace=namespace,
            )

        return manifest

    def _sync_orchestrator(
        self,
        orchestrator_id: str,
        registry_id: str,
        *,
        want: set[str],
        remove: set[str],
        manifest_for: Callable[[str], KubeObject] | None,
        login_error: str,
    ) -> dict[tuple[str, str], _Outcome]:
        def all_as(state: SyncState, message: str) -> dict[tuple[str, str], _Outcome]:
            return {
                (orchestrator_id, ns): _Outcome(state, message, False, None) for ns in want | remove
            }

        if login_error:
            return all_as(SyncState.ERROR, login_error)
        try:
            record = self._orchestrators.get(orchestrator_id)
            gateway = self._connector.connect(self._orchestrators.access_of(record))
        except VectisError as exc:
            return all_as(SyncState.PENDING, f"orchestrator unusable: {exc.message}")
        try:
            try:
                existing = {
                    obj["metadata"]["namespace"]: obj
                    for obj in gateway.list(
                        "Secret",
                        namespace=None,
                        label_selector=f"{MANAGED_BY_LABEL}={MANAGED_BY},"
                        f"{REGISTRY_ID_LABEL}={registry_id}",
                    )
                }
            except KubeError as exc:
                return all_as(_state_for(exc), f"cannot list the copies: {exc.message}")
            jobs: list[tuple[str, Callable[[], _Outcome]]] = []
            for namespace in sorted(want):
                if manifest_for is None:  # the registry needs no secret (anonymous)
                    jobs.append((namespace, _bind(_delete, gateway, registry_id, namespace)))
                    continue
                desired = manifest_for(namespace)
                current = existing.get(namespace)
                if current is not None and _same(current, desired):
                    jobs.append((namespace, _bind(_unchanged, content_hash(desired))))
                else:
                    jobs.append((namespace, _bind(_write, gateway, desired, current is not None)))
            for namespace in sorted(remove):
                jobs.append((namespace, _bind(_delete, gateway, registry_id, namespace)))
            with ThreadPoolExecutor(max_workers=self._max_workers) as pool:
                futures = {ns: pool.submit(job) for ns, job in jobs}
            return {(orchestrator_id, ns): future.result() for ns, future in futures.items()}
        finally:
            gateway.close()

    def _record(
        self,
        registry_id: str,
        results: dict[tuple[str, str], _Outcome],
        wanted: set[tuple[str, str]],
        known: dict[tuple[str, str], SecretCopy],
        now: datetime,
    ) -> builtins.list[SecretCopy]:
        kept: list[SecretCopy] = []
        with self._store.transaction() as tx:
            for (orchestrator_id, namespace), outcome in sorted(results.items()):
                previous = known.get((orchestrator_id, namespace))
                desired = PRESENT if (orchestrator_id, namespace) in wanted else ABSENT
                if desired == ABSENT and outcome.state is SyncState.SYNCED:
                    if previous is not None:
                        tx.copies.remove(previous)
                    continue
                base = previous or SecretCopy(
                    registry_id=registry_id,
                    orchestrator_id=orchestrator_id,
                    namespace=namespace,
                    state=SyncState.PENDING,
                    desired=desired,
                )
                if outcome.state is SyncState.SYNCED:
                    copy = replace(
                        base,
                        state=SyncState.SYNCED,
                        desired=desired,
                        content_hash=outcome.content_hash,
                        message=outcome.message,
                        attempts=0,
                        last_attempt_at=now if outcome.wrote else base.last_attempt_at,
                        last_success_at=now,
                        next_attempt_at=None,
                    )
                else:
                    attempts = base.attempts + 1
                    copy = replace(
                        base,
                        state=outcome.state,
                        desired=desired,
                        message=outcome.message,
                        attempts=attempts,
                        last_attempt_at=now,
                        next_attempt_at=now + _backoff(attempts),
                    )
                if copy != previous:
                    tx.copies.save(copy)
                kept.append(copy)
        return kept


def _placements(tx: Transaction, registry_id: str) -> set[tuple[str, str]]:
    """(orchestrator, namespace) pairs that need the secret: deployed clusters, extra ones."""
    in_use = {
        (c.orchestrator_id, c.namespace)
        for c in tx.clusters.using_registry(registry_id)
        if c.deployment_state is not DeploymentState.NOT_DEPLOYED
    }
    return in_use | set(tx.copies.extra_namespaces(registry_id))


def _bind(function: Callable[..., _Outcome], *args: Any) -> Callable[[], _Outcome]:
    return lambda: function(*args)


def _unchanged(digest: str | None) -> _Outcome:
    return _Outcome(SyncState.SYNCED, "up to date", False, digest)


def _write(gateway: ClusterGateway, desired: KubeObject, exists: bool) -> _Outcome:
    """Create the copy, or update it in one request that refuses a foreign Secret."""
    meta = desired["metadata"]
    digest = content_hash(desired)
    try:
        if exists:
            _patch(gateway, desired)
        else:
            try:
                gateway.create(desired)
            except KubeConflict:
                # Same name, but not among our labelled copies: ours only if its labels say so.
                current = gateway.get("Secret", meta["name"], namespace=meta["namespace"])
                if current is not None and not is_managed(current):
                    return _Outcome(SyncState.ERROR, _foreign(meta), False, None)
                _patch(gateway, desired)
        return _Outcome(SyncState.SYNCED, "written", True, digest)
    except KubeInvalid as exc:
        if "test" in exc.message.lower() or "not managed" in exc.message.lower():
            return _Outcome(SyncState.ERROR, _foreign(meta), False, None)
        return _Outcome(SyncState.ERROR, exc.message, False, None)
    except KubeNotFound as exc:
        return _Outcome(SyncState.PENDING, f"namespace missing? {exc.message}", False, None)
    except KubeError as exc:
        return _Outcome(_state_for(exc), exc.message, False, None)


def _patch(gateway: ClusterGateway, desired: KubeObject) -> None:
    meta = desired["metadata"]
    gateway.json_patch(
        "Secret",
        meta["name"],
        [
            {"op": "test", "path": _MANAGED_PATH, "value": MANAGED_BY},
            {"op": "add", "path": "/metadata/labels", "value": meta["labels"]},
            {"op": "add", "path": "/metadata/annotations", "value": meta["annotations"]},
            {"op": "add", "path": "/data", "value": desired["data"]},
        ],
        namespace=meta["namespace"],
    )


def _delete(gateway: ClusterGateway, registry_id: str, namespace: str) -> _Outcome:
    name = pull_secret_name(registry_id)
    try:
        current = gateway.get("Secret", name, namespace=namespace)
        if current is None:
            return _Outcome(SyncState.SYNCED, "absent", False, None)
        if not is_managed(current):
            return _Outcome(SyncState.SYNCED, "left alone: not managed by the console", False, None)
        gateway.delete("Secret", name, namespace=namespace)
        return _Outcome(SyncState.SYNCED, "deleted", True, None)
    except KubeError as exc:
        return _Outcome(_state_for(exc), f"cannot delete: {exc.message}", False, None)


def _same(current: KubeObject, desired: KubeObject) -> bool:
    """Same content (the data itself, not only our annotation) and same type."""
    annotations = current.get("metadata", {}).get("annotations") or {}
    return (
        current.get("type") == desired["type"]
        and content_hash(current) == content_hash(desired)
        and annotations.get(CONTENT_HASH_ANNOTATION)
        == desired["metadata"]["annotations"][CONTENT_HASH_ANNOTATION]
    )


def _foreign(meta: dict[str, Any]) -> str:
    return (
        f"a Secret named {meta['name']} already exists in namespace {meta['namespace']} and is "
        "not managed by vectis-admin: it was left untouched; rename or delete it, then retry"
    )


def _state_for(exc: UpstreamError) -> SyncState:
    return SyncState.PENDING if isinstance(exc, KubeUnavailable) else SyncState.ERROR


def _backoff(attempts: int) -> timedelta:
    delay: timedelta = BACKOFF_FIRST * (2 ** min(max(0, attempts - 1), 16))
    return min(delay, BACKOFF_MAX)
