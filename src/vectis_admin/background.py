"""The background reconciler: retries failed pull-secret writes and repairs drift.

Due retries run often (each copy has its own backoff); a full reconcile, which reads every copy
and writes only what differs, runs less often. One thread, stopped with the console.
"""

from __future__ import annotations

import logging
import threading
import time

from vectis_admin.errors import VectisError
from vectis_admin.services.pull_secrets import PullSecretService

__all__ = ["Reconciler"]

logger = logging.getLogger(__name__)


class Reconciler:
    def __init__(
        self,
        pull_secrets: PullSecretService,
        *,
        due_every: float = 15.0,
        full_every: float = 300.0,
    ) -> None:
        self._pull_secrets = pull_secrets
        self._due_every = due_every
        self._full_every = full_every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="vectis-reconciler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        last_full = 0.0
        while not self._stop.wait(self._due_every):
            full = time.monotonic() - last_full >= self._full_every
            try:
                reports = self._pull_secrets.reconcile(due_only=not full)
            except VectisError as exc:  # the store is down: say so, try again next round
                logger.warning("reconcile failed: %s", exc.message)
                continue
            if full:
                last_full = time.monotonic()
            pending = sum(1 for r in reports for c in r.copies if c.state.value != "synced")
            if pending:
                logger.info("reconcile: %d pull-secret copies still pending or in error", pending)
