"""`registry-secret-{id}` in every namespace that needs it, through the API and the emulator."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.conftest import orchestrator_payload
from tests.support.clock import FakeClock
from vectis_admin.domain.dockerconfig import build_dockerconfigjson
from vectis_admin.runtime import Runtime

NAMESPACES = ("team-a", "team-b", "team-c")


def setup(api: TestClient, kube: Any, password: str = "first-pw-0001") -> tuple[str, str]:
    for namespace in NAMESPACES + ("team-d",):
        kube.ensure_namespace(namespace)
    orchestrator = api.post("/api/v1/orchestrators", json=orchestrator_payload(kube)).json()
    registry = api.post(
        "/api/v1/registries",
        json={
            "name": "corp",
            "kind": "generic",
            "url": "registry.corp.example:5000",
            "credentials": {"username": "puller", "password": password},
        },
    ).json()
    placed = api.put(
        f"/api/v1/registries/{registry['id']}/namespaces",
        json=[{"orchestrator": orchestrator["name"], "namespace": ns} for ns in NAMESPACES],
    )
    assert placed.status_code == 200, placed.text
    assert placed.json()["ok"] is True and placed.json()["writes"] == 3
    return registry["id"], orchestrator["id"]


def secret_of(kube: Any, registry_id: str, namespace: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = kube.get_object(
        "Secret", f"registry-secret-{registry_id}", namespace
    )
    return found


def config_of(secret: dict[str, Any]) -> str:
    return base64.b64decode(secret["data"][".dockerconfigjson"]).decode()


def test_copies_are_exactly_what_kubectl_would_write(api: TestClient, kube: Any) -> None:
    registry_id, _ = setup(api, kube)
    expected = build_dockerconfigjson("registry.corp.example:5000", "puller", "first-pw-0001")
    for namespace in NAMESPACES:
        secret = secret_of(kube, registry_id, namespace)
        assert secret is not None
        assert secret["type"] == "kubernetes.io/dockerconfigjson"
        assert config_of(secret) == expected
        labels = secret["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "vectis-admin"
        assert labels["vectis.io/registry-id"] == registry_id
    assert secret_of(kube, registry_id, "team-d") is None
    state = api.get(f"/api/v1/registries/{registry_id}/sync").json()
    assert [(c["namespace"], c["state"]) for c in state["copies"]] == [
        (ns, "synced") for ns in NAMESPACES
    ]
    assert "first-pw-0001" not in json.dumps(state)


def test_password_change_reaches_every_copy_and_noop_makes_zero_writes(
    api: TestClient, kube: Any
) -> None:
    registry_id, _ = setup(api, kube)
    kube.clear_journal()
    changed = api.patch(
        f"/api/v1/registries/{registry_id}", json={"credentials": {"password": "second-pw-0002"}}
    )
    assert changed.status_code == 200
    assert len(kube.writes()) == 3
    for namespace in NAMESPACES:
        assert "second-pw-0002" in config_of(secret_of(kube, registry_id, namespace) or {})
    kube.clear_journal()
    again = api.post(f"/api/v1/registries/{registry_id}/sync").json()
    assert again["writes"] == 0 and again["ok"] is True
    assert kube.writes() == []


def test_drift_is_repaired(api: TestClient, kube: Any) -> None:
    registry_id, _ = setup(api, kube)
    name = f"registry-secret-{registry_id}"
    with httpx.Client(base_url=kube.base_url, headers=kube.auth_headers, trust_env=False) as raw:
        assert raw.delete(f"/api/v1/namespaces/team-a/secrets/{name}").status_code == 200
        tampered = base64.b64encode(b'{"auths":{}}').decode()
        patch = raw.patch(
            f"/api/v1/namespaces/team-b/secrets/{name}",
            json={"data": {".dockerconfigjson": tampered}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert patch.status_code == 200
    kube.clear_journal()
    repaired = api.post(f"/api/v1/registries/{registry_id}/sync").json()
    assert repaired["ok"] is True and repaired["writes"] == 2
    for namespace in NAMESPACES:
        assert "first-pw-0001" in config_of(secret_of(kube, registry_id, namespace) or {})


def test_a_foreign_secret_is_never_overwritten(api: TestClient, kube: Any) -> None:
    registry_id, orchestrator_id = setup(api, kube)
    foreign = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": f"registry-secret-{registry_id}", "namespace": "team-d"},
        "data": {"owner": base64.b64encode(b"someone else").decode()},
    }
    kube.seed(foreign)
    result = api.put(
        f"/api/v1/registries/{registry_id}/namespaces",
        json=[
            {"orchestrator": orchestrator_id, "namespace": ns} for ns in NAMESPACES + ("team-d",)
        ],
    ).json()
    bad = [c for c in result["copies"] if c["namespace"] == "team-d"]
    assert bad[0]["state"] == "error" and "not managed by vectis-admin" in bad[0]["message"]
    assert secret_of(kube, registry_id, "team-d")["data"] == foreign["data"]  # type: ignore[index]
    assert result["ok"] is False


def test_api_faults_mid_rotation_leave_no_stale_copy_once_back(
    api: TestClient, kube: Any, runtime: Runtime, clock: FakeClock
) -> None:
    registry_id, _ = setup(api, kube)
    kube.fail_next(2, status=503, method="PATCH")
    rotated = api.patch(
        f"/api/v1/registries/{registry_id}", json={"credentials": {"password": "rotated-pw-0003"}}
    )
    assert rotated.status_code == 200  # the change is stored; the copies catch up
    state = api.get(f"/api/v1/registries/{registry_id}/sync").json()["copies"]
    assert sorted(c["state"] for c in state) == ["pending", "pending", "synced"]
    assert all(c["next_attempt_at"] for c in state if c["state"] == "pending")
    kube.refuse()
    assert runtime.pull_secrets.reconcile(due_only=True) == []  # not due yet (backoff)
    clock.advance(seconds=11)
    down = runtime.pull_secrets.reconcile(due_only=True)
    assert down and not down[0].ok  # still down: stays pending, attempts grow
    kube.resume()
    clock.advance(minutes=1)
    back = runtime.pull_secrets.reconcile(due_only=True)
    assert back[0].ok
    for namespace in NAMESPACES:
        assert "rotated-pw-0003" in config_of(secret_of(kube, registry_id, namespace) or {})


def test_removed_namespaces_and_deleted_registries_lose_their_copies(
    api: TestClient, kube: Any
) -> None:
    registry_id, orchestrator_id = setup(api, kube)
    fewer = api.put(
        f"/api/v1/registries/{registry_id}/namespaces",
        json=[{"orchestrator": orchestrator_id, "namespace": "team-a"}],
    ).json()
    assert [c["namespace"] for c in fewer["copies"]] == ["team-a"]
    assert secret_of(kube, registry_id, "team-b") is None
    assert api.delete(f"/api/v1/registries/{registry_id}").status_code == 204
    assert secret_of(kube, registry_id, "team-a") is None
    assert kube.list_objects("Secret", "team-a") == [
        s
        for s in kube.list_objects("Secret", "team-a")
        if not s["metadata"]["name"].startswith("registry-secret-")
    ]


def test_bad_namespace_names_the_field(api: TestClient, kube: Any) -> None:
    registry_id, orchestrator_id = setup(api, kube)
    response = api.put(
        f"/api/v1/registries/{registry_id}/namespaces",
        json=[{"orchestrator": orchestrator_id, "namespace": "Not_Valid"}],
    )
    assert response.status_code == 422
    assert response.json()["issues"][0]["field"] == "namespace"


def test_sync_now_from_the_registry_card(api: TestClient, kube: Any, runtime: Runtime) -> None:
    from tests.conftest import ADMIN_PASSWORD
    from tests.support.pages import csrf_of, log_in
    from vectis_admin.web.app import create_app

    registry_id, _ = setup(api, kube)
    with httpx.Client(base_url=kube.base_url, headers=kube.auth_headers, trust_env=False) as raw:
        raw.delete(f"/api/v1/namespaces/team-a/secrets/registry-secret-{registry_id}")
    with TestClient(create_app(runtime), follow_redirects=False) as browser:
        log_in(browser, ADMIN_PASSWORD)
        page = browser.get("/registries").text
        assert "Sync now" in page
        done = browser.post(f"/registries/{registry_id}/sync", data={"csrf_token": csrf_of(page)})
        assert done.status_code == 303
        assert "3 copies, 1 written" in browser.get("/registries").text
        assert browser.post(f"/registries/{registry_id}/sync", data={}).status_code == 403
    assert secret_of(kube, registry_id, "team-a") is not None


def test_extra_namespaces_from_the_registry_card(
    api: TestClient, kube: Any, runtime: Runtime
) -> None:
    from tests.conftest import ADMIN_PASSWORD
    from tests.support.pages import csrf_of, log_in
    from vectis_admin.web.app import create_app

    registry_id, _ = setup(api, kube)
    with TestClient(create_app(runtime), follow_redirects=False) as browser:
        log_in(browser, ADMIN_PASSWORD)
        page = browser.get("/registries").text
        assert "k3s-lab/team-a\nk3s-lab/team-b\nk3s-lab/team-c" in page  # the editor, filled
        token = csrf_of(page)
        saved = browser.post(
            f"/registries/{registry_id}/namespaces",
            data={"csrf_token": token, "namespaces": "k3s-lab/team-a\nk3s-lab/team-d\n"},
        )
        assert saved.status_code == 303
        bad = browser.post(
            f"/registries/{registry_id}/namespaces",
            data={"csrf_token": token, "namespaces": "no-slash"},
        )
        assert bad.status_code == 422 and "orchestrator/namespace" in bad.text
    assert secret_of(kube, registry_id, "team-d") is not None
    assert secret_of(kube, registry_id, "team-b") is None
