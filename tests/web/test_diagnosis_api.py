"""Cluster diagnosis end to end: the emulator seeds what a kubelet would, a real registry sits
behind, the diagnosis names the cause, and its remedy fixes it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import PRIVATE_PASSWORD, Run, deploy_private_cluster
from tests.support.registry_server import RegistryServer

OLD, NEW = PRIVATE_PASSWORD, "diag-new-" + "pw-2"


@pytest.fixture
def registry_server(private_registry: RegistryServer) -> RegistryServer:
    return private_registry


@pytest.fixture
def deployed(api: TestClient, kube: Any, registry_server: RegistryServer) -> dict[str, Any]:
    made = deploy_private_cluster(api, kube, registry_server, replicas=2)
    registry, cluster = made["registry"], made["cluster"]
    kube.complete_rollout("prod", "vectis")
    pods = [p["name"] for p in api.get(f"/api/v1/clusters/{cluster['id']}/pods").json()]
    return {"registry": registry, "cluster": cluster, "pods": pods}


def diagnose(api: TestClient, cluster_id: str) -> dict[str, Any]:
    response = api.get(f"/api/v1/clusters/{cluster_id}/diagnosis")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_healthy_cluster(api: TestClient, deployed: dict[str, Any]) -> None:
    report = diagnose(api, deployed["cluster"]["id"])
    assert report["healthy"] is True, report
    assert {f["check"]: f["ok"] for f in report["findings"]} == {
        "deployment": True,
        "registry": True,
        "pull secret": True,
        "referenced": True,
        "kubelet match": True,
        "up to date": True,
    }


def test_deleted_secret_is_found_and_resync_restores_it(
    api: TestClient, kube: Any, deployed: dict[str, Any]
) -> None:
    registry_id = deployed["registry"]["id"]
    with httpx.Client(base_url=kube.base_url, headers=kube.auth_headers, trust_env=False) as raw:
        raw.delete(f"/api/v1/namespaces/prod/secrets/registry-secret-{registry_id}")
    kube.image_pull_failure(
        "prod",
        deployed["pods"][0],
        reason="ErrImagePull",
        error="failed to authorize: failed to fetch anonymous token: unexpected status: "
        "401 Unauthorized",
    )
    report = diagnose(api, deployed["cluster"]["id"])
    assert report["cause"] == "pull_secret_missing"
    assert report["remedy"]["action"] == "resync"
    assert report["pods"][0]["reason"] == "ErrImagePull"
    assert api.post(f"/api/v1/registries/{registry_id}/sync").json()["ok"] is True
    assert diagnose(api, deployed["cluster"]["id"])["findings"][2]["ok"] is True


def test_rejected_credentials_then_rotation_turns_it_green(
    api: TestClient, kube: Any, deployed: dict[str, Any], registry_server: RegistryServer
) -> None:
    registry_server.set_user("puller", NEW)  # the token was changed at the registry
    kube.image_pull_failure(
        "prod",
        deployed["pods"][1],
        reason="ImagePullBackOff",
        error=f'failed to resolve reference "{registry_server.host}/cpoder/vectis-server:1.0": '
        "pulling from host failed with status code [manifests 1.0]: 401 Unauthorized",
    )
    report = diagnose(api, deployed["cluster"]["id"])
    assert report["cause"] == "bad_credentials", report
    assert report["remedy"]["action"] == "rotate"
    assert "credentials rejected" in next(
        f["detail"] for f in report["findings"] if f["check"] == "registry"
    )
    rotated = api.post(
        f"/api/v1/registries/{deployed['registry']['id']}/rotate",
        json={"credentials": {"password": NEW}},
    )
    assert rotated.status_code == 200, rotated.text
    after = diagnose(api, deployed["cluster"]["id"])
    assert next(f for f in after["findings"] if f["check"] == "registry")["ok"] is True
    assert after["remedy"]["action"] == "redeploy"  # pods still report the old failure
    assert "every live check passes now" in after["summary"]


def test_missing_tag_and_stale_copy(api: TestClient, kube: Any, deployed: dict[str, Any]) -> None:
    cluster_id, registry_id = deployed["cluster"]["id"], deployed["registry"]["id"]
    api.patch(f"/api/v1/clusters/{cluster_id}", json={"tag": "9.9"})
    kube.image_pull_failure("prod", deployed["pods"][0])  # the runtime's "not found"
    missing = diagnose(api, cluster_id)
    assert missing["cause"] == "tag_missing" and missing["remedy"]["action"] == "fix-definition"
    api.patch(f"/api/v1/clusters/{cluster_id}", json={"tag": "1.0"})
    with httpx.Client(base_url=kube.base_url, headers=kube.auth_headers, trust_env=False) as raw:
        raw.patch(
            f"/api/v1/namespaces/prod/secrets/registry-secret-{registry_id}",
            json={"data": {".dockerconfigjson": "eyJhdXRocyI6e319"}},  # {"auths":{}}
            headers={"Content-Type": "application/merge-patch+json"},
        )
    stale = diagnose(api, cluster_id)
    assert stale["cause"] in ("pull_secret_not_matching", "bad_credentials")
    assert stale["remedy"]["action"] == "resync"
    api.post(f"/api/v1/registries/{registry_id}/sync")
    assert all(f["ok"] for f in diagnose(api, cluster_id)["findings"] if f["check"] != "registry")


def test_diagnose_cli(run: Run, api: TestClient, deployed: dict[str, Any]) -> None:
    healthy = run("cluster", "diagnose", "prod")
    assert healthy.exit_code == 0, healthy.output
    assert "prod: healthy" in healthy.output and OLD not in healthy.output


def test_diagnosis_panel_and_one_click_resync(
    api: TestClient, kube: Any, deployed: dict[str, Any], runtime: Any
) -> None:
    from fastapi.testclient import TestClient as Browser

    from tests.conftest import ADMIN_PASSWORD
    from tests.support.pages import csrf_of, log_in
    from vectis_admin.web.app import create_app

    registry_id, cluster_id = deployed["registry"]["id"], deployed["cluster"]["id"]
    with httpx.Client(base_url=kube.base_url, headers=kube.auth_headers, trust_env=False) as raw:
        raw.delete(f"/api/v1/namespaces/prod/secrets/registry-secret-{registry_id}")
    with Browser(create_app(runtime), follow_redirects=False) as browser:
        log_in(browser, ADMIN_PASSWORD)
        detail = browser.get(f"/clusters/{cluster_id}").text
        assert "Pull diagnosis" in detail
        panel = browser.get(f"/clusters/{cluster_id}/diagnosis", headers={"HX-Request": "true"})
        assert "pull secret missing" in panel.text and "Re-sync" in panel.text
        assert OLD not in panel.text
        fixed = browser.post(
            f"/clusters/{cluster_id}/remedy",
            data={"action": "resync", "csrf_token": csrf_of(detail)},
            headers={"HX-Request": "true"},
        )
        assert fixed.status_code == 200 and "No pull problem found" in fixed.text
        refused = browser.post(f"/clusters/{cluster_id}/remedy", data={"action": "resync"})
        assert refused.status_code == 403  # CSRF
