"""Keeping pull secrets alive: short-lived tokens re-minted, failed copies retried, drift fixed.

ECR passwords are 12-hour tokens: their pull secrets must be rewritten before they die. A pass
re-syncs every registry with short-lived credentials (the token provider re-mints at 2/3 of the
token's life, so the content changes and the copies are rewritten; an expired token is never
written), retries the copies due for it, and — in a full pass — repairs drift everywhere.

With several console replicas on one PostgreSQL, a database lease makes sure that only one
replica runs a pass at a time; the others skip theirs.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import timedelta

from vectis_admin.domain.registries import RegistryKind
from vectis_admin.services.ports import Clock, Store
from vectis_admin.services.pull_secrets import PullSecretService, SyncReport

__all__ = ["RefreshPass", "RefreshService", "SHORT_LIVED_KINDS"]

SHORT_LIVED_KINDS = frozenset({RegistryKind.ECR})
LEASE = "pull-secret-refresh"


@dataclass(frozen=True, kw_only=True)
class RefreshPass:
    ran: bool  # False: another replica holds the lease
    reports: tuple[SyncReport, ...] = ()

    @property
    def failing(self) -> int:
        return sum(1 for r in self.reports for c in r.copies if c.state.value != "synced")


class RefreshService:
    def __init__(
        self,
        *,
        store: Store,
        pull_secrets: PullSecretService,
        clock: Clock,
        holder: str | None = None,
        lease_ttl: timedelta = timedelta(minutes=10),
    ) -> None:
        self._store = store
        self._pull_secrets = pull_secrets
        self._clock = clock
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        self._ttl = lease_ttl

    def run_pass(self, *, full: bool = False, actor: str = "refresher") -> RefreshPass:
        if not self._acquire():
            return RefreshPass(ran=False)
        try:
            with self._store.transaction() as tx:
                short_lived = sorted(
                    r.id for r in tx.registries.all() if r.kind in SHORT_LIVED_KINDS
                )
            reports = [self._pull_secrets.sync_registry(rid, actor=actor) for rid in short_lived]
            done = {r.registry_id for r in reports}
            others = self._pull_secrets.reconcile(due_only=not full, actor=actor)
            reports += [r for r in others if r.registry_id not in done]
            return RefreshPass(ran=True, reports=tuple(reports))
        finally:
            self._release()

    def _acquire(self) -> bool:
        with self._store.transaction() as tx:
            return tx.leases.acquire(
                LEASE, holder=self.holder, now=self._clock.now(), ttl=self._ttl
            )

    def _release(self) -> None:
        with self._store.transaction() as tx:
            tx.leases.release(LEASE, holder=self.holder, now=self._clock.now())
