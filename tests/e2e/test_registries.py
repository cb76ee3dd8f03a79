"""The seed's story in a real browser: Registries → Add Registry → fill in → Test Connection →
Create, against a real token-auth registry; then Test Connection on the new card."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.conftest import READER_PASSWORD, PullRegistry
from tests.e2e.conftest import Console, log_in, screenshot
from vectis_admin.domain.registries import RegistryKind
from vectis_admin.services.registries import RegistryDraft


def test_add_a_registry_test_it_create_it(
    page: Page, console: Console, pull_registry: PullRegistry
) -> None:
    # The public registry of the seed, already there: the new one joins it in the list.
    console.runtime.registries.create(
        RegistryDraft(
            name="GitHub Registry",
            kind=RegistryKind.GHCR,
            image_path="cpoder/vectis-server",
            is_default=True,
            credentials={"username": "my-github-user", "password": "ghp_" + "x" * 36},
        ),
        actor="e2e",
    )
    log_in(page)
    page.get_by_role("link", name="Registries").click()
    expect(page.locator("article.registry")).to_have_count(1)

    page.locator(".page-head").get_by_role("button", name="Add Registry").click()
    dialog = page.locator("#registry-add")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("URL")).to_have_value("ghcr.io")  # GHCR comes first
    expect(dialog.locator(".kind-hint")).to_contain_text("read:packages")
    dialog.get_by_label(re.compile("^Name")).fill("local-registry")
    dialog.get_by_label("Type").select_option("generic")  # htmx brings that kind's fields
    expect(dialog.get_by_label("TLS mode")).to_be_visible()
    expect(dialog.get_by_label("URL")).to_have_value("")
    dialog.get_by_label("URL").fill(pull_registry.host)
    dialog.get_by_label("TLS mode").select_option("http")
    dialog.get_by_label("Image path").fill("cpoder/vectis-server")
    dialog.get_by_label("Default tag").fill("1.0")
    dialog.get_by_label("User name").fill("reader")
    dialog.get_by_label("Password").fill("wrong-password")

    result = dialog.locator("#add-test-result")
    dialog.get_by_role("button", name="Test Connection").click()
    expect(result).to_contain_text("credentials rejected")
    expect(result.locator(".step-credentials .mark")).to_have_text("✗")
    page.set_viewport_size({"width": 1366, "height": 2500})  # the whole dialog in the picture
    dialog.locator("article").evaluate("article => article.scrollTo(0, 0)")
    screenshot(page, "registry-form")
    page.set_viewport_size({"width": 1366, "height": 860})

    dialog.get_by_label("Password").fill(READER_PASSWORD)
    dialog.get_by_role("button", name="Test Connection").click()
    expect(result).to_contain_text("Connection OK")
    expect(result).to_contain_text(pull_registry.digests["1.0"])

    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_be_hidden()
    card = page.locator("article.registry", has_text="local-registry")
    expect(card).to_be_visible()
    expect(card).to_contain_text(pull_registry.host)
    expect(card).to_contain_text("plain HTTP")
    expect(card).to_contain_text("never tested")
    expect(page.locator("#flashes")).to_contain_text("Registry 'local-registry' created.")
    screenshot(page, "registries")

    card.get_by_role("button", name="Test Connection").click()
    expect(card.locator(".check")).to_contain_text(pull_registry.digests["1.0"])
    expect(card.locator("dd[id$='-last-check']")).to_contain_text("passed")
    screenshot(page, "registry-test")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    screenshot(page, "registries-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll

    # Edit: the stored password stays unless changed; Save closes the dialog, the card updates.
    page.set_viewport_size({"width": 1366, "height": 860})
    card.get_by_role("button", name="Edit").click()
    editor = page.locator("#registry-edit")
    expect(editor).to_be_visible()
    expect(editor.get_by_text("change password")).to_be_visible()
    editor.get_by_label("Description").fill("Local mirror for the e2e tests")
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_be_hidden()
    expect(card).to_contain_text("Local mirror for the e2e tests")

    # Delete, confirmed in a dialog: the card goes away.
    github = page.locator("article.registry", has_text="GitHub Registry")
    github.get_by_role("button", name="Delete").click()
    github.get_by_role("button", name="Delete GitHub Registry").click()
    expect(github).to_have_count(0)
    expect(page.locator("#flashes")).to_contain_text("'GitHub Registry' deleted")
