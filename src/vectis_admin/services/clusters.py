"""Vectis clusters: definition, Deploy, status and health, pods and logs, Delete, Render.

Deploy creates, in order, the Namespace (unless it exists or the operator opted out), the
registry's pull secret (through the pull-secret service, *before* anything that needs it), then
ServiceAccount, Role, RoleBinding, ConfigMap, PersistentVolume + Claim, Deployment and Service.
What Deploy created is recorded, so Delete removes exactly that — never a namespace that was
already there. Every step's failure leaves a visible state (FAILED with the reason) that a new
Deploy recovers from.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from vectis_admin.domain.images import parse_image_reference
from vectis_admin.domain.manifests import (
    ClusterSpec,
    Environment,
    pull_secret_name,
    render_cluster,
    render_multi_document,
    selector_labels,
)
from vectis_admin.errors import (
    Conflict,
    InvalidInput,
    KubeConflict,
    KubeError,
    NotFound,
)
from vectis_admin.services.audit import record_change
from vectis_admin.services.orchestrators import OrchestratorService
from vectis_admin.services.ports import (
    Clock,
    ClusterGateway,
    ClusterRecord,
    DeploymentState,
    KubeConnector,
    KubeObject,
    Page,
    RegistryRecord,
    Store,
    SyncState,
    Transaction,
)
from vectis_admin.services.pull_secrets import PullSecretService
from vectis_admin.services.registries import RegistryService

__all__ = [
    "ClusterChanges",
    "ClusterDraft",
    "ClusterService",
    "DeploymentStatus",
    "PodInfo",
]

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"  # what `kubectl rollout restart` sets
LEADER_LABEL = "vectis.io/role"  # Vectis servers label the elected leader `vectis.io/role=leader`


@dataclass(frozen=True, kw_only=True)
class ClusterDraft:
    name: str
    orchestrator: str  # id or name
    deployment_name: str
    storage_host_path: str
    environment: Environment = Environment.DEVELOPMENT
    description: str = ""
    namespace: str = "default"
    create_namespace: bool = True
    replicas: int = 3
    vectis_port: int = 5000
    storage_size: str = "10Gi"
    registry: str | None = None  # id or name; None with `image` = a public image
    image_path: str | None = None  # path in the registry; default: the registry's
    tag: str | None = None  # default: the registry's default tag
    image: str | None = None  # an explicit full reference instead of registry + tag


@dataclass(frozen=True, kw_only=True)
class ClusterChanges:
    name: str | None = None
    description: str | None = None
    environment: Environment | None = None
    replicas: int | None = None
    vectis_port: int | None = None
    storage_host_path: str | None = None
    storage_size: str | None = None
    registry: str | None = None
    image_path: str | None = None
    tag: str | None = None
    image: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class PodInfo:
    name: str
    phase: str
    ready: bool
    leader: bool
    ip: str | None
    node: str | None
    started_at: str | None
    restarts: int
    waiting_reason: str | None
    waiting_message: str | None


@dataclass(frozen=True, kw_only=True)
class DeploymentStatus:
    cluster: ClusterRecord
    health: Literal["HEALTHY", "DEGRADED", "UNHEALTHY", "UNKNOWN"]
    replicas: int
    ready_replicas: int
    endpoint: str | None
    message: str = ""
    objects: tuple[Mapping[str, str], ...] = field(default_factory=tuple)


class ClusterService:
    def __init__(
        self,
        *,
        store: Store,
        registries: RegistryService,
        orchestrators: OrchestratorService,
        pull_secrets: PullSecretService,
        connector: KubeConnector,
        clock: Clock,
    ) -> None:
        self._store = store
        self._registries = registries
        self._orchestrators = orchestrators
        self._pull_secrets = pull_secrets
        self._connector = connector
        self._clock = clock

    # -- definition ----------------------------------------------------------------------

    def list(self, *, limit: int = 50, offset: int = 0) -> Page[ClusterRecord]:
        if not 1 <= limit <= 500:
            raise InvalidInput.one("limit", "must be between 1 and 500")
        with self._store.transaction() as tx:
            return tx.clusters.list(limit=limit, offset=offset)

    def get(self, ref: str) -> ClusterRecord:
        with self._store.transaction() as tx:
            return _find(tx, ref)

    def create(self, draft: ClusterDraft, *, actor: str) -> ClusterRecord:
        orchestrator = self._orchestrators.get(draft.orchestrator)
        registry = self._registry(draft.registry)
        image = _resolve_image(registry, draft.image_path, draft.tag, draft.image)
        now = self._clock.now()
        record = ClusterRecord(
            id=str(uuid.uuid4()),
            name=_check_name(draft.name),
            environment=draft.environment,
            description=draft.description,
            orchestrator_id=orchestrator.id,
            namespace=draft.namespace,
            create_namespace=draft.create_namespace,
            deployment_name=draft.deployment_name,
            replicas=draft.replicas,
            storage_host_path=draft.storage_host_path,
            storage_size=draft.storage_size,
            vectis_port=draft.vectis_port,
            registry_id=registry.id if registry else None,
            image=image,
            deployment_state=DeploymentState.NOT_DEPLOYED,
            state_reason="",
            deployed_objects=[],
            deployed_at=None,
            restarted_at=None,
            created_at=now,
            updated_at=now,
            version=1,
        )
        self._spec(record, orchestrator_lb=orchestrator.supports_load_balancer)  # validates
        with self._store.transaction() as tx:
            tx.clusters.add(record)
            record_change(tx, self._clock, actor, "cluster.create", record, {"image": image})
        return record

    def update(self, ref: str, changes: ClusterChanges, *, actor: str) -> ClusterRecord:
        with self._store.transaction() as tx:
            current = _find(tx, ref)
            if changes.expected_version not in (None, current.version):
                raise Conflict(
                    f"cluster {current.name!r} changed since version {changes.expected_version}",
                    reason="stale_version",
                )
        registry = (
            self._registry(changes.registry)
            if changes.registry
            else (self._registries.get(current.registry_id) if current.registry_id else None)
        )
        image = current.image
        if changes.image or changes.tag or changes.image_path or changes.registry:
            image = _resolve_image(registry, changes.image_path, changes.tag, changes.image)
        updated = replace(
            current,
            name=_check_name(changes.name) if changes.name else current.name,
            description=_pick(changes.description, current.description),
            environment=changes.environment or current.environment,
            replicas=_pick(changes.replicas, current.replicas),
            vectis_port=_pick(changes.vectis_port, current.vectis_port),
            storage_host_path=_pick(changes.storage_host_path, current.storage_host_path),
            storage_size=_pick(changes.storage_size, current.storage_size),
            registry_id=registry.id if registry else None,
            image=image,
            version=current.version + 1,
            updated_at=self._clock.now(),
        )
        self._spec(updated, orchestrator_lb=True)
        with self._store.transaction() as tx:
            tx.clusters.update(updated, expected_version=current.version)
            record_change(
                tx, self._clock, actor, "cluster.update", updated, _diff(current, updated)
            )
        for registry_id in {current.registry_id, updated.registry_id} - {None}:
            assert registry_id is not None
            self._pull_secrets.sync_registry(registry_id, actor=actor)
        return updated

    def render(self, ref: str, *, include_secrets: bool = False) -> str:
        """Multi-document YAML for `kubectl apply` / GitOps; works with no cluster at all."""
        cluster = self.get(ref)
        orchestrator = self._orchestrators.get(cluster.orchestrator_id)
        spec = self._spec(cluster, orchestrator_lb=orchestrator.supports_load_balancer)
        secret = None
        if cluster.registry_id:
            registry = self._registries.get(cluster.registry_id)
            secret = self._pull_secrets.manifest(registry, cluster.namespace)
        return render_multi_document(
            render_cluster(spec, pull_secret=secret), include_secrets=include_secrets
        )

    # -- deploy / delete -----------------------------------------------------------------

    def deploy(self, ref: str, *, force: bool = False, actor: str) -> DeploymentStatus:
        cluster = self._set_state(ref, DeploymentState.DEPLOYING, "")
        orchestrator = self._orchestrators.get(cluster.orchestrator_id)
        spec = self._spec(cluster, orchestrator_lb=orchestrator.supports_load_balancer)
        created: builtins.list[dict[str, str]] = list(cluster.deployed_objects)
        try:
            gateway = self._connector.connect(self._orchestrators.access_of(orchestrator))
        except KubeError as exc:
            return self._failed(cluster, f"orchestrator unreachable: {exc.message}", actor)
        try:
            objects = render_cluster(spec)
            if spec.create_namespace:
                namespace_obj, objects = objects[0], objects[1:]
                if _ensure(gateway, namespace_obj) == "created":
                    _remember(created, namespace_obj)
            if cluster.registry_id:
                failure = self._secret_ready(cluster)
                if failure:
                    return self._failed(cluster, failure, actor, created)
            restart_at = self._clock.now().isoformat() if force else None
            for obj in objects:
                if restart_at and obj["kind"] == "Deployment":
                    template = obj["spec"]["template"]["metadata"]
                    template.setdefault("annotations", {})[RESTARTED_AT] = restart_at
                _apply(gateway, obj, keep_restart=not force)
                _remember(created, obj)
        except KubeError as exc:
            return self._failed(cluster, exc.message, actor, created)
        finally:
            gateway.close()
        now = self._clock.now()
        done = self._save(
            cluster,
            deployment_state=DeploymentState.DEPLOYED,
            state_reason="",
            deployed_objects=created,
            deployed_at=now,
            restarted_at=now if force else cluster.restarted_at,
        )
        with self._store.transaction() as tx:
            record_change(
                tx,
                self._clock,
                actor,
                "cluster.deploy",
                done,
                {"force": force, "image": done.image},
            )
        return self.status(done.id)

    def delete(self, ref: str, *, actor: str) -> None:
        """Remove exactly what Deploy created (reverse order), then the cluster itself."""
        cluster = self._set_state(ref, DeploymentState.DELETING, "")
        if cluster.deployed_objects:
            orchestrator = self._orchestrators.get(cluster.orchestrator_id)
            gateway = self._connector.connect(self._orchestrators.access_of(orchestrator))
            try:
                for obj in reversed(cluster.deployed_objects):
                    gateway.delete(obj["kind"], obj["name"], namespace=obj["namespace"] or None)
            except KubeError as exc:
                self._save(cluster, state_reason=f"delete incomplete: {exc.message}")
                raise
            finally:
                gateway.close()
        with self._store.transaction() as tx:
            tx.clusters.delete(cluster.id)
            record_change(tx, self._clock, actor, "cluster.delete", cluster, {})
        if cluster.registry_id:
            self._pull_secrets.sync_registry(cluster.registry_id, actor=actor)

    # -- observation ---------------------------------------------------------------------

    def status(self, ref: str) -> DeploymentStatus:
        cluster = self.get(ref)
        if cluster.deployment_state is DeploymentState.NOT_DEPLOYED:
            return DeploymentStatus(
                cluster=cluster,
                health="UNKNOWN",
                replicas=cluster.replicas,
                ready_replicas=0,
                endpoint=None,
                message="not deployed yet",
            )
        try:
            with_gateway = self._gateway(cluster)
        except KubeError as exc:
            return _unknown(cluster, exc.message)
        gateway = with_gateway
        try:
            deployment = gateway.get(
                "Deployment", cluster.deployment_name, namespace=cluster.namespace
            )
            service = gateway.get("Service", cluster.deployment_name, namespace=cluster.namespace)
            spec = self._spec(cluster, orchestrator_lb=True)
            selector = ",".join(f"{k}={v}" for k, v in selector_labels(spec).items())
            pods = gateway.list("Pod", namespace=cluster.namespace, label_selector=selector)
        except KubeError as exc:
            return _unknown(cluster, exc.message)
        finally:
            gateway.close()
        if deployment is None:
            return _unknown(cluster, "the Deployment is missing from the cluster")
        wanted = int(deployment.get("spec", {}).get("replicas", cluster.replicas))
        # The Deployment's count lags behind a pod that just fell into ImagePullBackOff; the
        # pods themselves are the fresher truth, so the smaller of the two counts.
        ready = min(
            int((deployment.get("status") or {}).get("readyReplicas") or 0),
            sum(1 for p in pods if _pod_info(p).ready),
        )
        health: Literal["HEALTHY", "DEGRADED", "UNHEALTHY"] = (
            "HEALTHY" if wanted and ready >= wanted else "DEGRADED" if ready else "UNHEALTHY"
        )
        return DeploymentStatus(
            cluster=cluster,
            health=health,
            replicas=wanted,
            ready_replicas=ready,
            endpoint=_endpoint(service, cluster.vectis_port),
            objects=tuple(cluster.deployed_objects),
        )

    def pods(self, ref: str) -> builtins.list[PodInfo]:
        cluster = self.get(ref)
        gateway = self._gateway(cluster)
        try:
            spec = self._spec(cluster, orchestrator_lb=True)
            selector = ",".join(f"{k}={v}" for k, v in selector_labels(spec).items())
            pods = gateway.list("Pod", namespace=cluster.namespace, label_selector=selector)
        finally:
            gateway.close()
        return sorted((_pod_info(p) for p in pods), key=lambda p: p.name)

    def logs(self, ref: str, pod: str, *, lines: int | None = 100) -> str:
        if lines is not None and not 1 <= lines <= 10000:
            raise InvalidInput.one("lines", "must be between 1 and 10000")
        cluster = self.get(ref)
        if pod not in {p.name for p in self.pods(cluster.id)}:
            raise NotFound(f"pod {pod!r} is not a pod of cluster {cluster.name!r}")
        gateway = self._gateway(cluster)
        try:
            return gateway.pod_logs(pod, namespace=cluster.namespace, lines=lines)
        finally:
            gateway.close()

    # -- helpers -------------------------------------------------------------------------

    def _registry(self, ref: str | None) -> RegistryRecord | None:
        if ref is None:
            return None
        registry = self._registries.get(ref)
        if not registry.enabled:
            raise InvalidInput.one("registry", f"registry {registry.name!r} is disabled")
        return registry

    def _spec(self, cluster: ClusterRecord, *, orchestrator_lb: bool) -> ClusterSpec:
        return ClusterSpec(
            name=cluster.name,
            namespace=cluster.namespace,
            deployment_name=cluster.deployment_name,
            image=cluster.image,
            storage_host_path=cluster.storage_host_path,
            environment=cluster.environment,
            replicas=cluster.replicas,
            vectis_port=cluster.vectis_port,
            pull_secret_name=pull_secret_name(cluster.registry_id)
            if cluster.registry_id and self._needs_secret(cluster.registry_id)
            else None,
            service_type="LoadBalancer" if orchestrator_lb else "NodePort",
            create_namespace=cluster.create_namespace,
            cluster_id=cluster.id,
            storage_size=cluster.storage_size,
        )

    def _needs_secret(self, registry_id: str) -> bool:
        return self._registries.get(registry_id).requires_auth

    def _secret_ready(self, cluster: ClusterRecord) -> str | None:
        """Create/refresh the pull secret before the Deployment; the reason if it failed."""
        assert cluster.registry_id is not None
        if not self._needs_secret(cluster.registry_id):
            return None
        report = self._pull_secrets.sync_registry(cluster.registry_id)
        mine = [
            c
            for c in report.copies
            if c.orchestrator_id == cluster.orchestrator_id and c.namespace == cluster.namespace
        ]
        if not mine or mine[0].state is not SyncState.SYNCED:
            why = mine[0].message if mine else "no copy was made"
            return f"the pull secret could not be written in {cluster.namespace}: {why}"
        return None

    def _gateway(self, cluster: ClusterRecord) -> ClusterGateway:
        orchestrator = self._orchestrators.get(cluster.orchestrator_id)
        return self._connector.connect(self._orchestrators.access_of(orchestrator))

    def _set_state(self, ref: str, state: DeploymentState, reason: str) -> ClusterRecord:
        cluster = self.get(ref)
        if cluster.deployment_state is DeploymentState.DELETING and state is not (
            DeploymentState.DELETING
        ):
            raise Conflict(f"cluster {cluster.name!r} is being deleted", reason="deleting")
        return self._save(cluster, deployment_state=state, state_reason=reason)

    def _save(self, cluster: ClusterRecord, **changes: Any) -> ClusterRecord:
        with self._store.transaction() as tx:
            current = tx.clusters.get(cluster.id)
            if current is None:
                raise NotFound(f"cluster {cluster.id} not found")
            updated = replace(
                current, **changes, version=current.version + 1, updated_at=self._clock.now()
            )
            tx.clusters.update(updated, expected_version=current.version)
        return updated

    def _failed(
        self,
        cluster: ClusterRecord,
        reason: str,
        actor: str,
        created: builtins.list[dict[str, str]] | None = None,
    ) -> DeploymentStatus:
        failed = self._save(
            cluster,
            deployment_state=DeploymentState.FAILED,
            state_reason=reason,
            deployed_objects=created if created is not None else cluster.deployed_objects,
        )
        with self._store.transaction() as tx:
            record_change(
                tx, self._clock, actor, "cluster.deploy", failed, {"reason": reason}, "failure"
            )
        return DeploymentStatus(
            cluster=failed,
            health="UNKNOWN",
            replicas=failed.replicas,
            ready_replicas=0,
            endpoint=None,
            message=reason,
            objects=tuple(failed.deployed_objects),
        )


def _find(tx: Transaction, ref: str) -> ClusterRecord:
    record = tx.clusters.get(ref) or tx.clusters.get_by_name(ref)
    if record is None:
        raise NotFound(f"cluster {ref!r} not found")
    return record


def _check_name(name: str) -> str:
    cleaned = name.strip()
    if not 1 <= len(cleaned) <= 100:
        raise InvalidInput.one("name", "must be 1-100 characters, not only spaces")
    return cleaned


def _pick(new: Any, old: Any) -> Any:
    return old if new is None else new


def _resolve_image(
    registry: RegistryRecord | None, image_path: str | None, tag: str | None, image: str | None
) -> str:
    """The full image reference a cluster runs: explicit, or the registry's path and tag."""
    if image:
        reference = parse_image_reference(image, field="image")
        if registry is not None:
            host = "docker.io" if registry.url == "docker.io" else registry.url
            if reference.domain.lower() != host:
                raise InvalidInput.one(
                    "image", f"is in {reference.domain}, not in the registry {registry.name}"
                )
        return str(reference)
    if registry is None:
        raise InvalidInput.one("image", "is required when no registry is selected")
    path = image_path or registry.image_path
    if not path:
        raise InvalidInput.one("image_path", f"is required: {registry.name} has no image path")
    reference = parse_image_reference(
        f"{registry.url}/{path}:{tag or registry.default_tag}", field="image"
    )
    return str(reference)


def _ensure(gateway: ClusterGateway, obj: KubeObject) -> str:
    try:
        gateway.create(obj)
        return "created"
    except KubeConflict:
        return "existed"


def _apply(gateway: ClusterGateway, obj: KubeObject, *, keep_restart: bool) -> None:
    """Create, or replace what is there with our manifest (a re-Deploy converges)."""
    meta = obj["metadata"]
    namespace = meta.get("namespace")
    try:
        gateway.create(obj)
        return
    except KubeConflict:
        pass
    current = gateway.get(obj["kind"], meta["name"], namespace=namespace)
    if current is None:
        gateway.create(obj)
        return
    merged = dict(obj)
    merged["metadata"] = {**meta, "resourceVersion": current["metadata"].get("resourceVersion")}
    if obj["kind"] == "PersistentVolumeClaim" or obj["kind"] == "PersistentVolume":
        return  # their specs are immutable once bound: leave them as they are
    if obj["kind"] == "Service":
        spec = dict(obj["spec"])
        spec["clusterIP"] = (current.get("spec") or {}).get("clusterIP")
        merged["spec"] = spec
    if obj["kind"] == "Deployment" and keep_restart:
        # A plain re-Deploy must not undo an earlier restart: keep its annotation.
        old = ((current.get("spec") or {}).get("template") or {}).get("metadata") or {}
        stamp = (old.get("annotations") or {}).get(RESTARTED_AT)
        if stamp:
            template = merged["spec"]["template"]["metadata"]
            template.setdefault("annotations", {})[RESTARTED_AT] = stamp
    gateway.replace(merged)


def _remember(created: list[dict[str, str]], obj: KubeObject) -> None:
    entry = {
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "namespace": obj["metadata"].get("namespace", ""),
    }
    if entry not in created:
        created.append(entry)


def _endpoint(service: KubeObject | None, port: int) -> str | None:
    if not service:
        return None
    ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    if ingress:
        host = ingress[0].get("ip") or ingress[0].get("hostname")
        return f"{host}:{port}" if host else None
    for item in (service.get("spec") or {}).get("ports") or []:
        if item.get("nodePort"):
            return f"<node-ip>:{item['nodePort']}"
    return None


def _unknown(cluster: ClusterRecord, message: str) -> DeploymentStatus:
    return DeploymentStatus(
        cluster=cluster,
        health="UNKNOWN",
        replicas=cluster.replicas,
        ready_replicas=0,
        endpoint=None,
        message=message,
        objects=tuple(cluster.deployed_objects),
    )


def _pod_info(pod: KubeObject) -> PodInfo:
    status = pod.get("status") or {}
    containers = status.get("containerStatuses") or []
    waitings = [(c.get("state") or {}).get("waiting") for c in containers]
    waiting = next((w for w in waitings if w), None)
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return PodInfo(
        name=pod["metadata"]["name"],
        phase=status.get("phase", "Unknown"),
        ready=bool(containers) and all(c.get("ready") for c in containers),
        leader=labels.get(LEADER_LABEL) == "leader",
        ip=status.get("podIP"),
        node=(pod.get("spec") or {}).get("nodeName"),
        started_at=status.get("startTime"),
        restarts=sum(int(c.get("restartCount") or 0) for c in containers),
        waiting_reason=(waiting or {}).get("reason"),
        waiting_message=(waiting or {}).get("message"),
    )


def _diff(before: ClusterRecord, after: ClusterRecord) -> dict[str, Any]:
    fields = (
        "name",
        "description",
        "environment",
        "replicas",
        "vectis_port",
        "storage_host_path",
        "storage_size",
        "registry_id",
        "image",
    )
    return {
        f: {"from": str(getattr(before, f)), "to": str(getattr(after, f))}
        for f in fields
        if getattr(before, f) != getattr(after, f)
    }
