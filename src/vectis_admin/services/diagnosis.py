"""Diagnose a cluster that cannot pull its image: what Kubernetes says, then live proof.

1. Read the pods' container statuses and their events, classify each pull failure.
2. Check, live: the registry with exactly the stored credentials (reachability, credentials,
   image:tag, platform); the pull secret in the pods' namespace (exists, decodes, referenced by
   the Deployment, its `auths` key matches the image under kubelet's rules, equals what the
   console would write now — a stale copy is a cause of its own).
3. Name one cause, the evidence, the fix, and the one-command remedy when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vectis_admin.domain.checks import CheckReport, RegistryFailure
from vectis_admin.domain.images import image_in_registry
from vectis_admin.domain.kubelet_match import pull_secret_matches
from vectis_admin.domain.manifests import content_hash, dockerconfigjson_text, pull_secret_name
from vectis_admin.domain.pull_failures import (
    PullCause,
    PullDiagnosis,
    diagnosis_for,
    explain_pull_failure,
)
from vectis_admin.errors import KubeError
from vectis_admin.services.clusters import ClusterService
from vectis_admin.services.orchestrators import OrchestratorService
from vectis_admin.services.ports import ClusterRecord, KubeConnector, KubeObject, RegistryProber
from vectis_admin.services.pull_secrets import PullSecretService
from vectis_admin.services.registries import RegistryService

__all__ = ["ClusterDiagnosis", "DiagnosisService", "Finding", "PodFailure", "Remedy"]

PULL_REASONS = frozenset(
    {
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "ErrImageNeverPull",
        "RegistryUnavailable",
        "ImageInspectError",
        "SignatureValidationFailed",
    }
)

# What a failed live registry check means for a pull.
_CHECK_CAUSES: dict[RegistryFailure, PullCause] = {
    RegistryFailure.UNKNOWN_HOST: PullCause.DNS,
    RegistryFailure.CONNECTION_REFUSED: PullCause.REFUSED,
    RegistryFailure.TIMEOUT: PullCause.TIMEOUT,
    RegistryFailure.NETWORK_ERROR: PullCause.TIMEOUT,
    RegistryFailure.TLS_UNKNOWN_CA: PullCause.TLS_UNKNOWN_CA,
    RegistryFailure.TLS_HOSTNAME_MISMATCH: PullCause.TLS_HOSTNAME,
    RegistryFailure.CREDENTIALS_REJECTED: PullCause.BAD_CREDENTIALS,
    RegistryFailure.CREDENTIALS_UNUSABLE: PullCause.EXPIRED_TOKEN,
    RegistryFailure.AUTHENTICATION_REQUIRED: PullCause.BAD_CREDENTIALS,
    RegistryFailure.ACCESS_DENIED: PullCause.DENIED,
    RegistryFailure.REPOSITORY_MISSING: PullCause.REPOSITORY_MISSING,
    RegistryFailure.TAG_MISSING: PullCause.TAG_MISSING,
    RegistryFailure.NO_AMD64_VARIANT: PullCause.NO_PLATFORM,
    RegistryFailure.RATE_LIMITED: PullCause.RATE_LIMITED,
}


@dataclass(frozen=True, kw_only=True)
class PodFailure:
    pod: str
    reason: str
    message: str
    diagnosis: PullDiagnosis


@dataclass(frozen=True, kw_only=True)
class Finding:
    check: str
    ok: bool
    detail: str


@dataclass(frozen=True, kw_only=True)
class Remedy:
    action: str  # resync | rotate | redeploy | fix-definition
    description: str
    command: str
    api: str


@dataclass(frozen=True, kw_only=True)
class ClusterDiagnosis:
    cluster: str
    healthy: bool
    cause: PullCause | None
    summary: str
    fix: str
    evidence: tuple[str, ...]
    pods: tuple[PodFailure, ...]
    findings: tuple[Finding, ...]
    remedy: Remedy | None = None
    registry_check: CheckReport | None = field(default=None, repr=False)


class DiagnosisService:
    def __init__(
        self,
        *,
        clusters: ClusterService,
        registries: RegistryService,
        orchestrators: OrchestratorService,
        pull_secrets: PullSecretService,
        connector: KubeConnector,
        prober: RegistryProber,
    ) -> None:
        self._clusters = clusters
        self._registries = registries
        self._orchestrators = orchestrators
        self._pull_secrets = pull_secrets
        self._connector = connector
        self._prober = prober

    def diagnose(self, ref: str) -> ClusterDiagnosis:
        cluster = self._clusters.get(ref)
        orchestrator = self._orchestrators.get(cluster.orchestrator_id)
        findings: list[Finding] = []
        gateway = self._connector.connect(self._orchestrators.access_of(orchestrator))
        try:
            pods = self._pod_failures(gateway, cluster)
            secret, deployment = self._read_objects(gateway, cluster, findings)
        except KubeError as exc:
            return _verdict(
                cluster,
                (),
                (Finding(check="kubernetes", ok=False, detail=exc.message),),
                diagnosis_for(PullCause.UNKNOWN, f"the cluster's API failed: {exc.message}"),
                None,
                None,
            )
        finally:
            gateway.close()
        if cluster.registry_id is None:
            cause = pods[0].diagnosis if pods else None
            return _verdict(cluster, tuple(pods), tuple(findings), cause, None, None)
        registry = self._registries.get(cluster.registry_id)
        repository, reference = image_in_registry(cluster.image, registry_host=registry.url)
        check = self._prober.check(self._registries.target_of(registry, repository, reference))
        findings.append(Finding(check="registry", ok=check.ok, detail=check.summary))
        cause = self._secret_cause(cluster, registry, secret, deployment, findings)
        if cause is None and not check.ok and check.failure and check.failure.failure:
            mapped = _CHECK_CAUSES.get(check.failure.failure)
            if mapped is not None:
                cause = diagnosis_for(mapped, check.summary)
        remedy = _remedy(cause, cluster, registry.name)
        if cause is None and pods:
            # Kubernetes still reports the failure, but every live check passes now: the pods
            # pull at their next back-off retry (up to 5 minutes); a restart is immediate.
            reported = pods[0].diagnosis
            cause = PullDiagnosis(
                cause=reported.cause,
                summary=f"Kubernetes still reports: {reported.summary}; every live check passes "
                "now, so the pods should pull at their next retry",
                fix="Redeploy (restart) the cluster to retry the pull now.",
                evidence=reported.evidence,
            )
            remedy = Remedy(
                action="redeploy",
                description="Restart the cluster's pods",
                command=f"vectis-admin cluster deploy {cluster.name} --force",
                api=f"POST /api/v1/clusters/{cluster.id}/deploy?force=true",
            )
        return _verdict(cluster, tuple(pods), tuple(findings), cause, remedy, check)

    # -- steps ---------------------------------------------------------------------------

    def _pod_failures(self, gateway: Any, cluster: ClusterRecord) -> list[PodFailure]:
        failures: list[PodFailure] = []
        for pod in self._clusters.pods(cluster.id):
            if pod.waiting_reason not in PULL_REASONS:
                continue
            events = [
                str(e.get("message", ""))
                for e in gateway.events_for(pod.name, namespace=cluster.namespace)
            ]
            texts = [pod.waiting_message or "", *events]
            failures.append(
                PodFailure(
                    pod=pod.name,
                    reason=pod.waiting_reason or "",
                    message=pod.waiting_message or "",
                    diagnosis=explain_pull_failure(pod.waiting_reason, texts),
                )
            )
        return failures

    def _read_objects(
        self, gateway: Any, cluster: ClusterRecord, findings: list[Finding]
    ) -> tuple[KubeObject | None, KubeObject | None]:
        deployment = gateway.get("Deployment", cluster.deployment_name, namespace=cluster.namespace)
        findings.append(
            Finding(
                check="deployment",
                ok=deployment is not None,
                detail="present" if deployment else "missing: deploy the cluster",
            )
        )
        if cluster.registry_id is None:
            return None, deployment
        secret = gateway.get(
            "Secret", pull_secret_name(cluster.registry_id), namespace=cluster.namespace
        )
        return secret, deployment

    def _secret_cause(
        self,
        cluster: ClusterRecord,
        registry: Any,
        secret: KubeObject | None,
        deployment: KubeObject | None,
        findings: list[Finding],
    ) -> PullDiagnosis | None:
        if not registry.requires_auth:
            findings.append(Finding(check="pull secret", ok=True, detail="anonymous registry"))
            return None
        name = pull_secret_name(registry.id)
        if secret is None:
            findings.append(
                Finding(
                    check="pull secret", ok=False, detail=f"{name} missing in {cluster.namespace}"
                )
            )
            return diagnosis_for(
                PullCause.SECRET_MISSING,
                f"Secret {name} not found in namespace {cluster.namespace}",
            )
        findings.append(Finding(check="pull secret", ok=True, detail=f"{name} exists"))
        referenced = any(
            ref.get("name") == name
            for ref in (
                (deployment or {})
                .get("spec", {})
                .get("template", {})
                .get("spec", {})
                .get("imagePullSecrets")
                or []
            )
        )
        findings.append(
            Finding(
                check="referenced",
                ok=referenced,
                detail="imagePullSecrets of the Deployment names it"
                if referenced
                else "the Deployment does not reference it: redeploy the cluster",
            )
        )
        text = dockerconfigjson_text(secret) or ""
        match = pull_secret_matches(text, cluster.image)
        findings.append(Finding(check="kubelet match", ok=match.matched, detail=match.reason))
        if not match.matched:
            return diagnosis_for(PullCause.SECRET_NOT_MATCHING, match.reason)
        desired = self._pull_secrets.manifest(registry, cluster.namespace)
        current_hash = content_hash(secret)
        fresh = desired is not None and content_hash(desired) == current_hash
        findings.append(
            Finding(
                check="up to date",
                ok=fresh,
                detail="equals what the console would write now"
                if fresh
                else "differs from the stored credentials (stale or edited copy)",
            )
        )
        if not fresh:
            return PullDiagnosis(
                cause=PullCause.BAD_CREDENTIALS,
                summary="the pull secret in the namespace is stale: it does not hold the "
                "credentials stored in the console",
                fix="Re-sync the registry's pull secret; the reconciler would also repair it.",
                evidence=f"{name} in {cluster.namespace}: content hash differs",
            )
        if not referenced:
            return PullDiagnosis(
                cause=PullCause.SECRET_MISSING,
                summary="the Deployment does not reference the pull secret",
                fix="Redeploy the cluster: the console's Deployment lists it in imagePullSecrets.",
                evidence="imagePullSecrets lacks " + name,
            )
        return None


def _remedy(cause: PullDiagnosis | None, cluster: ClusterRecord, registry: str) -> Remedy | None:
    if cause is None:
        return None
    if cause.cause is PullCause.SECRET_MISSING and "Deployment does not" in cause.summary:
        return Remedy(
            action="redeploy",
            description="Redeploy the cluster",
            command=f"vectis-admin cluster deploy {cluster.name} --force",
            api=f"POST /api/v1/clusters/{cluster.id}/deploy?force=true",
        )
    if cause.cause in (PullCause.SECRET_MISSING, PullCause.SECRET_NOT_MATCHING) or (
        cause.cause is PullCause.BAD_CREDENTIALS and "stale" in cause.summary
    ):
        return Remedy(
            action="resync",
            description="Re-sync the registry's pull secret",
            command=f"vectis-admin registry sync {registry}",
            api=f"POST /api/v1/registries/{cluster.registry_id}/sync",
        )
    if cause.cause in (PullCause.BAD_CREDENTIALS, PullCause.EXPIRED_TOKEN):
        return Remedy(
            action="rotate",
            description="Rotate the registry's credentials (verified before they are stored)",
            command=f"vectis-admin registry rotate {registry} --password-stdin --redeploy",
            api=f"POST /api/v1/registries/{cluster.registry_id}/rotate",
        )
    if cause.cause in (PullCause.TAG_MISSING, PullCause.REPOSITORY_MISSING, PullCause.NO_PLATFORM):
        return Remedy(
            action="fix-definition",
            description="Change the cluster's image (a tag the registry lists), then deploy",
            command=f"vectis-admin cluster update {cluster.name} --tag TAG",
            api=f"PATCH /api/v1/clusters/{cluster.id}",
        )
    return None


def _verdict(
    cluster: ClusterRecord,
    pods: tuple[PodFailure, ...],
    findings: tuple[Finding, ...],
    cause: PullDiagnosis | None,
    remedy: Remedy | None,
    check: CheckReport | None,
) -> ClusterDiagnosis:
    if cause is None:
        return ClusterDiagnosis(
            cluster=cluster.name,
            healthy=True,
            cause=None,
            summary="no pull problem found: the image exists, the credentials work and the "
            "pull secret is in place",
            fix="",
            evidence=(),
            pods=pods,
            findings=findings,
            registry_check=check,
        )
    evidence = tuple(dict.fromkeys([cause.evidence, *(p.message for p in pods if p.message)]))
    return ClusterDiagnosis(
        cluster=cluster.name,
        healthy=False,
        cause=cause.cause,
        summary=cause.summary,
        fix=cause.fix,
        evidence=evidence,
        pods=pods,
        findings=findings,
        remedy=remedy,
        registry_check=check,
    )
