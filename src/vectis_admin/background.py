"""The background reconciler: refreshes short-lived tokens, retries failed pull-secret writes
and repairs drift, through `RefreshService` (one replica at a time, by database lease).

Passes run often (each copy has its own backoff, ECR tokens are re-minted at 2/3 of their
life); a full pass, which reads every copy and writes only what differs, runs less often. One
thread, stopped with the console.
"""

from __future__ import annotations

import logging
import threading
import time

from vectis_admin.errors import VectisError
from vectis_admin.services.refresh import RefreshService

__all__ = ["Reconciler"]

logger = logging.getLogger(__name__)


class Reconciler:
    def __init__(
        self,
        refresh: RefreshService,
        *,
        due_every: float = 15.0,
        full_every: float = 300.0,
    ) -> None:
        self._refresh = refresh
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
                done = self._refresh.run_pass(full=full)
            except VectisError as exc:  # the store is down: say so, try again next round
                logger.warning("reconcile failed: %s", exc.message)
                continue
            if full and done.ran:
                last_full = time.monotonic()
            if done.failing:
                logger.info("reconcile: %d pull-secret copies pending or in error", done.failing)
