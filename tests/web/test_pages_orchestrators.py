"""The Orchestrators page through TestClient (plain forms and htmx), against the Kubernetes
emulator, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD, basic, orchestrator_payload
from tests.support.pages import csrf_of, log_in
from vectis_admin.runtime import Runtime
from vectis_admin.web.app import create_app


@pytest.fixture
def browser(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), follow_redirects=False) as client:
        log_in(client, ADMIN_PASSWORD)
        yield client


def token_of(client: TestClient) -> str:
    return csrf_of(client.get("/orchestrators").text)


def htmx(client: TestClient) -> dict[str, str]:
    return {"HX-Request": "true", "X-CSRF-Token": token_of(client)}


def token_form(kube: Any, name: str = "k3s-lab", **extra: str) -> dict[str, str]:
    return {
        "name": name,
        "kind": "K3S",
        "auth_mode": "token",
        "api_server_url": kube.base_url,
        "token": kube.token,
        "supports_load_balancer": "on",
        "enabled": "on",
    } | extra


def create_via_api(client: TestClient, kube: Any, name: str = "k3s-lab") -> dict[str, Any]:
    response = client.post(
        "/api/v1/orchestrators",
        json=orchestrator_payload(kube, name=name),
        headers=basic("admin", ADMIN_PASSWORD),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_empty_state_then_create_with_the_plain_form(browser: TestClient, kube: Any) -> None:
    empty = browser.get("/orchestrators")
    assert empty.status_code == 200 and "No orchestrator yet" in empty.text
    form = token_form(kube, metallb_range="10.0.0.240-10.0.0.250")
    created = browser.post("/orchestrators", data=form | {"csrf_token": token_of(browser)})
    assert created.status_code == 303 and created.headers["location"] == "/orchestrators"
    page = browser.get("/orchestrators").text
    assert "Orchestrator k3s-lab added." in page  # the flash
    assert "plain HTTP" in page  # the service's warning, flashed too
    assert "No orchestrator yet" not in page
    for shown in ("k3s-lab", "K3S", "Bearer token", kube.base_url, "insecure", "10.0.0.240"):
        assert shown in page
    assert "never tested" in page
    assert kube.token not in page  # write-only: not even in the Edit dialog


def test_htmx_create_redirects_and_invalid_input_is_shown_next_to_the_fields(
    browser: TestClient, runtime: Runtime, kube: Any
) -> None:
    bad = token_form(kube, api_server_url="", metallb_range="not-a-range")
    refused = browser.post("/orchestrators", data=bad, headers=htmx(browser))
    assert refused.status_code == 422
    html = refused.text
    assert 'id="e-new-api_server_url"' in html and "is required for token access" in html
    assert 'id="e-new-metallb_range"' in html and "not an address range" in html
    assert 'aria-invalid="true"' in html
    assert kube.token not in html  # the secret typed in is not sent back
    assert 'value="k3s-lab"' in html  # the rest is kept
    assert runtime.orchestrators.list().total == 0
    plain = browser.post("/orchestrators", data=bad | {"csrf_token": token_of(browser)})
    assert plain.status_code == 422 and "<dialog" in plain.text and "open" in plain.text
    assert runtime.orchestrators.list().total == 0
    ok = browser.post("/orchestrators", data=token_form(kube), headers=htmx(browser))
    assert ok.status_code == 204 and ok.headers["HX-Redirect"] == "/orchestrators"
    assert [o.name for o in runtime.orchestrators.list().items] == ["k3s-lab"]


def test_only_the_chosen_modes_fields_are_used(
    browser: TestClient, runtime: Runtime, kube: Any
) -> None:
    kubeconfig = yaml.safe_dump(kube.kubeconfig())
    form = {
        "name": "kc",
        "kind": "K8S",
        "auth_mode": "kubeconfig",
        "kubeconfig": kubeconfig,
        "kubeconfig_context": "emulator",
        "token": "left-over-from-the-token-mode",  # hidden field of another mode: ignored
        "api_server_url": "https://ignored.example",
        "enabled": "on",
    }
    created = browser.post("/orchestrators", data=form, headers=htmx(browser))
    assert created.status_code == 204, created.text
    record = runtime.orchestrators.get("kc")
    assert record.secret_field_names == ["kubeconfig"] and record.api_server_url is None
    assert record.supports_load_balancer is False  # unchecked switch
    page = browser.get("/orchestrators").text
    assert "context emulator" in page and "apiVersion" not in page.split("<dialog")[0]
    report = browser.post(f"/orchestrators/{record.id}/test", headers=htmx(browser))
    assert "Connection OK" in report.text


def test_edit_keeps_an_empty_secret_and_detects_stale_versions(
    browser: TestClient, runtime: Runtime, kube: Any
) -> None:
    created = create_via_api(browser, kube)
    page = browser.get(f"/orchestrators?edit={created['id']}").text
    assert f'id="orchestrator-dialog-{created["id"]}"' in page
    assert "leave empty to keep it" in page and kube.token not in page
    form = token_form(kube, token="", description="lab in Paris", version="1")
    saved = browser.post(f"/orchestrators/{created['id']}", data=form, headers=htmx(browser))
    assert saved.status_code == 204, saved.text
    record = runtime.orchestrators.get(created["id"])
    assert record.description == "lab in Paris" and record.secret_field_names == ["token"]
    assert runtime.orchestrators.test(record.id, actor="t").ok  # the kept token still works
    stale = browser.post(f"/orchestrators/{created['id']}", data=form, headers=htmx(browser))
    assert stale.status_code == 409 and "someone else changed it" in stale.text


def test_test_connection_fragment_ok_then_a_missing_permission(
    browser: TestClient, kube: Any
) -> None:
    created = create_via_api(browser, kube)
    ok = browser.post(f"/orchestrators/{created['id']}/test", headers=htmx(browser))
    assert ok.status_code == 200
    assert "Connection OK" in ok.text and "create deployments" in ok.text
    assert "missing" not in ok.text and kube.token not in ok.text
    kube.deny("create", "roles")
    denied = browser.post(f"/orchestrators/{created['id']}/test", headers=htmx(browser)).text
    assert "Rights missing" in denied
    assert '<span class="badge bad">missing</span> create roles' in denied
    page = browser.get("/orchestrators").text
    assert "failed" in page and "missing rights in namespace default" in page  # last test
    kube.refuse()
    down = browser.post(f"/orchestrators/{created['id']}/test", headers=htmx(browser)).text
    assert "Unreachable" in down and "API server unreachable" in down
    kube.resume()
    kube.reset_faults()  # the denial too
    plain = browser.post(
        f"/orchestrators/{created['id']}/test", data={"csrf_token": token_of(browser)}
    )
    assert plain.status_code == 303
    assert "may deploy Vectis" in browser.get("/orchestrators").text  # flashed


def test_delete_is_refused_while_a_cluster_uses_it(
    browser: TestClient, runtime: Runtime, kube: Any
) -> None:
    created = create_via_api(browser, kube)
    cluster = browser.post(
        "/api/v1/clusters",
        json={
            "name": "paris",
            "orchestrator": created["id"],
            "deployment_name": "vectis",
            "storage_host_path": "/srv/vectis",
            "image": "ghcr.io/cpoder/vectis-server:latest",
        },
        headers=basic("admin", ADMIN_PASSWORD),
    ).json()
    refused = browser.post(f"/orchestrators/{created['id']}/delete", headers=htmx(browser))
    assert refused.status_code == 409
    assert "still hosts the cluster(s) paris" in refused.text and "Refused" in refused.text
    runtime.clusters.delete(cluster["id"], actor="t")
    deleted = browser.post(
        f"/orchestrators/{created['id']}/delete", data={"csrf_token": token_of(browser)}
    )
    assert deleted.status_code == 303
    assert "Orchestrator k3s-lab deleted." in browser.get("/orchestrators").text
    assert runtime.orchestrators.list().total == 0


def test_every_post_needs_the_csrf_token(browser: TestClient, kube: Any) -> None:
    created = create_via_api(browser, kube)
    for path in (
        "/orchestrators",
        f"/orchestrators/{created['id']}",
        f"/orchestrators/{created['id']}/test",
        f"/orchestrators/{created['id']}/delete",
    ):
        assert browser.post(path, data=token_form(kube)).status_code == 403, path
        forged = browser.post(path, headers={"HX-Request": "true", "X-CSRF-Token": "forged"})
        assert forged.status_code == 403, path
    assert (
        browser.get(
            f"/api/v1/orchestrators/{created['id']}", headers=basic("admin", ADMIN_PASSWORD)
        ).json()["version"]
        == 1
    )  # nothing changed


def test_pages_require_a_session(runtime: Runtime) -> None:
    with TestClient(create_app(runtime), follow_redirects=False) as anonymous:
        assert anonymous.get("/orchestrators").headers["location"] == "/login?next=/orchestrators"
