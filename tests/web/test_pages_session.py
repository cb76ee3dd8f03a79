"""Console pages: login, logout, session cookie flags, CSRF on every state-changing form."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD
from tests.support.pages import csrf_of
from tests.support.pages import log_in as login_form
from vectis_admin.runtime import Runtime
from vectis_admin.web.app import create_app


@pytest.fixture
def browser(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), follow_redirects=False) as client:
        yield client


def log_in(client: TestClient, password: str = ADMIN_PASSWORD, next_url: str = "/") -> str:
    return login_form(client, password, next_url=next_url)


def test_pages_require_login_and_come_back_after_it(browser: TestClient) -> None:
    first = browser.get("/?view=attention")
    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=/?view=attention"
    page = browser.get("/login")
    assert "VECTIS_ADMIN_PASSWORD" in page.text  # first start: where the password comes from
    assert log_in(browser, next_url="/?view=attention") == "/?view=attention"


def test_wrong_password_and_cookie_flags(browser: TestClient) -> None:
    token = csrf_of(browser.get("/login").text)
    refused = browser.post(
        "/login", data={"username": "admin", "password": "nope", "csrf_token": token}
    )
    assert refused.status_code == 401 and "Wrong user name or password" in refused.text
    token = csrf_of(browser.get("/login").text)
    logged = browser.post(
        "/login", data={"username": "admin", "password": ADMIN_PASSWORD, "csrf_token": token}
    )
    raw = [v for k, v in logged.headers.multi_items() if k == "set-cookie"]
    assert raw and all("samesite=lax" in v.lower() and "httponly" in v.lower() for v in raw)
    assert all("secure" not in v.lower().split(";")[-1] for v in raw)  # plain-HTTP dev default
    assert "Dashboard" in browser.get("/").text


def test_state_changing_posts_without_the_csrf_token_are_rejected(browser: TestClient) -> None:
    login_without_token = browser.post("/login", data={"username": "admin", "password": "x"})
    assert login_without_token.status_code == 403
    log_in(browser)
    for path in ("/logout",):
        refused = browser.post(path, data={})
        assert refused.status_code == 403
        assert "did not come from this console" in refused.text
        forged = browser.post(path, data={"csrf_token": "forged"})
        assert forged.status_code == 403
    assert browser.get("/").status_code == 200  # still logged in: the logout was refused
    token = csrf_of(browser.get("/").text)
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 303
    assert browser.get("/").status_code == 303


def test_no_open_redirect_after_login(browser: TestClient) -> None:
    assert log_in(browser, next_url="https://evil.example/") == "/"
    browser.cookies.clear()
    assert log_in(browser, next_url="//evil.example/") == "/"


def test_dashboard_lists_best_practice_findings(browser: TestClient, runtime: Runtime) -> None:
    from vectis_admin.domain.registries import RegistryKind
    from vectis_admin.services.registries import RegistryDraft

    runtime.registries.create(
        RegistryDraft(name="hub", kind=RegistryKind.DOCKER_HUB, requires_auth=False),
        actor="test",
    )
    log_in(browser)
    page = browser.get("/").text
    assert "Best practices" in page and "pulls from Docker Hub anonymously" in page
    assert "<title>Dashboard · Vectis Admin</title>" in page
    assert page.count('id="practices"') == 1

