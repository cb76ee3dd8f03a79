"""Audit and API tokens in a real browser: filter with htmx, see a token once, revoke it."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Console, log_in, screenshot
from tests.support.payloads import registry_payload, secret_texts_of
from vectis_admin.web.schemas.registries import RegistryCreate


def test_audit_filter_and_token_lifecycle(page: Page, console: Console) -> None:
    payload = registry_payload("ghcr", name="ghcr-main")
    draft = RegistryCreate.model_validate(payload).to_draft()
    console.runtime.registries.create(draft, actor="admin")
    log_in(page)

    page.get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", name="Audit", exact=True)).to_be_visible()
    page.get_by_label("Action").fill("registry.create")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/audit\?action=registry\.create$"))  # hx-push-url
    expect(page.locator("#audit-count")).to_contain_text("Showing 1–1 of 1 entry")
    row = page.locator(".audit-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("ghcr-main")
    expect(row).to_contain_text("credentials.password: set")
    html = page.content()
    assert all(secret not in html for secret in secret_texts_of(payload))
    screenshot(page, "audit")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "audit-phone")
    page.set_viewport_size({"width": 1366, "height": 860})

    page.locator(".user-menu summary").click()
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_text("No API tokens yet")).to_be_visible()
    page.get_by_label("Name").fill("ci-deploy")
    page.get_by_label("Expires after (days, optional)").fill("90")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("you will not see it again")).to_be_visible()
    token = page.get_by_label("Your new API token").input_value()
    assert token.startswith("vxa_")
    expect(page.locator("#token-list")).to_contain_text("ci-deploy")
    expect(page.get_by_label("Name")).to_have_value("")  # the form is reset for the next one
    api = f"{console.url}/api/v1/registries"
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(api, headers=bearer, trust_env=False).status_code == 200
    screenshot(page, "tokens")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "tokens-phone")
    page.set_viewport_size({"width": 1366, "height": 860})

    page.reload()  # seen once: afterwards only the prefix
    expect(page.locator("#token-list")).to_contain_text(token[:10])
    assert token not in page.content()

    page.get_by_role("button", name="Revoke token ci-deploy").click()
    page.get_by_role("button", name="Revoke “ci-deploy”").click()
    expect(page.get_by_role("status")).to_contain_text("“ci-deploy” revoked")
    expect(page.locator("#token-list .badge.bad")).to_contain_text("revoked")
    assert httpx.get(api, headers=bearer, trust_env=False).status_code == 401
