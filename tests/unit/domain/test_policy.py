"""Best-practice checks on definitions (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vectis_admin.domain.manifests import Environment
from vectis_admin.domain.policy import ClusterFacts, RegistryFacts, Severity, evaluate
from vectis_admin.domain.registries import RegistryKind, TlsMode

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def registry(name: str, **extra: object) -> RegistryFacts:
    values: dict[str, object] = {
        "id": name,
        "name": name,
        "kind": RegistryKind.GHCR,
        "url": "ghcr.io",
        "requires_auth": True,
        "tls_mode": TlsMode.VERIFY,
        "credential_changed_at": NOW - timedelta(days=10),
    } | extra
    return RegistryFacts(**values)  # type: ignore[arg-type]


def cluster(name: str, env: Environment, registry_id: str | None, image: str) -> ClusterFacts:
    return ClusterFacts(id=name, name=name, environment=env, registry_id=registry_id, image=image)


def codes(findings: list) -> list[tuple[str, tuple[str, ...]]]:  # type: ignore[type-arg]
    return [(f.code, f.objects) for f in findings]


def test_a_well_kept_setup_has_no_finding() -> None:
    findings = evaluate(
        [registry("prod-ghcr"), registry("dev-ghcr")],
        [
            cluster("paris", Environment.PRODUCTION, "prod-ghcr", "ghcr.io/cpoder/vectis:1.4.2"),
            cluster("dev", Environment.DEVELOPMENT, "dev-ghcr", "ghcr.io/cpoder/vectis:latest"),
        ],
        now=NOW,
    )
    assert findings == []


def test_each_rule() -> None:
    hub = registry("hub", kind=RegistryKind.DOCKER_HUB, url="docker.io", requires_auth=False)
    lab = registry("lab", tls_mode=TlsMode.SKIP_VERIFY, kind=RegistryKind.GENERIC)
    shared = registry("shared", credential_changed_at=NOW - timedelta(days=120))
    findings = evaluate(
        [hub, lab, shared],
        [
            cluster("p1", Environment.PRODUCTION, "hub", "docker.io/cpoder/vectis:2.0"),
            cluster("p2", Environment.PRODUCTION, "lab", "lab.local/vectis:latest"),
            cluster("p3", Environment.PRODUCTION, None, "ghcr.io/cpoder/vectis@sha256:" + "a" * 64),
            cluster("s1", Environment.STAGING, "shared", "ghcr.io/x/y:1"),
            cluster("d1", Environment.DEVELOPMENT, "shared", "ghcr.io/x/y:1"),
        ],
        now=NOW,
    )
    assert codes(findings) == [
        ("production-insecure-registry", ("p2", "lab")),
        ("production-public-registry", ("p1", "hub")),
        ("production-public-registry", ("p3",)),
        ("credential-shared-across-environments", ("shared", "d1", "s1")),
        ("credential-too-old", ("shared",)),
        ("production-mutable-tag", ("p2",)),
        ("docker-hub-anonymous", ("hub",)),
    ]
    assert findings[0].severity is Severity.HIGH and findings[-1].severity is Severity.LOW
    assert "120 days" in next(f.message for f in findings if f.code == "credential-too-old")
    assert all(f.fix for f in findings)
