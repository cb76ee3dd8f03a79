"""Token refresh passes: one replica at a time (database lease), expired tokens never written."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Run
from tests.support.aws import MotoServer
from tests.support.clock import FakeClock
from vectis_admin.domain.orchestrators import KubeAuthMode, OrchestratorKind
from vectis_admin.domain.registries import RegistryKind
from vectis_admin.runtime import Runtime
from vectis_admin.services.orchestrators import OrchestratorDraft
from vectis_admin.services.refresh import RefreshService
from vectis_admin.services.registries import RegistryDraft

MOTO_EXPIRY = datetime(2015, 1, 1, tzinfo=UTC)  # moto's ECR tokens always expire then
ECR_HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def place(runtime: Runtime, kube: Any, draft: RegistryDraft, namespaces: list[str]) -> str:
    orchestrator, _ = runtime.orchestrators.create(
        OrchestratorDraft(
            name="lab",
            kind=OrchestratorKind.K3S,
            auth_mode=KubeAuthMode.TOKEN,
            api_server_url=kube.base_url,
            credentials={"token": kube.token},
        ),
        actor="test",
    )
    registry = runtime.registries.create(draft, actor="test").registry
    for namespace in namespaces:
        kube.ensure_namespace(namespace)
    runtime.pull_secrets.set_extra_namespaces(
        registry.id, [(orchestrator.id, n) for n in namespaces], actor="test"
    )
    return registry.id


def test_two_refreshers_never_run_a_pass_at_the_same_time(runtime: Runtime, kube: Any) -> None:
    place(
        runtime,
        kube,
        RegistryDraft(
            name="corp",
            kind=RegistryKind.GENERIC,
            url="reg.corp.example",
            credentials={"username": "u", "password": "refresh-pw-1"},
        ),
        ["a", "b"],
    )
    kube.latency = 0.05  # a pass now takes long enough to overlap if the lease let it
    replicas = [
        RefreshService(
            store=runtime.store,
            pull_secrets=runtime.pull_secrets,
            clock=runtime.clock,
            holder=f"replica-{i}",
        )
        for i in range(2)
    ]
    barrier = threading.Barrier(2)
    rounds: dict[int, list[bool]] = {i: [] for i in range(4)}
    lock = threading.Lock()

    def replica(service: RefreshService) -> None:
        for round_ in range(4):
            barrier.wait()  # both replicas start a pass at the same moment
            done = service.run_pass(full=True)
            with lock:
                rounds[round_].append(done.ran)

    threads = [threading.Thread(target=replica, args=(s,)) for s in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Each pass takes over 100 ms, so both replicas overlapped in every round: exactly one ran.
    assert all(sorted(flags) == [False, True] for flags in rounds.values()), rounds
    # The lease itself: while one holds it, the other cannot take it.
    with runtime.store.transaction() as tx:
        now = runtime.clock.now()
        assert tx.leases.acquire("x", holder="one", now=now, ttl=timedelta(minutes=1))
        assert not tx.leases.acquire("x", holder="two", now=now, ttl=timedelta(minutes=1))
        assert tx.leases.acquire("x", holder="one", now=now, ttl=timedelta(minutes=1))
        tx.leases.release("x", holder="one", now=now)
        assert tx.leases.acquire("x", holder="two", now=now, ttl=timedelta(minutes=1))


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoServer]:
    with MotoServer() as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint_url)
        yield server


def test_an_expired_ecr_token_is_never_written(
    runtime: Runtime, kube: Any, clock: FakeClock, moto: MotoServer
) -> None:
    clock.current = MOTO_EXPIRY - timedelta(hours=12)
    registry_id = place(
        runtime,
        kube,
        RegistryDraft(
            name="ecr",
            kind=RegistryKind.ECR,
            url=ECR_HOST,
            credentials={
                "access_key_id": "AKIA" + "R" * 16,
                "secret_access_key": "moto-any",
                "region": "us-east-1",
            },
        ),
        ["prod"],
    )
    assert [c.state.value for c in runtime.pull_secrets.copies(registry_id)] == ["synced"]
    clock.advance(hours=7)  # not yet 2/3 of the token's life: nothing to rewrite
    kube.clear_journal()
    quiet = runtime.refresh.run_pass()
    assert quiet.ran and quiet.failing == 0 and kube.writes() == []
    clock.current = MOTO_EXPIRY + timedelta(minutes=5)  # AWS now only hands out dead tokens
    expired = runtime.refresh.run_pass()
    assert expired.failing == 1 and kube.writes() == []
    copy = runtime.pull_secrets.copies(registry_id)[0]
    assert copy.state.value == "error" and "expired" in copy.message


def test_refresh_cli(run: Run) -> None:
    result = run("refresh")
    assert result.exit_code == 0 and "0 registries refreshed" in result.output


def test_the_background_reconciler_repairs_drift_by_itself(runtime: Runtime, kube: Any) -> None:
    import time

    import httpx

    from vectis_admin.background import Reconciler

    registry_id = place(
        runtime,
        kube,
        RegistryDraft(
            name="corp",
            kind=RegistryKind.GENERIC,
            url="reg.corp.example",
            credentials={"username": "u", "password": "bg-pw-1"},
        ),
        ["ops"],
    )
    name = f"registry-secret-{registry_id}"
    with httpx.Client(base_url=kube.base_url, headers=kube.auth_headers, trust_env=False) as raw:
        assert raw.delete(f"/api/v1/namespaces/ops/secrets/{name}").status_code == 200
    reconciler = Reconciler(runtime.refresh, due_every=0.05, full_every=0.0)
    reconciler.start()
    try:
        deadline = time.monotonic() + 10
        while kube.get_object("Secret", name, "ops") is None:
            assert time.monotonic() < deadline, "the reconciler never restored the copy"
            time.sleep(0.05)
    finally:
        reconciler.stop()
