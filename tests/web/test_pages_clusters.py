"""The Clusters pages through TestClient (plain forms and htmx): Add Cluster with the registry's
own tags, Deploy, status, pods, logs, manifests and Delete, against the Kubernetes emulator and
a real token-auth registry, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import (
    ADMIN_PASSWORD,
    READER_PASSWORD,
    PullRegistry,
    basic,
    orchestrator_payload,
)
from tests.support.net import free_port
from tests.support.pages import csrf_of, log_in
from vectis_admin.runtime import Runtime
from vectis_admin.web.app import create_app

API = basic("admin", ADMIN_PASSWORD)


def elect(kube: Any, namespace: str, pod: str) -> None:
    """What a Vectis server does when it wins the election: label its own pod leader."""
    response = httpx.patch(
        f"{kube.base_url}/api/v1/namespaces/{namespace}/pods/{pod}",
        json={"metadata": {"labels": {"vectis.io/role": "leader"}}},
        headers=kube.auth_headers | {"Content-Type": "application/merge-patch+json"},
    )
    response.raise_for_status()


@pytest.fixture
def browser(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), follow_redirects=False) as client:
        log_in(client, ADMIN_PASSWORD)
        yield client


def htmx(client: TestClient) -> dict[str, str]:
    return {"HX-Request": "true", "X-CSRF-Token": csrf_of(client.get("/clusters").text)}


def api_create(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/api/v1/{path}", json=body, headers=API)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@pytest.fixture
def setup(browser: TestClient, kube: Any, pull_registry: PullRegistry) -> dict[str, Any]:
    """An orchestrator on the emulator, the real registry (default) and a second one."""
    return {
        "orchestrator": api_create(browser, "orchestrators", orchestrator_payload(kube)),
        "other": api_create(
            browser,
            "registries",
            {
                "name": "ghcr",
                "kind": "ghcr",
                "image_path": "cpoder/vectis-server",
                "requires_auth": False,
            },
        ),  # fmt: skip
        "registry": api_create(
            browser, "registries", pull_registry.payload() | {"is_default": True}
        ),
    }


def cluster_form(setup: dict[str, Any], **extra: str) -> dict[str, str]:
    return {
        "name": "paris-prod",
        "environment": "PRODUCTION",
        "orchestrator": setup["orchestrator"]["id"],
        "namespace": "vectis-prod",
        "create_namespace": "on",
        "deployment_name": "vectis",
        "replicas": "3",
        "storage_host_path": "/srv/vectis",
        "storage_size": "5Gi",
        "vectis_port": "5000",
        "registry": setup["registry"]["id"],
        "tag": "1.1",
    } | extra


def test_empty_list_and_the_form_preselects_the_default_registry(
    browser: TestClient, setup: dict[str, Any]
) -> None:
    page = browser.get("/clusters").text
    assert "No Vectis cluster yet" in page
    selected = re.findall(r'<option value="([^"]*)" selected>', page)
    assert setup["registry"]["id"] in selected  # the default registry
    assert setup["orchestrator"]["name"] in page and "ghcr" in page
    assert "Add an orchestrator" not in page
    assert 'hx-get="/clusters/tags"' in page


def test_the_tag_field_offers_the_registrys_own_tags(
    browser: TestClient, setup: dict[str, Any], pull_registry: PullRegistry
) -> None:
    fragment = browser.get(
        "/clusters/tags", params={"registry": setup["registry"]["id"]}, headers=htmx(browser)
    )
    assert fragment.status_code == 200
    options = re.findall(r'<option value="([^"]+)"', fragment.text)
    assert options == list(pull_registry.tags)  # 1.0, 1.1, arm-only, latest
    assert '<option value="1.0" selected>' in fragment.text  # the registry's default tag
    assert "4 tags read from local" in fragment.text
    kept = browser.get(
        "/clusters/tags", params={"registry": setup["registry"]["id"], "tag": "latest"}
    )
    assert '<option value="latest" selected>' in kept.text
    public = browser.get("/clusters/tags", params={"registry": ""}).text
    assert "No registry: give the full public image reference" in public


def test_an_unreachable_registry_is_said_clearly(browser: TestClient) -> None:
    down = api_create(
        browser,
        "registries",
        {"name": "down", "kind": "generic", "url": f"127.0.0.1:{free_port()}",
         "tls_mode": "http", "image_path": "a/b", "requires_auth": False},
    )  # fmt: skip
    fragment = browser.get("/clusters/tags", params={"registry": down["id"]}).text
    assert "Could not read the tags of down" in fragment and "refused" in fragment
    assert '<input id="c-tag" name="tag"' in fragment  # a tag can still be typed


def test_invalid_input_is_shown_and_nothing_stored(
    browser: TestClient, runtime: Runtime, setup: dict[str, Any]
) -> None:
    too_many = browser.post(
        "/clusters", data=cluster_form(setup, replicas="11"), headers=htmx(browser)
    )
    assert too_many.status_code == 422 and 'id="ce-replicas"' in too_many.text
    bad = cluster_form(setup, deployment_name="Not_Valid")
    refused = browser.post("/clusters", data=bad, headers=htmx(browser))
    assert refused.status_code == 422 and 'id="ce-deployment_name"' in refused.text
    assert 'aria-invalid="true" aria-describedby="ce-deployment_name"' in refused.text
    assert 'value="paris-prod"' in refused.text  # what was typed is kept
    wrong_host = cluster_form(setup, image="docker.io/other/image:1", tag="")
    plain = browser.post("/clusters", data=wrong_host | {"csrf_token": csrf_of(refused.text)})
    assert plain.status_code == 422 and 'id="ce-image"' in plain.text and "<dialog" in plain.text
    assert "not in the registry local" in plain.text
    assert runtime.clusters.list().total == 0


def test_create_deploy_observe_and_delete(
    browser: TestClient, runtime: Runtime, setup: dict[str, Any], kube: Any
) -> None:
    created = browser.post("/clusters", data=cluster_form(setup), headers=htmx(browser))
    assert created.status_code == 204, created.text
    cluster_id = created.headers["HX-Redirect"].rsplit("/", 1)[1]
    cluster = runtime.clusters.get(cluster_id)
    assert cluster.image == f"{setup['registry']['url']}/cpoder/vectis-server:1.1"
    detail = browser.get(f"/clusters/{cluster_id}").text
    assert "Cluster paris-prod created." in detail and "NOT DEPLOYED" in detail
    assert "the cluster is not deployed" in detail
    listed = browser.get("/clusters").text
    assert "paris-prod" in listed and "NOT DEPLOYED" in listed and "PRODUCTION" in listed

    deployed = browser.post(
        f"/clusters/{cluster_id}/deploy", data={"force": "0"}, headers=htmx(browser)
    )
    assert deployed.status_code == 200 and deployed.headers["HX-Trigger"] == "pods-changed"
    assert 'data-state="DEPLOYED"' in deployed.text and 'data-health="UNHEALTHY"' in deployed.text
    assert "No pod yet" in browser.get(f"/clusters/{cluster_id}/pods").text

    kube.complete_rollout("vectis-prod", "vectis")
    pods = browser.get(f"/clusters/{cluster_id}/pods").text
    assert pods.count('<span class="badge ok">ready</span>') == 3
    names = re.findall(r'<tr id="pod-([^"]+)"', pods)
    assert len(names) == 3 and "node-1" in pods and "10.244." in pods
    health = browser.get(f"/clusters/{cluster_id}/health").text
    assert 'data-health="HEALTHY"' in health and "3/3 ready" in health

    elect(kube, "vectis-prod", names[2])
    kube.image_pull_failure("vectis-prod", names[0])
    kube.set_pod_log("vectis-prod", names[1], "line 1\nline 2\nline 3\n")
    pods = browser.get(f"/clusters/{cluster_id}/pods").text
    row = pods.split(f'<tr id="pod-{names[0]}">')[1].split("</tr>")[0]
    assert "ImagePullBackOff" in row and "Back-off pulling image" in row and "not ready" in row
    assert "cannot pull its image" in pods  # the troubleshooting hint
    leader = pods.split(f'<tr id="pod-{names[2]}">')[1].split("</tr>")[0]
    assert 'aria-label="leader">★' in leader and pods.count("★") == 1
    logs = browser.get(f"/clusters/{cluster_id}/logs", params={"pod": names[1], "lines": 2})
    assert logs.status_code == 200 and "line 2\nline 3" in logs.text and "line 1" not in logs.text
    waiting = browser.get(f"/clusters/{cluster_id}/logs", params={"pod": names[0]}).text
    assert "Could not read the logs" in waiting
    stranger = browser.get(f"/clusters/{cluster_id}/logs", params={"pod": "not-mine"}).text
    assert "is not a pod of cluster" in stranger

    detail = browser.get(f"/clusters/{cluster_id}", params={"pod": names[1], "lines": 2}).text
    assert 'data-state="DEPLOYED"' in detail and "line 3" in detail  # logs without JavaScript
    # One pod cannot pull: the cluster is degraded (2 of 3 ready), whatever the Deployment says.
    assert "ImagePullBackOff" in detail and 'data-health="DEGRADED"' in detail
    manifests = detail.split('<pre class="manifests"')[1].split("</pre>")[0]
    assert "Deployment" in manifests and f"registry-secret-{setup['registry']['id']}" in manifests
    assert ".dockerconfigjson" not in manifests and READER_PASSWORD not in detail

    forced = browser.post(
        f"/clusters/{cluster_id}/deploy", data={"force": "1"}, headers=htmx(browser)
    )
    assert 'data-state="DEPLOYED"' in forced.text

    in_use = browser.delete(f"/api/v1/registries/{setup['registry']['id']}", headers=API)
    assert in_use.status_code == 409 and "paris-prod" in in_use.json()["message"]

    deleted = browser.post(f"/clusters/{cluster_id}/delete", headers=htmx(browser))
    assert deleted.status_code == 204 and deleted.headers["HX-Redirect"] == "/clusters"
    after = browser.get("/clusters").text
    assert "Cluster paris-prod deleted" in after and "No Vectis cluster yet" in after
    assert kube.get_object("Deployment", "vectis", "vectis-prod") is None
    assert browser.get(f"/clusters/{cluster_id}").status_code == 404


def test_plain_forms_deploy_failure_and_delete(
    browser: TestClient, runtime: Runtime, setup: dict[str, Any], kube: Any
) -> None:
    token = csrf_of(browser.get("/clusters").text)
    created = browser.post("/clusters", data=cluster_form(setup) | {"csrf_token": token})
    assert created.status_code == 303
    detail_url = created.headers["location"]
    assert "Cluster paris-prod created." in browser.get(detail_url).text
    kube.refuse()
    failed = browser.post(f"{detail_url}/deploy", data={"csrf_token": token, "force": "0"})
    assert failed.status_code == 303
    page = browser.get(detail_url).text
    assert "Deploy of paris-prod failed" in page and 'data-state="FAILED"' in page
    assert "Could not list the pods" in page  # the page still reads
    kube.resume()
    assert browser.post(f"{detail_url}/deploy", data={"csrf_token": token}).status_code == 303
    assert "Cluster paris-prod deployed." in browser.get(detail_url).text
    gone = browser.post(f"{detail_url}/delete", data={"csrf_token": token})
    assert gone.status_code == 303 and gone.headers["location"] == "/clusters"
    assert runtime.clusters.list().total == 0


def test_every_post_needs_the_csrf_token(
    browser: TestClient, runtime: Runtime, setup: dict[str, Any]
) -> None:
    cluster = api_create(
        browser,
        "clusters",
        {"name": "c", "orchestrator": setup["orchestrator"]["id"], "deployment_name": "v",
         "storage_host_path": "/srv/v", "registry": setup["registry"]["id"]},
    )  # fmt: skip
    for path in (
        "/clusters",
        f"/clusters/{cluster['id']}/deploy",
        f"/clusters/{cluster['id']}/delete",
    ):
        assert browser.post(path, data=cluster_form(setup)).status_code == 403, path
        forged = browser.post(path, headers={"HX-Request": "true", "X-CSRF-Token": "forged"})
        assert forged.status_code == 403, path
    assert runtime.clusters.get(cluster["id"]).deployment_state.value == "NOT_DEPLOYED"
    assert runtime.clusters.list().total == 1


def test_no_stored_secret_in_any_page(
    browser: TestClient, setup: dict[str, Any], kube: Any
) -> None:
    cluster = api_create(
        browser,
        "clusters",
        {"name": "c", "orchestrator": setup["orchestrator"]["id"], "namespace": "ns",
         "deployment_name": "v", "storage_host_path": "/srv/v",
         "registry": setup["registry"]["id"], "replicas": 1},
    )  # fmt: skip
    cid, oid = cluster["id"], setup["orchestrator"]["id"]
    deployed = browser.post(f"/clusters/{cid}/deploy", headers=htmx(browser))
    assert deployed.status_code == 200
    kube.complete_rollout("ns", "v")
    pages = [
        browser.get(path).text
        for path in (
            "/",
            "/clusters",
            "/clusters?new",
            f"/clusters/{cid}",
            f"/clusters/{cid}/status",
            f"/clusters/{cid}/pods",
            f"/clusters/tags?registry={setup['registry']['id']}",
            "/orchestrators",
            f"/orchestrators?edit={oid}",
        )
    ]
    pages.append(browser.post(f"/orchestrators/{oid}/test", headers=htmx(browser)).text)
    pages.append(deployed.text)
    for html in pages:
        assert READER_PASSWORD not in html and kube.token not in html
