"""Vectis clusters through the API and the Kubernetes emulator: render, deploy, observe, delete."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import orchestrator_payload

PASSWORD = "cluster-pull-" + "pw-9f8e"


@pytest.fixture
def setup(api: TestClient, kube: Any) -> dict[str, Any]:
    orchestrator = api.post("/api/v1/orchestrators", json=orchestrator_payload(kube)).json()
    registry = api.post(
        "/api/v1/registries",
        json={
            "name": "ghcr-cpoder",
            "kind": "ghcr",
            "image_path": "cpoder/vectis-server",
            "default_tag": "1.4.2",
            "credentials": {"username": "cpoder", "password": "ghp_" + "k" * 36},
        },
    ).json()
    body = {
        "name": "paris-prod",
        "environment": "PRODUCTION",
        "orchestrator": orchestrator["name"],
        "namespace": "vectis-prod",
        "deployment_name": "vectis",
        "replicas": 3,
        "storage_host_path": "/srv/vectis",
        "registry": registry["name"],
    }
    cluster = api.post("/api/v1/clusters", json=body)
    assert cluster.status_code == 201, cluster.text
    return {"registry": registry, "orchestrator": orchestrator, "cluster": cluster.json()}


def test_cluster_definition_resolves_the_image(setup: dict[str, Any]) -> None:
    cluster = setup["cluster"]
    assert cluster["image"] == "ghcr.io/cpoder/vectis-server:1.4.2"
    assert cluster["deployment_state"] == "NOT_DEPLOYED"


def test_render_works_offline_and_hides_the_secret(
    api: TestClient, setup: dict[str, Any], kube: Any
) -> None:
    kube.refuse()  # no cluster needed to render
    cluster_id = setup["cluster"]["id"]
    text = api.get(f"/api/v1/clusters/{cluster_id}/manifests").text
    secret_name = f"registry-secret-{setup['registry']['id']}"
    assert '"kind": "Deployment"' in text and secret_name in text
    assert "kubectl create secret docker-registry" in text
    assert "k" * 36 not in text and ".dockerconfigjson" not in text
    with_secret = api.get(
        f"/api/v1/clusters/{cluster_id}/manifests", params={"include_secrets": True}
    ).text
    assert ".dockerconfigjson" in with_secret
    kube.resume()


def test_deploy_creates_everything_secret_first_then_reports_health_and_pods(
    api: TestClient, setup: dict[str, Any], kube: Any
) -> None:
    cluster_id, registry_id = setup["cluster"]["id"], setup["registry"]["id"]
    kube.clear_journal()
    status = api.post(f"/api/v1/clusters/{cluster_id}/deploy").json()
    assert status["state"] == "DEPLOYED", status
    assert status["health"] == "UNHEALTHY" and status["ready_replicas"] == 0
    posts = [e.path for e in kube.writes() if e.method == "POST"]
    secret_at = next(i for i, p in enumerate(posts) if p.endswith("/secrets"))
    deployment_at = next(i for i, p in enumerate(posts) if p.endswith("/deployments"))
    assert secret_at < deployment_at  # the pull secret exists before the Deployment needs it
    deployment = kube.get_object("Deployment", "vectis", "vectis-prod")
    pod_spec = deployment["spec"]["template"]["spec"]
    assert pod_spec["imagePullSecrets"] == [{"name": f"registry-secret-{registry_id}"}]
    assert pod_spec["containers"][0]["image"] == "ghcr.io/cpoder/vectis-server:1.4.2"
    secret = kube.get_object("Secret", f"registry-secret-{registry_id}", "vectis-prod")
    assert "ghcr.io" in base64.b64decode(secret["data"][".dockerconfigjson"]).decode()
    for kind, name in (("ServiceAccount", "vectis"), ("Service", "vectis"), ("ConfigMap", None)):
        assert any(
            o["metadata"]["name"] == (name or o["metadata"]["name"])
            for o in kube.list_objects(kind, "vectis-prod")
        )
    assert kube.get_object("Service", "vectis", "vectis-prod")["spec"]["type"] == "LoadBalancer"
    kube.complete_rollout("vectis-prod", "vectis")
    healthy = api.get(f"/api/v1/clusters/{cluster_id}/deployment/status").json()
    assert healthy["health"] == "HEALTHY" and healthy["ready_replicas"] == 3
    pods = api.get(f"/api/v1/clusters/{cluster_id}/pods").json()
    assert len(pods) == 3 and all(p["ready"] for p in pods)
    failing = pods[0]["name"]
    kube.image_pull_failure("vectis-prod", failing)
    kube.set_pod_log("vectis-prod", pods[1]["name"], "line 1\nline 2\nline 3\n")
    again = {p["name"]: p for p in api.get(f"/api/v1/clusters/{cluster_id}/pods").json()}
    assert again[failing]["waiting_reason"] == "ImagePullBackOff"
    assert again[failing]["ready"] is False
    logs = api.get(
        f"/api/v1/clusters/{cluster_id}/pods/{pods[1]['name']}/logs", params={"lines": 2}
    )
    assert logs.status_code == 200 and logs.text.strip().splitlines() == ["line 2", "line 3"]
    assert api.get(f"/api/v1/clusters/{cluster_id}/pods/not-mine/logs").status_code == 404
    sync = api.get(f"/api/v1/registries/{registry_id}/sync").json()
    assert [(c["namespace"], c["state"]) for c in sync["copies"]] == [("vectis-prod", "synced")]


def test_force_redeploy_restarts_and_plain_redeploy_converges(
    api: TestClient, setup: dict[str, Any], kube: Any
) -> None:
    cluster_id = setup["cluster"]["id"]
    assert api.post(f"/api/v1/clusters/{cluster_id}/deploy").json()["state"] == "DEPLOYED"
    forced = api.post(f"/api/v1/clusters/{cluster_id}/deploy", params={"force": True}).json()
    assert forced["state"] == "DEPLOYED"
    template = kube.get_object("Deployment", "vectis", "vectis-prod")["spec"]["template"]
    stamp = template["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
    assert stamp
    api.patch(f"/api/v1/clusters/{cluster_id}", json={"replicas": 5})
    assert api.post(f"/api/v1/clusters/{cluster_id}/deploy").json()["state"] == "DEPLOYED"
    deployment = kube.get_object("Deployment", "vectis", "vectis-prod")
    assert deployment["spec"]["replicas"] == 5
    kept = deployment["spec"]["template"]["metadata"]["annotations"]
    assert kept["kubectl.kubernetes.io/restartedAt"] == stamp


def test_registry_in_use_cannot_be_deleted(api: TestClient, setup: dict[str, Any]) -> None:
    response = api.delete(f"/api/v1/registries/{setup['registry']['id']}")
    assert response.status_code == 409
    assert response.json()["reason"] == "in_use" and "paris-prod" in response.json()["message"]


def test_deploy_failure_is_visible_and_recoverable(
    api: TestClient, setup: dict[str, Any], kube: Any
) -> None:
    cluster_id = setup["cluster"]["id"]
    kube.refuse()
    failed = api.post(f"/api/v1/clusters/{cluster_id}/deploy").json()
    assert failed["state"] == "FAILED" and failed["reason"]
    assert api.get(f"/api/v1/clusters/{cluster_id}").json()["state_reason"] == failed["reason"]
    kube.resume()
    assert api.post(f"/api/v1/clusters/{cluster_id}/deploy").json()["state"] == "DEPLOYED"


def test_delete_removes_exactly_what_deploy_created(
    api: TestClient, setup: dict[str, Any], kube: Any
) -> None:
    cluster_id, registry_id = setup["cluster"]["id"], setup["registry"]["id"]
    kube.ensure_namespace("shared")
    other = api.post(
        "/api/v1/clusters",
        json={
            "name": "in-shared",
            "orchestrator": setup["orchestrator"]["id"],
            "namespace": "shared",
            "deployment_name": "vx",
            "storage_host_path": "/srv/x",
            "registry": registry_id,
            "replicas": 1,
        },
    ).json()
    api.post(f"/api/v1/clusters/{cluster_id}/deploy")
    api.post(f"/api/v1/clusters/{other['id']}/deploy")
    kube.seed(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "not-ours", "namespace": "shared"},
            "data": {},
        }
    )
    assert api.delete(f"/api/v1/clusters/{other['id']}").status_code == 204
    assert kube.get_object("Namespace", "shared", "") is not None  # it existed before
    assert kube.get_object("ConfigMap", "not-ours", "shared") is not None
    assert kube.get_object("Deployment", "vx", "shared") is None
    assert kube.get_object("Secret", f"registry-secret-{registry_id}", "shared") is None
    assert api.delete(f"/api/v1/clusters/{cluster_id}").status_code == 204
    assert kube.get_object("Namespace", "vectis-prod", "") is None  # it created that one
    assert api.get(f"/api/v1/clusters/{cluster_id}").status_code == 404
    assert api.delete(f"/api/v1/registries/{registry_id}").status_code == 204


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"deployment_name": "Not_Valid"}, "deployment_name"),
        ({"replicas": 11}, "replicas"),
        ({"image": "docker.io/other/image:1"}, "image"),
        ({"namespace": "UPPER"}, "namespace"),
        ({"registry": "no-such-registry"}, None),
    ],
)
def test_bad_cluster_input(
    api: TestClient, setup: dict[str, Any], change: dict[str, Any], field: str | None
) -> None:
    body = {
        "name": "bad",
        "orchestrator": setup["orchestrator"]["id"],
        "deployment_name": "v",
        "storage_host_path": "/srv/v",
        "registry": setup["registry"]["id"],
    } | change
    response = api.post("/api/v1/clusters", json=body)
    if field is None:
        assert response.status_code == 404
    else:
        assert response.status_code == 422, response.text
        assert field in [i["field"] for i in response.json()["issues"]]


def test_orchestrator_with_clusters_cannot_be_deleted(
    api: TestClient, setup: dict[str, Any]
) -> None:
    response = api.delete(f"/api/v1/orchestrators/{setup['orchestrator']['id']}")
    assert response.status_code == 409
    assert "paris-prod" in response.json()["message"]


def test_nodeport_without_load_balancer_and_leader_flag(
    api: TestClient, setup: dict[str, Any], kube: Any
) -> None:
    bare = api.post(
        "/api/v1/orchestrators",
        json=orchestrator_payload(kube, name="bare-metal", supports_load_balancer=False),
    ).json()
    cluster = api.post(
        "/api/v1/clusters",
        json={
            "name": "edge",
            "orchestrator": bare["id"],
            "namespace": "edge",
            "deployment_name": "vectis",
            "storage_host_path": "/srv/v",
            "replicas": 2,
            "image": "ghcr.io/cpoder/vectis-server:latest",
        },
    ).json()
    assert cluster["registry_id"] is None  # a public image: no pull secret
    assert api.post(f"/api/v1/clusters/{cluster['id']}/deploy").json()["state"] == "DEPLOYED"
    service = kube.get_object("Service", "vectis", "edge")
    assert service["spec"]["type"] == "NodePort"
    deployment = kube.get_object("Deployment", "vectis", "edge")
    assert "imagePullSecrets" not in deployment["spec"]["template"]["spec"]
    kube.complete_rollout("edge", "vectis")
    pods = api.get(f"/api/v1/clusters/{cluster['id']}/pods").json()
    leader = pods[0]["name"]
    kube.seed(
        kube.get_object("Pod", leader, "edge")
        | {
            "metadata": kube.get_object("Pod", leader, "edge")["metadata"]
            | {
                "labels": kube.get_object("Pod", leader, "edge")["metadata"]["labels"]
                | {"vectis.io/role": "leader"}
            }
        }
    )
    flags = {
        p["name"]: p["leader"] for p in api.get(f"/api/v1/clusters/{cluster['id']}/pods").json()
    }
    assert flags[leader] is True and sum(flags.values()) == 1


def test_a_pod_in_image_pull_back_off_degrades_health(
    api: TestClient, setup: dict[str, Any], kube: Any
) -> None:
    cluster_id = setup["cluster"]["id"]
    api.post(f"/api/v1/clusters/{cluster_id}/deploy")
    kube.complete_rollout("vectis-prod", "vectis")
    pods = api.get(f"/api/v1/clusters/{cluster_id}/pods").json()
    kube.image_pull_failure("vectis-prod", pods[0]["name"])
    status = api.get(f"/api/v1/clusters/{cluster_id}/deployment/status").json()
    assert status["health"] == "DEGRADED" and status["ready_replicas"] == 2
