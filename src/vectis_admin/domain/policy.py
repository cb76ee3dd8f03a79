"""Best-practice checks: the seed's "Bonnes pratiques", made checkable.

One token per environment, least privilege, rotation every 90 days, private registries for
production, and the traps around them (a floating `latest` in production, TLS verification off,
anonymous Docker Hub pulls and its rate limits). Pure: it looks at the definitions only; the
caller may enrich a finding with live data (e.g. the digest to pin).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from vectis_admin.domain.images import parse_image_reference
from vectis_admin.domain.manifests import Environment
from vectis_admin.domain.registries import RegistryKind, TlsMode

__all__ = [
    "ClusterFacts",
    "Finding",
    "RegistryFacts",
    "Severity",
    "evaluate",
    "MAX_CREDENTIAL_AGE_DAYS",
]

MAX_CREDENTIAL_AGE_DAYS = 90
MUTABLE_TAGS = frozenset(
    {"latest", "stable", "main", "master", "dev", "develop", "edge", "nightly", "current"}
)


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True, kw_only=True)
class RegistryFacts:
    id: str
    name: str
    kind: RegistryKind
    url: str
    requires_auth: bool
    tls_mode: TlsMode
    credential_changed_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class ClusterFacts:
    id: str
    name: str
    environment: Environment
    registry_id: str | None
    image: str


@dataclass(frozen=True, kw_only=True)
class Finding:
    code: str
    severity: Severity
    message: str
    fix: str
    objects: tuple[str, ...]  # names of the registries / clusters concerned


def evaluate(
    registries: Sequence[RegistryFacts], clusters: Sequence[ClusterFacts], *, now: datetime
) -> list[Finding]:
    by_id = {r.id: r for r in registries}
    findings: list[Finding] = []
    production = [c for c in clusters if c.environment is Environment.PRODUCTION]
    for cluster in production:
        registry = by_id.get(cluster.registry_id or "")
        if registry is None or not registry.requires_auth:
            source = registry.name if registry else "a public image with no registry"
            findings.append(
                Finding(
                    code="production-public-registry",
                    severity=Severity.HIGH,
                    message=f"production cluster {cluster.name} pulls from {source} without "
                    "authentication",
                    fix="Use a private registry with credentials for production images.",
                    objects=(cluster.name, *((registry.name,) if registry else ())),
                )
            )
        if registry is not None and registry.tls_mode is not TlsMode.VERIFY:
            findings.append(
                Finding(
                    code="production-insecure-registry",
                    severity=Severity.HIGH,
                    message=f"production cluster {cluster.name} uses {registry.name}, whose TLS "
                    f"is {registry.tls_mode.value}",
                    fix="Give the registry a trusted certificate (or its CA bundle) and set TLS "
                    "back to verify.",
                    objects=(cluster.name, registry.name),
                )
            )
        reference = parse_image_reference(cluster.image)
        if reference.digest is None and (reference.tag or "latest") in MUTABLE_TAGS:
            findings.append(
                Finding(
                    code="production-mutable-tag",
                    severity=Severity.MEDIUM,
                    message=f"production cluster {cluster.name} runs the mutable tag "
                    f"{reference.tag or 'latest'}: a restart may pull different code",
                    fix="Pin a version tag, or the digest the registry reports (Test Connection "
                    "shows it).",
                    objects=(cluster.name,),
                )
            )
    environments: dict[str, set[Environment]] = defaultdict(set)
    users: dict[str, list[str]] = defaultdict(list)
    for cluster in clusters:
        if cluster.registry_id:
            environments[cluster.registry_id].add(cluster.environment)
            users[cluster.registry_id].append(cluster.name)
    for registry in registries:
        if registry.requires_auth and len(environments.get(registry.id, ())) > 1:
            envs = ", ".join(sorted(e.value for e in environments[registry.id]))
            findings.append(
                Finding(
                    code="credential-shared-across-environments",
                    severity=Severity.MEDIUM,
                    message=f"the credentials of {registry.name} serve {envs} clusters",
                    fix="One token per environment: register the registry once per environment "
                    "with its own token, and point each cluster at its own.",
                    objects=(registry.name, *sorted(users[registry.id])),
                )
            )
        if registry.credential_changed_at is not None:
            age = (now - registry.credential_changed_at).days
            if age > MAX_CREDENTIAL_AGE_DAYS:
                findings.append(
                    Finding(
                        code="credential-too-old",
                        severity=Severity.MEDIUM,
                        message=f"the credentials of {registry.name} are {age} days old "
                        f"(more than {MAX_CREDENTIAL_AGE_DAYS})",
                        fix="Rotate them (verified rotation checks the new ones first).",
                        objects=(registry.name,),
                    )
                )
        if registry.kind is RegistryKind.DOCKER_HUB and not registry.requires_auth:
            findings.append(
                Finding(
                    code="docker-hub-anonymous",
                    severity=Severity.LOW,
                    message=f"{registry.name} pulls from Docker Hub anonymously: pulls are rate "
                    "limited per node IP",
                    fix="Add a Docker Hub account with an access token (dckr_pat_…) for a higher "
                    "allowance, or mirror the images.",
                    objects=(registry.name,),
                )
            )
    order = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}
    return sorted(findings, key=lambda f: (order[f.severity], f.code, f.objects))
