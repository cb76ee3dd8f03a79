"""Verified rotation against a real htpasswd registry and the Kubernetes emulator."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import PRIVATE_PASSWORD, Run, deploy_private_cluster
from tests.support.registry_server import RegistryServer
from vectis_admin.runtime import Runtime

OLD, NEW = PRIVATE_PASSWORD, "new-puller-" + "pw-2"


@pytest.fixture
def registry_server(private_registry: RegistryServer) -> RegistryServer:
    return private_registry


def deployed(api: TestClient, kube: Any, server: RegistryServer) -> dict[str, Any]:
    registry: dict[str, Any] = deploy_private_cluster(api, kube, server)["registry"]
    return registry


def copy_password(kube: Any, registry_id: str) -> str:
    secret = kube.get_object("Secret", f"registry-secret-{registry_id}", "prod")
    text = base64.b64decode(secret["data"][".dockerconfigjson"]).decode()
    return OLD if OLD in text else NEW if NEW in text else "?"


def test_wrong_new_password_changes_nothing_right_one_reaches_every_copy(
    api: TestClient, kube: Any, runtime: Runtime, registry_server: RegistryServer
) -> None:
    registry = deployed(api, kube, registry_server)
    registry_server.set_user("puller", NEW)  # the operator changed it at the registry
    kube.clear_journal()
    wrong = api.post(
        f"/api/v1/registries/{registry['id']}/rotate",
        json={"credentials": {"password": "not-" + NEW}},
    )
    assert wrong.status_code == 409, wrong.text
    body = wrong.json()
    assert body["reason"] == "verification_failed"
    assert "cpoder/vectis-server:1.0" in body["message"] and "NOT stored" in body["message"]
    assert NEW not in wrong.text
    stored = runtime.registries.get(registry["id"])
    assert runtime.registries.secrets_of(stored)["password"] == OLD
    assert stored.version == registry["version"]
    assert kube.writes() == [] and copy_password(kube, registry["id"]) == OLD
    right = api.post(
        f"/api/v1/registries/{registry['id']}/rotate",
        json={"credentials": {"password": NEW}, "redeploy": True},
    )
    assert right.status_code == 200, right.text
    result = right.json()
    assert result["verified_images"] == [f"{registry_server.host}/cpoder/vectis-server:1.0"]
    assert result["clusters"] == ["prod"] and result["redeployed"] == ["prod"]
    assert copy_password(kube, registry["id"]) == NEW
    template = kube.get_object("Deployment", "vectis", "prod")["spec"]["template"]
    assert "kubectl.kubernetes.io/restartedAt" in template["metadata"]["annotations"]
    actions = [
        (e["action"], e["outcome"])
        for e in api.get("/api/v1/audit", params={"action": "registry.rotate"}).json()["items"]
    ]
    assert actions == [("registry.rotate", "success"), ("registry.rotate", "failure")]


def test_rotate_cli(run: Run, registry_server: RegistryServer) -> None:
    assert (
        run(
            "registry",
            "add",
            "private",
            "--kind",
            "generic",
            "--url",
            registry_server.host,
            "--tls-mode",
            "http",
            "--image-path",
            "cpoder/vectis-server",
            "--tag",
            "1.0",
            "--username",
            "puller",
            "--password-stdin",
            input=OLD,
        ).exit_code
        == 0
    )
    registry_server.set_user("puller", NEW)
    refused = run("registry", "rotate", "private", "--password-stdin", input="nope-" + NEW)
    assert refused.exit_code == 5 and "NOT stored" in refused.output
    done = run("registry", "rotate", "private", "--password-stdin", input=NEW)
    assert done.exit_code == 0, done.output
    assert "verified" in done.output and NEW not in done.output


def test_the_edit_dialog_verifies_new_credentials_of_a_registry_in_use(
    api: TestClient, kube: Any, runtime: Runtime, registry_server: RegistryServer
) -> None:
    from tests.conftest import ADMIN_PASSWORD
    from tests.support.pages import csrf_of, log_in
    from vectis_admin.web.app import create_app

    registry = deployed(api, kube, registry_server)
    registry_server.set_user("puller", NEW)
    with TestClient(create_app(runtime), follow_redirects=False) as browser:
        log_in(browser, ADMIN_PASSWORD)
        token = csrf_of(browser.get("/registries").text)
        form = {
            "csrf_token": token,
            "name": "private",
            "kind": "generic",
            "url": registry_server.host,
            "tls_mode": "http",
            "image_path": "cpoder/vectis-server",
            "default_tag": "1.0",
            "requires_auth": "on",
            "enabled": "on",
            "username": "puller",
            "version": str(registry["version"]),
        }
        wrong = browser.post(
            f"/registries/{registry['id']}/edit", data=form | {"credentials.password": "bad-" + NEW}
        )
        assert wrong.status_code == 409 and "NOT stored" in wrong.text
        assert runtime.registries.secrets_of(runtime.registries.get("private"))["password"] == OLD
        right = browser.post(
            f"/registries/{registry['id']}/edit", data=form | {"credentials.password": NEW}
        )
        assert right.status_code in (200, 303), right.text
    assert runtime.registries.secrets_of(runtime.registries.get("private"))["password"] == NEW
    assert copy_password(kube, registry["id"]) == NEW
