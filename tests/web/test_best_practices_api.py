"""`GET /api/v1/checks` and `vectis-admin check`, with the digest to pin read from a registry."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import PullRegistry, Run, orchestrator_payload


def test_findings_name_objects_and_fixes(
    api: TestClient, kube: Any, pull_registry: PullRegistry
) -> None:
    orchestrator = api.post("/api/v1/orchestrators", json=orchestrator_payload(kube)).json()
    registry = api.post(
        "/api/v1/registries", json=pull_registry.payload() | {"default_tag": "latest"}
    ).json()
    hub = api.post(
        "/api/v1/registries", json={"name": "hub", "kind": "dockerhub", "requires_auth": False}
    ).json()
    for name, env, reg in (
        ("paris", "PRODUCTION", registry),
        ("dev", "DEVELOPMENT", registry),
        ("public", "PRODUCTION", hub),
    ):
        body = {
            "name": name,
            "environment": env,
            "orchestrator": orchestrator["id"],
            "deployment_name": "vectis",
            "storage_host_path": "/srv/v",
            "namespace": name,
            "registry": reg["id"],
        }
        if reg is hub:
            body["image"] = "docker.io/cpoder/vectis-server:1.0"
        assert api.post("/api/v1/clusters", json=body).status_code == 201
    findings = api.get("/api/v1/checks").json()
    by_code = {f["code"]: f for f in findings}
    assert set(by_code) == {
        "production-public-registry",
        "production-mutable-tag",
        "production-insecure-registry",
        "credential-shared-across-environments",
        "docker-hub-anonymous",
    }
    assert by_code["production-public-registry"]["objects"] == ["public", "hub"]
    assert by_code["production-insecure-registry"]["objects"] == ["paris", "local"]
    pin = by_code["production-mutable-tag"]["fix"]
    assert f"@{pull_registry.digests['latest']}" in pin  # the digest the registry reports
    assert findings[0]["severity"] == "high"


def test_check_cli_exit_code(run: Run) -> None:
    empty = run("check")
    assert empty.exit_code == 0 and "0 finding(s)" in empty.output
