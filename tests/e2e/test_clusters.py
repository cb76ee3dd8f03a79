"""The seed's whole story in a real browser, against a real registry and the Kubernetes emulator:
add a registry (a wrong password first: "credentials rejected"), add an orchestrator, create a
cluster from the registry's own tags, deploy, watch the pods, read a pod's pull failure and
logs, try to delete the registry (refused, naming the cluster), delete the cluster, then it."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import READER_PASSWORD, PullRegistry
from tests.e2e.conftest import Console, add_registry_through_the_dialog, log_in, screenshot

NAMESPACE = "vectis-e2e"


def elect(kube: Any, namespace: str, pod: str) -> None:
    """What a Vectis server does when it wins the election: label its own pod leader."""
    response = httpx.patch(
        f"{kube.base_url}/api/v1/namespaces/{namespace}/pods/{pod}",
        json={"metadata": {"labels": {"vectis.io/role": "leader"}}},
        headers=kube.auth_headers | {"Content-Type": "application/merge-patch+json"},
    )
    response.raise_for_status()


def test_orchestrator_cluster_deploy_pods_and_delete(
    page: Page, console: Console, kube: Any, pull_registry: PullRegistry
) -> None:
    log_in(page)
    add_registry_through_the_dialog(
        page,
        name="local",
        host=pull_registry.host,
        password=READER_PASSWORD,
        test_first_with="wrong-password",
    )
    registry = console.runtime.registries.get("local")

    # --- an orchestrator through the page -------------------------------------------------
    page.goto("/orchestrators")
    expect(page.get_by_role("heading", name="No orchestrator yet")).to_be_visible()
    page.locator("#orchestrator-empty").get_by_role("button", name="Add Orchestrator").click()
    dialog = page.locator("#orchestrator-dialog-new")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Name", exact=True).fill("k3s-lab")
    dialog.get_by_label("Type").select_option("K3S")
    dialog.get_by_label("Authentication").select_option("token")
    expect(dialog.get_by_label("Kubeconfig content")).to_be_hidden()  # other modes' fields
    dialog.get_by_label("API server URL").fill(kube.base_url)
    dialog.get_by_label("Bearer token").fill(kube.token)
    screenshot(page, "orchestrator-form")
    dialog.get_by_role("button", name="Create").click()
    card = page.locator("article.orchestrator", has_text="k3s-lab")
    expect(card).to_be_visible()
    expect(page.locator("#flashes")).to_contain_text("Orchestrator k3s-lab added.")
    card.get_by_role("button", name="Test Connection").click()
    expect(card.locator(".test-result")).to_contain_text("Connection OK")
    expect(card.locator(".permissions li")).to_have_count(8)
    expect(card.locator("dd", has_text="passed just now")).to_be_visible()  # out of band
    screenshot(page, "orchestrators")

    # --- a cluster from the registry's own tags ------------------------------------------
    page.goto("/clusters")
    expect(page.get_by_role("heading", name="No Vectis cluster yet")).to_be_visible()
    page.locator("#cluster-empty").get_by_role("button", name="Add Cluster").click()
    form = page.locator("#cluster-form")
    expect(form.get_by_label("Container Registry")).to_have_value(registry.id)  # the default
    tag = form.locator("select#c-tag")  # replaces the text field once the tags are read
    expect(tag.locator("option")).to_have_text(list(pull_registry.tags))
    expect(tag).to_have_value("1.0")  # the registry's default tag
    tag.select_option("1.1")
    form.get_by_label("Name", exact=True).fill("paris-prod")
    form.get_by_label("Environment").select_option("PRODUCTION")
    form.get_by_label("Namespace", exact=True).fill(NAMESPACE)
    form.get_by_label("Deployment name").fill("vectis")
    form.get_by_label("Storage host path").fill("/srv/vectis")
    screenshot(page, "cluster-form")
    form.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"/clusters/[0-9a-f-]{36}$"))
    expect(page.locator("#flashes")).to_contain_text("Cluster paris-prod created.")
    expect(page.locator("dd", has_text="cpoder/vectis-server:1.1")).to_be_visible()

    # --- deploy, then the pods appear ----------------------------------------------------
    page.get_by_role("button", name="Deploy", exact=True).click()
    expect(page.locator('#cluster-status [data-state="DEPLOYED"]')).to_be_visible()
    kube.complete_rollout(NAMESPACE, "vectis")
    page.get_by_role("button", name="Refresh").click()
    rows = page.locator("#pods tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.locator(".badge.ok")).to_have_count(3)
    pods = [row.get_attribute("id") or "" for row in rows.all()]
    failing, talking = (p.removeprefix("pod-") for p in pods[:2])
    kube.image_pull_failure(NAMESPACE, failing)
    elect(kube, NAMESPACE, talking)
    kube.set_pod_log(NAMESPACE, talking, "starting Vectis\nleader elected\n")
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator(f"#pod-{failing} td.status")).to_contain_text("ImagePullBackOff")
    expect(page.locator(f"#pod-{talking} .star")).to_have_attribute("aria-label", "leader")
    page.locator(f"#pod-{talking}").get_by_role("link", name="Logs").click()
    expect(page.locator("#logs pre")).to_contain_text("leader elected")
    # One pod cannot pull: the cluster is degraded, whatever the Deployment reports.
    expect(page.locator('#cluster-status [data-health="DEGRADED"]')).to_be_visible()
    screenshot(page, "cluster-detail")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "cluster-detail-phone")
    page.set_viewport_size({"width": 1366, "height": 860})
    detail_url = page.url

    page.goto("/clusters")
    expect(page.locator('#cluster-list [data-health="DEGRADED"]')).to_be_visible()  # lazy
    screenshot(page, "clusters")

    # --- the registry cannot go while the cluster uses it; the cluster can ----------------
    page.goto("/registries")
    card = page.locator("article.registry", has_text="local")
    card.get_by_role("button", name="Delete").click()
    card.get_by_role("button", name="Delete local").click()
    expect(page.locator("#registry-delete-error, .flash-error").first).to_contain_text("paris-prod")
    page.goto(detail_url)
    page.locator("#cluster-actions summary", has_text="Delete").click()
    page.get_by_role("button", name="Delete paris-prod").click()
    expect(page).to_have_url(re.compile(r"/clusters$"))
    expect(page.locator("#flashes")).to_contain_text("Cluster paris-prod deleted")
    expect(page.get_by_role("heading", name="No Vectis cluster yet")).to_be_visible()
    assert kube.get_object("Deployment", "vectis", NAMESPACE) is None
    page.goto("/registries")
    card = page.locator("article.registry", has_text="local")
    card.get_by_role("button", name="Delete").click()
    card.get_by_role("button", name="Delete local").click()
    expect(card).to_have_count(0)
    assert console.runtime.registries.list().total == 0
