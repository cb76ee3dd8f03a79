"""`/api/v1/orchestrators` against the Kubernetes API emulator, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from tests.conftest import orchestrator_payload
from tests.support.registry_server import make_tls_material


def create(api: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/api/v1/orchestrators", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_token_orchestrator_crud_and_write_only_token(api: TestClient, kube: Any) -> None:
    body = create(api, orchestrator_payload(kube))
    assert body["secret_fields_set"] == ["token"] and body["credentials"] == {}
    assert body["insecure"] is True  # the emulator speaks plain HTTP: flagged
    assert any("plain HTTP" in w for w in body["warnings"])
    assert kube.token not in str(body)
    updated = api.patch(
        f"/api/v1/orchestrators/{body['id']}",
        json={"description": "lab", "metallb_range": "10.0.0.240-10.0.0.250", "version": 1},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["metallb_range"] == "10.0.0.240-10.0.0.250"
    assert updated.json()["secret_fields_set"] == ["token"]  # omitted token kept
    stale = api.patch(
        f"/api/v1/orchestrators/{body['id']}", json={"description": "x", "version": 1}
    )
    assert stale.status_code == 409
    listed = api.get("/api/v1/orchestrators").json()
    assert [o["name"] for o in listed["items"]] == ["k3s-lab"]
    assert api.get("/api/v1/orchestrators/k3s-lab").status_code == 200
    assert api.delete(f"/api/v1/orchestrators/{body['id']}").status_code == 204
    assert api.get(f"/api/v1/orchestrators/{body['id']}").status_code == 404
    audit = api.get("/api/v1/audit", params={"target_type": "orchestrator"}).json()["items"]
    assert [e["action"] for e in audit] == [
        "orchestrator.delete",
        "orchestrator.update",
        "orchestrator.create",
    ]
    assert kube.token not in str(audit)


def test_kubeconfig_modes(api: TestClient, kube: Any, tmp_path: Any) -> None:
    text = yaml.safe_dump(kube.kubeconfig())
    stored = create(
        api,
        {
            "name": "kc",
            "kind": "K8S",
            "auth_mode": "kubeconfig",
            "credentials": {"kubeconfig": text, "kubeconfig_context": "emulator"},
        },
    )
    assert stored["secret_fields_set"] == ["kubeconfig"]
    assert stored["credentials"] == {"kubeconfig_context": "emulator"}
    path = kube.write_kubeconfig(tmp_path / "config")
    by_path = create(
        api,
        {
            "name": "kp",
            "kind": "K8S",
            "auth_mode": "kubeconfig",
            "credentials": {"kubeconfig_path": str(path)},
        },
    )
    assert by_path["credentials"] == {"kubeconfig_path": str(path)}
    for name in ("kc", "kp"):
        report = api.post(f"/api/v1/orchestrators/{name}/test").json()
        assert report["ok"] is True, report


def test_certificate_and_in_cluster_modes_are_validated(api: TestClient) -> None:
    tls = make_tls_material()
    cert = create(
        api,
        {
            "name": "cert",
            "kind": "K8S",
            "auth_mode": "certificate",
            "api_server_url": "https://10.0.0.10:6443",
            "credentials": {
                "client_cert": tls.cert_pem.decode(),
                "client_key": tls.key_pem.decode(),
                "ca_cert": tls.ca_pem.decode(),
            },
        },
    )
    assert cert["secret_fields_set"] == ["client_key"]
    assert "client_cert" in cert["credentials"] and "PRIVATE" not in str(cert)
    in_cluster = create(api, {"name": "here", "kind": "K3S", "auth_mode": "in_cluster"})
    assert in_cluster["api_server_url"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"auth_mode": "token", "credentials": {"token": "t"}}, "api_server_url"),
        ({"auth_mode": "token", "api_server_url": "https://k:6443"}, "credentials.token"),
        (
            {"auth_mode": "token", "api_server_url": "ftp://k", "credentials": {"token": "t"}},
            "api_server_url",
        ),
        (
            {
                "auth_mode": "certificate",
                "api_server_url": "https://k:6443",
                "credentials": {"client_cert": "nope", "client_key": "nope"},
            },
            "credentials.client_cert",
        ),
        ({"auth_mode": "in_cluster", "api_server_url": "https://k:6443"}, "api_server_url"),
        (
            {"auth_mode": "kubeconfig", "credentials": {"kubeconfig": "a: [b"}},
            "credentials.kubeconfig",
        ),
        (
            {
                "auth_mode": "kubeconfig",
                "credentials": {
                    "kubeconfig": "clusters: [{name: c}]\nusers: [{name: u}]\n"
                    "contexts: [{name: x}]\n",
                    "kubeconfig_context": "y",
                },
            },
            "credentials.kubeconfig_context",
        ),
        (
            {"auth_mode": "kubeconfig", "credentials": {"kubeconfig_path": "relative/config"}},
            "credentials.kubeconfig_path",
        ),
        (
            {
                "auth_mode": "token",
                "api_server_url": "https://k:6443",
                "credentials": {"token": "t"},
                "metallb_range": "10.0.0.9-10.0.0.1",
            },
            "metallb_range",
        ),
        (
            {
                "auth_mode": "token",
                "api_server_url": "https://k:6443",
                "credentials": {"token": "t", "password": "p"},
            },
            "credentials.password",
        ),
        ({"auth_mode": "nope"}, "auth_mode"),
    ],
)
def test_bad_input_names_the_field(api: TestClient, body: dict[str, Any], field: str) -> None:
    response = api.post("/api/v1/orchestrators", json={"name": "x", "kind": "K8S"} | body)
    assert response.status_code == 422, response.text
    assert field in [i["field"] for i in response.json()["issues"]]
    assert api.get("/api/v1/orchestrators").json()["total"] == 0


def test_skip_tls_verify_is_flagged(api: TestClient) -> None:
    body = create(
        api,
        {
            "name": "dev",
            "kind": "K3S",
            "auth_mode": "token",
            "api_server_url": "https://k:6443",
            "skip_tls_verify": True,
            "credentials": {"token": "t0ken-value"},
        },
    )
    assert body["insecure"] is True
    assert any("development only" in w for w in body["warnings"])


def test_connection_test_reports_version_and_rights(api: TestClient, kube: Any) -> None:
    body = create(api, orchestrator_payload(kube))
    report = api.post(f"/api/v1/orchestrators/{body['id']}/test").json()
    assert report["ok"] is True and report["server_version"] == "v1.37.0"
    assert {(p["verb"], p["resource"]) for p in report["permissions"]} >= {
        ("create", "secrets"),
        ("patch", "deployments"),
    }
    kube.deny("create", "secrets", namespace="vectis")
    denied = api.post(
        f"/api/v1/orchestrators/{body['id']}/test", params={"namespace": "vectis"}
    ).json()
    assert denied["ok"] is False and "create secrets" in denied["message"]
    card = api.get(f"/api/v1/orchestrators/{body['id']}").json()
    assert card["last_check"]["ok"] is False
    kube.refuse()
    down = api.post(f"/api/v1/orchestrators/{body['id']}/test").json()
    assert down["reachable"] is False and "unreachable" in down["message"]
    kube.resume()
    assert kube.token not in str(report) + str(denied) + str(down)


def test_cluster_wide_volume_right_is_checked(api: TestClient, kube: Any) -> None:
    body = create(api, orchestrator_payload(kube))
    kube.deny("create", "persistentvolumes")
    report = api.post(f"/api/v1/orchestrators/{body['id']}/test").json()
    assert report["ok"] is False
    assert "create persistentvolumes (cluster-wide)" in report["message"]
    volume = next(p for p in report["permissions"] if p["resource"] == "persistentvolumes")
    assert volume["namespace"] == "" and volume["allowed"] is False
