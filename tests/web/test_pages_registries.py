"""The Registries page through TestClient: cards, the Add/Edit form (plain and htmx), errors next
to their fields, default / enable / delete, CSRF on every POST, and no stored secret in any HTML."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD, READER_PASSWORD, PullRegistry
from tests.support.clock import FakeClock
from tests.support.pages import csrf_of, log_in
from tests.support.payloads import ALL_KINDS, registry_payload, secret_texts_of
from vectis_admin.domain.orchestrators import KubeAuthMode, OrchestratorKind
from vectis_admin.domain.registries import KIND_INFO, RegistryKind
from vectis_admin.runtime import Runtime
from vectis_admin.services.clusters import ClusterDraft
from vectis_admin.services.orchestrators import OrchestratorDraft
from vectis_admin.web.app import create_app

PASSWORD = "page-" + "pw-5d1e"


@pytest.fixture
def browser(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), follow_redirects=False) as client:
        log_in(client, ADMIN_PASSWORD)
        yield client


def token(client: TestClient) -> str:
    return csrf_of(client.get("/registries").text)


def htmx(client: TestClient) -> dict[str, str]:
    return {"HX-Request": "true", "X-CSRF-Token": token(client)}


def form_of(payload: dict[str, Any], **extra: str) -> dict[str, str]:
    """A registry payload as the Add form posts it (switches are present when on)."""
    data = {k: str(v) for k, v in payload.items() if k != "credentials" and not isinstance(v, bool)}
    data.update({f"credentials.{k}": v for k, v in payload.get("credentials", {}).items()})
    data.update({"requires_auth": "on", "enabled": "on"})
    return data | extra


def generic(name: str = "private", password: str = PASSWORD, **extra: str) -> dict[str, str]:
    return form_of(
        {
            "name": name,
            "kind": "generic",
            "url": "registry.example.com:5000",
            "image_path": "cpoder/vectis-server",
            "default_tag": "1.0",
            "credentials": {"username": "puller", "password": password},
        },
        **extra,
    )


def create(client: TestClient, data: dict[str, str]) -> str:
    """Create through the plain form post; returns the new registry's id."""
    response = client.post("/registries", data=data | {"csrf_token": token(client)})
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/registries#registry-")
    return location.removeprefix("/registries#registry-")


def card_of(html: str, registry_id: str) -> str:
    start = html.index(f'id="registry-{registry_id}"')
    return html[start : html.index("</article>\n</dialog>", start)]


def trigger(response: Any) -> dict[str, Any]:
    """The events an htmx answer fires (the card list listens to registries-changed)."""
    loaded: dict[str, Any] = json.loads(response.headers["HX-Trigger"])
    return loaded


# --- reading -----------------------------------------------------------------------------------


def test_empty_state_says_what_to_do(browser: TestClient) -> None:
    page = browser.get("/registries")
    assert page.status_code == 200
    assert "No registry yet" in page.text and "Test Connection" in page.text
    assert 'href="/registries/new" data-open="registry-add"' in page.text
    # The Add dialog carries every field of the original console's form, each with a label.
    for field_id in (
        "add-name",
        "add-kind",
        "add-url",
        "add-image-path",
        "add-default-tag",
        "add-credentials-username",
        "add-credentials-password",
        "add-description",
        "add-requires-auth",
        "add-is-default",
        "add-enabled",
    ):
        assert f'<label for="{field_id}"' in page.text, field_id
        assert f'id="{field_id}"' in page.text
    assert 'value="ghcr.io"' in page.text and "read:packages" in page.text
    assert re.search(r'id="add-is-default"[^>]*checked', page.text)  # the first one is default


def test_pages_need_a_session(runtime: Runtime) -> None:
    with TestClient(create_app(runtime), follow_redirects=False) as anonymous:
        assert anonymous.get("/registries").headers["location"] == "/login?next=/registries"


def test_card_shows_everything_the_operator_needs(
    browser: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    data = generic(tls_mode="http", description="lab mirror", is_default="on")
    registry_id = create(browser, data)
    clock.advance(days=91)
    card = card_of(browser.get("/registries").text, registry_id)
    assert "★" in card.split("</h3>")[0]
    for text in (
        "private",
        "Generic registry",
        "registry.example.com:5000",
        "cpoder/vectis-server",
        "<code>1.0</code>",
        "Required",
        "<code>puller</code>",
        "Enabled",
        "plain HTTP",
        "changed 91 days ago",
        "older than 90 days",
        "never tested",
        "lab mirror",
        "copied when a cluster using this registry is deployed",
    ):
        assert text in card, text
    assert runtime.registries.get(registry_id).is_default


# --- creating ----------------------------------------------------------------------------------


def test_create_with_a_plain_form_post_redirects_with_a_flash(
    browser: TestClient, runtime: Runtime
) -> None:
    registry_id = create(browser, generic())
    stored = runtime.registries.get(registry_id)
    assert (stored.name, stored.url, stored.default_tag) == (
        "private",
        "registry.example.com:5000",
        "1.0",
    )
    assert runtime.registries.secrets_of(stored)["password"] == PASSWORD
    page = browser.get("/registries")
    assert "Registry &#39;private&#39; created." in page.text
    assert f'id="registry-{registry_id}"' in page.text
    assert "No registry yet" not in page.text


def test_create_with_htmx_returns_a_blank_form_and_refreshes_the_list(
    browser: TestClient, runtime: Runtime
) -> None:
    response = browser.post("/registries", data=generic(), headers=htmx(browser))
    assert response.status_code == 200, response.text
    assert set(trigger(response)) == {"registries-changed", "registry-saved"}
    assert response.text.lstrip().startswith('<form id="add-form"')
    assert 'id="add-name" name="name" type="text" value=""' in response.text  # blank again
    assert 'id="flashes" aria-live="polite" hx-swap-oob="true"' in response.text
    assert "created" in response.text and PASSWORD not in response.text
    (stored,) = runtime.registries.list().items
    cards = browser.get("/registries/cards", headers={"HX-Request": "true"})
    assert f'id="registry-{stored.id}"' in cards.text and "<html" not in cards.text


def test_create_warnings_are_shown(browser: TestClient) -> None:
    payload = registry_payload("ghcr")
    payload["credentials"]["password"] = "not-a-github-token"
    create(browser, form_of(payload))
    assert "does not look like a GitHub token" in browser.get("/registries").text


def test_gcr_key_may_be_uploaded_as_a_file(browser: TestClient, runtime: Runtime) -> None:
    payload = registry_payload("gcr")
    key = payload["credentials"].pop("password")
    data = form_of(payload) | {"csrf_token": token(browser)}
    files = {"credentials_file.password": ("key.json", key.encode(), "application/json")}
    response = browser.post("/registries", data=data, files=files)
    assert response.status_code == 303, response.text
    (stored,) = runtime.registries.list().items
    assert json.loads(runtime.registries.secrets_of(stored)["password"]) == json.loads(key)


@pytest.mark.parametrize("with_htmx", [False, True], ids=["plain", "htmx"])
def test_validation_errors_sit_next_to_their_fields_and_nothing_is_stored(
    browser: TestClient, runtime: Runtime, with_htmx: bool
) -> None:
    payload = registry_payload("gcr", name="google")
    payload["credentials"]["password"] = '{"not": "a key", "marker": "' + PASSWORD + '"}'
    data = form_of(payload, url="https://user:pw@gcr.io", default_tag="bad tag!")
    headers = htmx(browser) if with_htmx else {}
    data["csrf_token"] = token(browser)
    response = browser.post("/registries", data=data, headers=headers)
    assert response.status_code == 422
    html = response.text
    assert PASSWORD not in html  # what was typed in a secret field is not echoed back
    assert re.search(r'id="add-url"[^>]*aria-invalid="true"', html)
    assert re.search(
        r'id="add-url-help"><span class="field-error">must not contain credentials', html
    )
    assert re.search(r'id="add-default-tag"[^>]*aria-invalid="true"', html)
    assert re.search(r'id="add-credentials-password-help"><span class="field-error">must be', html)
    assert 'value="google"' in html and 'value="bad tag!"' in html  # typed values are kept
    assert re.search(r"<option selected>_json_key</option>", html)
    assert runtime.registries.list().total == 0
    if with_htmx:
        assert html.lstrip().startswith('<form id="add-form"')
    else:  # the whole page, with the dialog open
        assert '<dialog id="registry-add" aria-labelledby="registry-add-title" open>' in html


def test_duplicate_name_is_refused_with_the_reason(browser: TestClient) -> None:
    create(browser, generic())
    refused = browser.post("/registries", data=generic(), headers=htmx(browser))
    assert refused.status_code == 409
    assert "already exists" in refused.text


# --- the kind-dependent fields -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_form_fields_follow_the_kind(browser: TestClient, kind: str) -> None:
    info = KIND_INFO[RegistryKind(kind)]
    response = browser.get(
        "/registries/form-fields", params={"kind": kind, "url": "ghcr.io"}, headers=htmx(browser)
    )
    assert response.status_code == 200
    html = response.text
    assert f'value="{info.default_url or ""}"' in html  # a default URL is replaced
    assert 'id="add-auth-block" class="auth-block" hx-swap-oob="true"' in html
    assert info.hint.replace("'", "&#39;") in html
    for spec in info.credential_fields:
        assert f'<label for="add-credentials-{spec.name.replace("_", "-")}">{spec.label}' in html
        assert spec.help.replace("'", "&#39;") in html
        if spec.secret:
            assert re.search(rf'name="credentials.{spec.name}" type="password"', html) or (
                kind == "gcr"
            )
        for choice in spec.choices:
            assert f"<option{' selected' if choice == spec.default else ''}>{choice}" in html
    assert ('name="tls_mode" value="verify"' in html) is info.detectable
    assert ('id="add-ca-bundle"' in html) is not info.detectable
    assert ('type="hidden" name="requires_auth"' in html) is info.auth_required
    if kind == "gcr":
        assert 'type="file"' in html and "<textarea" in html


def test_form_fields_keep_a_url_the_operator_typed(browser: TestClient) -> None:
    response = browser.get(
        "/registries/form-fields", params={"kind": "harbor", "url": "harbor.corp:8443"}
    )
    assert 'value="harbor.corp:8443"' in response.text
    unknown = browser.get("/registries/form-fields", params={"kind": "quay"})
    assert unknown.status_code == 422


def test_without_javascript_the_add_dialog_opens_as_a_page(browser: TestClient) -> None:
    page = browser.get("/registries/new", params={"kind": "ecr"})
    assert '<dialog id="registry-add" aria-labelledby="registry-add-title" open>' in page.text
    assert "Access key id" in page.text and "Secret access key" in page.text
    assert '<a href="/registries/new?kind=harbor">Harbor</a>' in page.text  # other kinds: links
    assert re.search(r'id="add-is-default"[^>]*checked', page.text)  # still the first registry


# --- editing -------------------------------------------------------------------------------------


def test_edit_keeps_the_secret_when_the_field_is_empty(
    browser: TestClient, runtime: Runtime
) -> None:
    registry_id = create(browser, generic())
    dialog = browser.get(f"/registries/{registry_id}/edit", headers={"HX-Request": "true"})
    assert dialog.status_code == 200
    assert dialog.text.lstrip().startswith('<dialog id="registry-edit" data-autoopen')
    assert 'value="puller"' in dialog.text and "stored" in dialog.text
    assert "change password" in dialog.text and 'name="version" value="1"' in dialog.text
    kept = generic(password="", description="now with notes", version="1")
    response = browser.post(
        f"/registries/{registry_id}/edit", data=kept | {"csrf_token": token(browser)}
    )
    assert response.status_code == 303, response.text
    stored = runtime.registries.get(registry_id)
    assert stored.description == "now with notes" and stored.version == 2
    assert runtime.registries.secrets_of(stored)["password"] == PASSWORD
    changed = generic(password="new-" + PASSWORD, version="2")
    response = browser.post(f"/registries/{registry_id}/edit", data=changed, headers=htmx(browser))
    assert response.status_code == 200 and response.headers["HX-Reswap"] == "none"
    assert set(trigger(response)) == {"registries-changed", "registry-saved"}
    stored = runtime.registries.get(registry_id)
    assert runtime.registries.secrets_of(stored)["password"] == "new-" + PASSWORD


def test_edit_errors_and_stale_versions(browser: TestClient, runtime: Runtime) -> None:
    registry_id = create(browser, generic())
    bad = generic(password="", url="not a host", version="1")
    response = browser.post(f"/registries/{registry_id}/edit", data=bad, headers=htmx(browser))
    assert response.status_code == 422
    assert re.search(r'id="edit-url"[^>]*aria-invalid="true"', response.text)
    assert "stored" in response.text  # the secret is still shown as kept
    plain = browser.post(
        f"/registries/{registry_id}/edit", data=bad | {"csrf_token": token(browser)}
    )
    assert plain.status_code == 422
    assert '<dialog id="registry-edit" data-autoopen' in plain.text and " open>" in plain.text
    stale = generic(password="", version="7")
    refused = browser.post(f"/registries/{registry_id}/edit", data=stale, headers=htmx(browser))
    assert refused.status_code == 409 and "someone else changed it" in refused.text
    assert runtime.registries.get(registry_id).version == 1


# --- default, enable / disable -------------------------------------------------------------------


def test_set_default_and_enable_disable(browser: TestClient, runtime: Runtime) -> None:
    first = create(browser, generic("first", is_default="on"))
    second = create(browser, generic("second"))
    assert (
        runtime.registries.get(first).is_default and not runtime.registries.get(second).is_default
    )
    moved = browser.post(f"/registries/{second}/default", data={"csrf_token": token(browser)})
    assert (
        moved.status_code == 303 and moved.headers["location"] == f"/registries#registry-{second}"
    )
    page = browser.get("/registries").text
    assert "second is now the default registry." in page
    assert "★" in card_of(page, second).split("</h3>")[0]
    assert "★" not in card_of(page, first).split("</h3>")[0]

    off = browser.post(
        f"/registries/{second}/enabled", data={"enabled": "false"}, headers=htmx(browser)
    )
    assert off.status_code == 200 and "registries-changed" in trigger(off)
    assert "no longer is" in off.text  # disabling the default takes its star away
    stored = runtime.registries.get(second)
    assert not stored.enabled and not stored.is_default
    card = card_of(browser.get("/registries").text, second)
    assert "Disabled" in card and "Set default" not in card and ">Enable<" in card
    refused = browser.post(f"/registries/{second}/default", headers=htmx(browser))
    assert refused.status_code == 409 and "enable it before" in refused.text
    on = browser.post(
        f"/registries/{second}/enabled", data={"enabled": "true", "csrf_token": token(browser)}
    )
    assert on.status_code == 303 and runtime.registries.get(second).enabled


# --- deleting ------------------------------------------------------------------------------------


def test_delete_is_refused_while_a_cluster_uses_the_registry(
    browser: TestClient, runtime: Runtime
) -> None:
    registry_id = create(browser, generic())
    runtime.orchestrators.create(
        OrchestratorDraft(
            name="lab",
            kind=OrchestratorKind.K3S,
            auth_mode=KubeAuthMode.TOKEN,
            api_server_url="https://k8s.example.com:6443",
            credentials={"token": "kube-" + "token-0a1b"},
        ),
        actor="test",
    )
    runtime.clusters.create(
        ClusterDraft(
            name="paris-prod",
            orchestrator="lab",
            deployment_name="vectis",
            storage_host_path="/srv/vectis",
            registry=registry_id,
        ),
        actor="test",
    )
    confirm = browser.get(f"/registries/{registry_id}/delete")  # the no-JavaScript confirmation
    assert f'<dialog id="registry-{registry_id}-delete"' in confirm.text
    assert re.search(rf'id="registry-{registry_id}-delete"[^>]* open>', confirm.text)

    refused = browser.post(
        f"/registries/{registry_id}/delete", data={"version": "1"}, headers=htmx(browser)
    )
    assert refused.status_code == 409
    assert "used by the cluster(s) paris-prod" in refused.text and "<html" not in refused.text
    plain = browser.post(
        f"/registries/{registry_id}/delete", data={"csrf_token": token(browser), "version": "1"}
    )
    assert plain.status_code == 409 and "paris-prod" in plain.text and "<html" in plain.text
    assert runtime.registries.get(registry_id)

    runtime.clusters.delete("paris-prod", actor="test")
    deleted = browser.post(
        f"/registries/{registry_id}/delete",
        data={"version": "1", "name": "private"},
        headers=htmx(browser),
    )
    assert deleted.status_code == 200 and "registries-changed" in trigger(deleted)
    assert "Registry &#39;private&#39; deleted" in deleted.text
    assert runtime.registries.list().total == 0
    assert "No registry yet" in browser.get("/registries/cards").text


def test_delete_with_a_plain_form_post(browser: TestClient, runtime: Runtime) -> None:
    registry_id = create(browser, generic())
    response = browser.post(
        f"/registries/{registry_id}/delete",
        data={"csrf_token": token(browser), "version": "1", "name": "private"},
    )
    assert response.status_code == 303 and response.headers["location"] == "/registries"
    assert "deleted" in browser.get("/registries").text
    assert runtime.registries.list().total == 0


# --- CSRF ----------------------------------------------------------------------------------------


def test_every_post_of_the_page_needs_the_csrf_token(browser: TestClient, runtime: Runtime) -> None:
    registry_id = create(browser, generic())
    paths = [
        "/registries",
        "/registries/test",
        f"/registries/{registry_id}/edit",
        f"/registries/{registry_id}/test",
        f"/registries/{registry_id}/default",
        f"/registries/{registry_id}/enabled",
        f"/registries/{registry_id}/delete",
    ]
    for path in paths:
        for headers in ({}, {"HX-Request": "true", "X-CSRF-Token": "forged"}):
            data = generic("other") | {"enabled": "false", "version": "1"}
            refused = browser.post(path, data=data, headers=headers)
            assert refused.status_code == 403, path
            assert "did not come from this console" in refused.text
    stored = runtime.registries.get(registry_id)
    assert runtime.registries.list().total == 1 and stored.enabled and stored.version == 1
    assert stored.last_check_at is None


# --- Test Connection against a real registry -----------------------------------------------------


def local(pull_registry: PullRegistry, password: str) -> dict[str, str]:
    return form_of(pull_registry.payload(password=password))


def test_test_connection_in_the_form_before_create(
    browser: TestClient, runtime: Runtime, pull_registry: PullRegistry
) -> None:
    wrong = browser.post(
        "/registries/test", data=local(pull_registry, "wrong-password"), headers=htmx(browser)
    )
    assert wrong.status_code == 200
    assert "credentials rejected" in wrong.text and "Fix:" in wrong.text
    right = browser.post(
        "/registries/test", data=local(pull_registry, READER_PASSWORD), headers=htmx(browser)
    )
    assert "Connection OK" in right.text and pull_registry.digests["1.0"] in right.text
    titles = re.findall(r"<td>([A-Z][^<]+)</td>", right.text)
    assert titles[:3] == [
        "Host name resolves",
        "Port accepts connections",
        "TLS certificate is trusted",
    ]
    assert READER_PASSWORD not in wrong.text + right.text
    assert runtime.registries.list().total == 0  # nothing stored by a test
    invalid = browser.post(
        "/registries/test", data=local(pull_registry, "") | {"url": ""}, headers=htmx(browser)
    )
    assert invalid.status_code == 422
    assert "Fix these fields before testing" in invalid.text and "URL: is required" in invalid.text
    plain = browser.post(
        "/registries/test",
        data=local(pull_registry, READER_PASSWORD) | {"csrf_token": token(browser)},
    )
    assert plain.status_code == 200 and pull_registry.digests["1.0"] in plain.text
    assert 'aria-labelledby="registry-add-title" open>' in plain.text


def test_test_connection_on_a_card(
    browser: TestClient, runtime: Runtime, pull_registry: PullRegistry
) -> None:
    registry_id = create(browser, local(pull_registry, READER_PASSWORD))
    response = browser.post(f"/registries/{registry_id}/test", headers=htmx(browser))
    assert response.status_code == 200
    assert pull_registry.digests["1.0"] in response.text
    assert f'<dd id="registry-{registry_id}-last-check" hx-swap-oob="true">' in response.text
    assert runtime.registries.get(registry_id).last_check_ok is True
    card = card_of(browser.get("/registries").text, registry_id)
    assert "passed" in card and "just now" in card
    plain = browser.post(f"/registries/{registry_id}/test", data={"csrf_token": token(browser)})
    assert plain.status_code == 200 and "Image and tag exist" in card_of(plain.text, registry_id)


# --- secrets never reach the HTML ----------------------------------------------------------------


def test_no_stored_secret_in_any_html(browser: TestClient, runtime: Runtime) -> None:
    secrets: list[str] = []
    for kind in ALL_KINDS:
        payload = registry_payload(kind)
        secrets += secret_texts_of(payload)
        create(browser, form_of(payload))
    assert len(secrets) >= len(ALL_KINDS)
    seen = [browser.get("/registries").text, browser.get("/registries/cards").text]
    for record in runtime.registries.list().items:
        kind = record.kind.value
        seen.append(
            browser.get(f"/registries/{record.id}/edit", headers={"HX-Request": "true"}).text
        )
        seen.append(browser.get(f"/registries/{record.id}/edit").text)
        seen.append(browser.get(f"/registries/{record.id}/delete").text)
        seen.append(
            browser.get(
                "/registries/form-fields",
                params={"kind": kind, "prefix": "edit", "registry": record.id},
            ).text
        )
        # A failed save shows the form again: still without the stored (or typed) secret.
        bad = {"kind": kind, "name": record.name, "url": "bad url", "version": str(record.version)}
        seen.append(
            browser.post(f"/registries/{record.id}/edit", data=bad, headers=htmx(browser)).text
        )
    assert len(seen) == 2 + 5 * len(ALL_KINDS)
    for html in seen:
        for secret in secrets:
            assert secret not in html
