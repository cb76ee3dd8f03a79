"""The composition root: turns validated settings into adapters and services.

The web app factory and the CLI entry both call `open_runtime`; nothing is built at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Engine

from vectis_admin.adapters.clock import SystemClock
from vectis_admin.adapters.crypto import KeyRing, load_keyring
from vectis_admin.adapters.db.repositories import SqlStore
from vectis_admin.adapters.db.session import create_db_engine, migrate
from vectis_admin.adapters.kube.gateway import LightkubeConnector
from vectis_admin.adapters.registry.ecr import EcrTokenProvider
from vectis_admin.adapters.registry.probe import RegistryProbe
from vectis_admin.services.accounts import AccountService
from vectis_admin.services.audit import AuditService
from vectis_admin.services.best_practices import BestPracticeService
from vectis_admin.services.checks import CheckService
from vectis_admin.services.clusters import ClusterService
from vectis_admin.services.diagnosis import DiagnosisService
from vectis_admin.services.orchestrators import OrchestratorService
from vectis_admin.services.ports import Clock, KubeConnector
from vectis_admin.services.pull_secrets import PullSecretService
from vectis_admin.services.refresh import RefreshService
from vectis_admin.services.registries import RegistryService
from vectis_admin.services.rotation import RotationService
from vectis_admin.settings import Settings

__all__ = ["Runtime", "open_runtime"]


@dataclass(frozen=True, kw_only=True)
class Runtime:
    settings: Settings
    clock: Clock
    engine: Engine
    store: SqlStore
    probe: RegistryProbe
    keyring: KeyRing
    registries: RegistryService
    checks: CheckService
    orchestrators: OrchestratorService
    pull_secrets: PullSecretService
    clusters: ClusterService
    rotation: RotationService
    diagnosis: DiagnosisService
    best_practices: BestPracticeService
    refresh: RefreshService
    accounts: AccountService
    audit: AuditService

    def close(self) -> None:
        self.probe.forget()  # warm registry connections kept for bulk checks
        self.engine.dispose()


def open_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    registry_endpoints: Mapping[str, str] | None = None,
    kube: KubeConnector | None = None,
) -> Runtime:
    """Connect, migrate the schema to head, load the encryption keys, build the services.

    `registry_endpoints` maps a registry host to the address to contact instead (tests point
    ECR hosts at a local registry).
    """
    clock = clock or SystemClock()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    keyring = load_keyring(
        env_keys=settings.secret_key.get_secret_value() if settings.secret_key else None,
        key_file=settings.resolved_key_file,
    )
    engine = create_db_engine(settings.resolved_database_url)
    try:
        migrate(engine)
    except Exception:
        engine.dispose()
        raise
    store = SqlStore(engine)
    registries = RegistryService(store=store, cipher=keyring.box(), clock=clock)
    probe = RegistryProbe(
        policy=settings.network_policy,
        clock=clock.now,
        ecr=EcrTokenProvider(clock=clock.now, timeout=settings.registry_timeout_seconds),
        timeout=settings.registry_timeout_seconds,
        endpoints=registry_endpoints,
    )
    connector = kube or LightkubeConnector()
    orchestrators = OrchestratorService(
        store=store, cipher=keyring.box(), clock=clock, connector=connector
    )
    pull_secrets = PullSecretService(
        store=store,
        registries=registries,
        orchestrators=orchestrators,
        connector=connector,
        prober=probe,
        clock=clock,
        max_workers=settings.sync_concurrency,
    )
    registries.subscribe(pull_secrets.on_registry_changed)
    clusters = ClusterService(
        store=store,
        registries=registries,
        orchestrators=orchestrators,
        pull_secrets=pull_secrets,
        connector=connector,
        clock=clock,
    )
    return Runtime(
        settings=settings,
        clock=clock,
        engine=engine,
        store=store,
        probe=probe,
        keyring=keyring,
        registries=registries,
        checks=CheckService(store=store, registries=registries, prober=probe, clock=clock),
        orchestrators=orchestrators,
        pull_secrets=pull_secrets,
        clusters=clusters,
        refresh=RefreshService(store=store, pull_secrets=pull_secrets, clock=clock),
        best_practices=BestPracticeService(
            store=store, registries=registries, prober=probe, clock=clock
        ),
        diagnosis=DiagnosisService(
            clusters=clusters,
            registries=registries,
            orchestrators=orchestrators,
            pull_secrets=pull_secrets,
            connector=connector,
            prober=probe,
        ),
        rotation=RotationService(
            store=store,
            registries=registries,
            clusters=clusters,
            pull_secrets=pull_secrets,
            prober=probe,
            clock=clock,
        ),
        accounts=AccountService(store=store, clock=clock),
        audit=AuditService(store=store),
    )
