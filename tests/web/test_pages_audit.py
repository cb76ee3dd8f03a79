"""Console pages `/audit` and `/tokens`, through the TestClient, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD
from tests.support.clock import FakeClock
from tests.support.pages import csrf_of, log_in
from tests.support.payloads import registry_payload, secret_texts_of
from vectis_admin.runtime import Runtime
from vectis_admin.services.registries import RegistryChanges
from vectis_admin.web.app import create_app
from vectis_admin.web.pages.audit import Change, readable_changes
from vectis_admin.web.schemas.registries import RegistryCreate

HTMX = {"HX-Request": "true"}


@pytest.fixture
def browser(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), follow_redirects=False) as client:
        yield client


@pytest.fixture
def logged_in(browser: TestClient) -> TestClient:
    assert log_in(browser, ADMIN_PASSWORD) == "/"
    return browser


def add_registry(runtime: Runtime, payload: dict[str, Any]) -> str:
    draft = RegistryCreate.model_validate(payload).to_draft()
    return runtime.registries.create(draft, actor="alice").registry.id


def rows(html: str) -> list[str]:
    """The action of each audit row, in page order."""
    return re.findall(r'data-label="Action"><code>([^<]+)</code>', html)


# --- audit ----------------------------------------------------------------------------------


def test_audit_lists_registry_changes_readably_without_secrets(
    runtime: Runtime, logged_in: TestClient, clock: FakeClock
) -> None:
    first = registry_payload("ghcr", name="gh")
    registry_id = add_registry(runtime, first)
    clock.advance(minutes=5)
    second = registry_payload("ghcr")
    runtime.registries.update(
        registry_id,
        RegistryChanges(default_tag="1.2", credentials=second["credentials"]),
        actor="bob",
    )
    clock.advance(hours=3)

    page = logged_in.get("/audit")
    assert page.status_code == 200
    html = page.text
    assert rows(html) == ["registry.update", "registry.create", "user.create"]
    assert 'aria-current="page"' in html and "<h1>Audit</h1>" in html
    assert "Showing 1–3 of 3 entries." in html
    assert ">bob<" in html and ">alice<" in html
    assert "2026-01-15 09:35:00" in html and "3 hours ago" in html  # exact time and age
    assert f'href="/registries#registry-{registry_id}">gh</a>' in html
    # field: from → to, and secrets only as the fact that they changed.
    assert '<code>default_tag</code>: <span class="from">latest</span>' in html
    assert '<span class="to">1.2</span>' in html
    assert '<code>credentials.password</code>: <span class="badge warn">changed</span>' in html
    assert '<code>credentials.password</code>: <span class="badge warn">set</span>' in html
    assert '<span class="badge ok">success</span>' in html
    for secret in secret_texts_of(first) + secret_texts_of(second):
        assert secret not in html


def test_audit_filters_by_type_action_and_target(runtime: Runtime, logged_in: TestClient) -> None:
    one = add_registry(runtime, registry_payload("ghcr", name="one"))
    add_registry(runtime, registry_payload("generic", name="two"))
    runtime.registries.update(one, RegistryChanges(description="hello"), actor="alice")

    by_type = logged_in.get("/audit", params={"target_type": "registry"}).text
    assert rows(by_type) == ["registry.update", "registry.create", "registry.create"]
    assert 'value="registry" selected' in by_type
    assert "matching the filters" in by_type
    by_action = logged_in.get("/audit", params={"action": "registry.create"}).text
    assert rows(by_action) == ["registry.create", "registry.create"]
    by_target = logged_in.get("/audit", params={"target_id": one}).text
    assert rows(by_target) == ["registry.update", "registry.create"]
    by_user = logged_in.get("/audit", params={"target_type": "user"}).text
    assert rows(by_user) == ["user.create"]
    # A plain GET form sends empty fields: they mean "any".
    blank = logged_in.get("/audit?target_type=&action=&target_id=").text
    assert len(rows(blank)) == 4
    none = logged_in.get("/audit", params={"action": "cluster.deploy"}).text
    assert rows(none) == [] and "No audit entry matches these filters" in none
    bad = logged_in.get("/audit", params={"target_type": "spaceship"})
    assert bad.status_code == 422 and "target_type" in bad.text


def test_audit_pagination(runtime: Runtime, logged_in: TestClient) -> None:
    registry_id = add_registry(runtime, registry_payload("generic", name="paged"))
    for n in range(5):
        runtime.registries.update(registry_id, RegistryChanges(description=f"d{n}"), actor="a")
    # 7 entries: user.create, registry.create, 5 × registry.update.
    first = logged_in.get("/audit", params={"limit": 3}).text
    assert len(rows(first)) == 3 and "Showing 1–3 of 7 entries." in first
    assert "Page 1 of 3" in first and "Newer" not in first
    assert 'href="/audit?limit=3&amp;offset=3"' in first
    assert '<input type="hidden" name="limit" value="3">' in first  # kept by the filter form
    last = logged_in.get("/audit", params={"limit": 3, "offset": 6}).text
    assert rows(last) == ["user.create"] and "Older" not in last
    assert 'href="/audit?limit=3&amp;offset=3"' in last and "Page 3 of 3" in last
    beyond = logged_in.get("/audit", params={"offset": 100}).text
    assert rows(beyond) == [] and "Past the last entry" in beyond
    filtered = logged_in.get("/audit", params={"action": "registry.update", "limit": 2}).text
    assert 'href="/audit?action=registry.update&amp;limit=2&amp;offset=2"' in filtered
    assert logged_in.get("/audit", params={"limit": 0}).status_code == 422


def test_audit_htmx_gets_the_results_fragment_full_gets_the_page(
    runtime: Runtime, logged_in: TestClient
) -> None:
    add_registry(runtime, registry_payload("ghcr"))
    fragment = logged_in.get("/audit", params={"action": "registry.create"}, headers=HTMX).text
    assert "<html" not in fragment and "<form" not in fragment
    assert rows(fragment) == ["registry.create"]
    assert '<p id="audit-count" hx-swap-oob="innerHTML">' in fragment
    blank = logged_in.get("/audit?target_type=&action=registry.create&target_id=", headers=HTMX)
    assert blank.headers["HX-Push-Url"] == "/audit?action=registry.create"
    full = logged_in.get("/audit", params={"action": "registry.create"}).text
    assert full.startswith("<!doctype html>") and 'hx-push-url="true"' in full
    assert 'value="registry.create"' in full  # the form shows the filter in use
    assert "hx-swap-oob" not in full
    # Back button after htmx's history cache is gone: the whole page again.
    restore = logged_in.get("/audit", headers=HTMX | {"HX-History-Restore-Request": "true"})
    assert restore.text.startswith("<!doctype html>")


def test_audit_empty_state(runtime: Runtime, browser: TestClient) -> None:
    log_in(browser, ADMIN_PASSWORD)
    html = browser.get("/audit", params={"target_type": "cluster"}).text
    assert "No entries match the filters." in html
    assert "No audit entry matches these filters" in html


@pytest.mark.parametrize(
    ("action", "changes", "expected"),
    [
        (
            "registry.update",
            {"enabled": {"from": True, "to": False}},
            [Change("enabled", "diff", "yes", "no")],
        ),
        ("registry.create", {"url": {"to": "ghcr.io"}}, [Change("url", "set", after="ghcr.io")]),
        (
            "registry.update",
            {"credentials.password": "changed"},
            [Change("credentials.password", "secret", after="changed")],
        ),
        (
            "user.reset_password",
            {"password": "changed"},
            [Change("password", "secret", after="changed")],
        ),
        (
            "registry.test",
            {"result": "ok", "failed_step": None},
            [Change("result", "value", after="ok"), Change("failed_step", "value", after="(none)")],
        ),
        (
            "registry.namespaces",
            {"from": [], "to": [["o1", "ns-a"]]},
            [Change("namespaces", "diff", "(none)", "o1/ns-a")],
        ),
        (
            "keys.rotate",
            {"reencrypted_registries": 2},
            [Change("reencrypted_registries", "value", after="2")],
        ),
    ],
)
def test_readable_changes(action: str, changes: dict[str, Any], expected: list[Change]) -> None:
    assert readable_changes(action, changes) == expected


# --- API tokens -----------------------------------------------------------------------------


def create_token(client: TestClient, name: str, ttl_days: str = "") -> str:
    token = csrf_of(client.get("/tokens").text)
    response = client.post(
        "/tokens", data={"name": name, "ttl_days": ttl_days, "csrf_token": token}
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert "you will not see it again" in response.text
    match = re.search(r'id="new-token" readonly value="(vxa_[^"]+)"', response.text)
    assert match, "the new token is not shown"
    return match.group(1)


def test_token_is_shown_once_authenticates_and_revoke_locks_it_out(
    logged_in: TestClient, runtime: Runtime
) -> None:
    empty = logged_in.get("/tokens").text
    assert "No API tokens yet" in empty and "<h1>API tokens</h1>" in empty
    secret = create_token(logged_in, "ci-deploy", ttl_days="30")
    bearer = {"Authorization": f"Bearer {secret}"}
    assert logged_in.get("/api/v1/registries", headers=bearer).status_code == 200

    listing = logged_in.get("/tokens").text
    assert secret not in listing
    assert "ci-deploy" in listing and f"<code>{secret[:10]}…</code>" in listing
    assert '<span class="badge ok">active</span>' in listing
    assert "2026-02-14" in listing  # expires in 30 days (the fake clock starts 2026-01-15)
    assert "just now" in listing  # last used: by the API call above
    [token_id] = [t.id for t in runtime.accounts.list_tokens("admin")]

    revoked = logged_in.post(f"/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(listing)})
    assert revoked.status_code == 303 and revoked.headers["location"] == "/tokens"
    assert logged_in.get("/api/v1/registries", headers=bearer).status_code == 401
    after = logged_in.get("/tokens").text
    assert "revoked: requests using it are now refused" in after  # the flash
    assert '<span class="badge bad">revoked just now</span>' in after
    assert f"/tokens/{token_id}/revoke" not in after  # nothing left to revoke
    again = logged_in.post(f"/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(after)})
    assert again.status_code == 404


def test_tokens_with_htmx_answer_the_result_slot_and_the_list(logged_in: TestClient) -> None:
    csrf = {"X-CSRF-Token": csrf_of(logged_in.get("/tokens").text)}
    created = logged_in.post("/tokens", data={"name": "laptop"}, headers=HTMX | csrf)
    assert created.status_code == 200
    html = created.text
    assert "<html" not in html and 'hx-history="false"' in html
    assert '<section id="token-list"' in html and 'hx-swap-oob="true"' in html
    assert "Never expires" in html
    [secret] = re.findall(r'value="(vxa_[^"]+)"', html)
    assert html.count(secret) == 1  # in the copy box only; the list shows the prefix
    token_id = re.findall(r'/tokens/([0-9a-f-]+)/revoke"', html)[0]
    revoked = logged_in.post(f"/tokens/{token_id}/revoke", headers=HTMX | csrf)
    assert revoked.status_code == 200 and 'role="status"' in revoked.text
    assert "“laptop” revoked" in revoked.text and "revoked just now" in revoked.text
    invalid = logged_in.post("/tokens", data={"name": "", "ttl_days": "0"}, headers=HTMX | csrf)
    assert invalid.status_code == 422 and 'id="error-box"' in invalid.text
    assert "ttl_days" in invalid.text and "name" in invalid.text


def test_tokens_of_another_user_cannot_be_revoked_from_the_page(
    logged_in: TestClient, runtime: Runtime
) -> None:
    runtime.accounts.reset_password(username="bob", password="bob-password-1234", actor="t")
    other = runtime.accounts.create_token(username="bob", name="bobs", ttl_days=None, actor="bob")
    assert "bobs" not in logged_in.get("/tokens").text
    csrf = csrf_of(logged_in.get("/tokens").text)
    refused = logged_in.post(f"/tokens/{other.record.id}/revoke", data={"csrf_token": csrf})
    assert refused.status_code == 404
    assert runtime.accounts.authenticate_token(other.token) == "bob"


# --- session and CSRF -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/audit", "/tokens", "/audit?action=registry.create"])
def test_pages_require_login(browser: TestClient, path: str) -> None:
    response = browser.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"
    htmx = browser.get(path, headers=HTMX)
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login?next=")


def test_every_post_needs_the_csrf_token(logged_in: TestClient, runtime: Runtime) -> None:
    new = runtime.accounts.create_token(username="admin", name="keep", ttl_days=None, actor="t")
    for path, data in (
        ("/tokens", {"name": "sneaky"}),
        (f"/tokens/{new.record.id}/revoke", {}),
    ):
        assert logged_in.post(path, data=data).status_code == 403
        assert logged_in.post(path, data=data | {"csrf_token": "forged"}).status_code == 403
        forged_header = logged_in.post(path, data=data, headers=HTMX | {"X-CSRF-Token": "x"})
        assert forged_header.status_code == 403
    assert [t.name for t in runtime.accounts.list_tokens("admin")] == ["keep"]
    assert runtime.accounts.authenticate_token(new.token) == "admin"  # not revoked


def test_audit_filters_by_actor(api: TestClient, runtime: Runtime) -> None:
    api.post("/api/v1/tokens", json={"name": "by-admin"})
    by_admin = api.get("/api/v1/audit", params={"actor": "admin"}).json()
    assert by_admin["total"] >= 1 and {e["actor"] for e in by_admin["items"]} == {"admin"}
    assert api.get("/api/v1/audit", params={"actor": "nobody"}).json()["total"] == 0
    from vectis_admin.web.app import create_app

    with TestClient(create_app(runtime), follow_redirects=False) as browser:
        log_in(browser, ADMIN_PASSWORD)
        page = browser.get("/audit", params={"actor": "nobody"}).text
        results = page.split('<div id="audit-results">')[1]
        assert 'value="nobody"' in page and "token.create" not in results


def test_audit_page_filters_by_day(
    logged_in: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    browser = logged_in
    add_registry(runtime, registry_payload("ghcr", name="monday"))
    clock.advance(days=2)
    add_registry(runtime, registry_payload("ghcr", name="wednesday"))
    day = clock.now().date().isoformat()
    response = browser.get("/audit", params={"since": day, "until": day})
    assert response.status_code == 200
    page = response.text
    results = page.split('<div id="audit-results">')[1]
    assert "wednesday" in results and "monday" not in results
    assert f'value="{day}"' in page
    assert browser.get("/audit", params={"since": "not-a-day"}).status_code == 422
