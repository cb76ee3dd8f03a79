"""End-to-end fixtures: the console served by uvicorn on loopback, driven by Debian's Chromium.

Playwright's own browser download is never used (no internet here): it drives /usr/bin/chromium
with the launch arguments TESTING.md §4 lists. Screenshots go to artifacts/screenshots/ (git
ignored); a few are copied to docs/screenshots/ for the README.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import ADMIN_PASSWORD
from tests.support.net import free_port
from vectis_admin.runtime import Runtime, open_runtime
from vectis_admin.settings import Settings
from vectis_admin.web.app import create_app

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@dataclass
class Console:
    url: str
    runtime: Runtime


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    """A fresh console (own SQLite database) served on a free loopback port."""
    settings = Settings(
        data_dir=tmp_path / "data",
        admin_password=ADMIN_PASSWORD,  # type: ignore[arg-type]
    )
    runtime = open_runtime(settings)
    runtime.accounts.ensure_admin(username="admin", password=ADMIN_PASSWORD)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the console did not start"
        time.sleep(0.02)
    try:
        yield Console(url=f"http://127.0.0.1:{port}", runtime=runtime)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        runtime.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    # Module scope: Playwright's sync API keeps an event loop running in the main thread
    # while it lives, which other tests' asyncio.run() calls must not meet.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser, console: Console) -> Iterator[Page]:
    context = chromium.new_context(base_url=console.url, viewport={"width": 1366, "height": 860})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def add_registry_through_the_dialog(
    page: Page, *, name: str, host: str, password: str, test_first_with: str | None = None
) -> None:
    """Registries → Add Registry → fill in (generic kind, plain HTTP local registry) → Create.

    With `test_first_with`, Test Connection runs first with that (wrong) password and must say
    "credentials rejected"; then with the right one it must pass.
    """
    page.goto("/registries")
    page.locator(".page-head").get_by_role("button", name="Add Registry").click()
    dialog = page.locator("#registry-add")
    expect(dialog).to_be_visible()
    dialog.get_by_label(re.compile("^Name")).fill(name)
    dialog.get_by_label("Type").select_option("generic")
    expect(dialog.get_by_label("TLS mode")).to_be_visible()
    dialog.get_by_label("URL").fill(host)
    dialog.get_by_label("TLS mode").select_option("http")
    dialog.get_by_label("Image path").fill("cpoder/vectis-server")
    dialog.get_by_label("Default tag").fill("1.0")
    dialog.get_by_label("User name").fill("reader")
    result = dialog.locator("#add-test-result")
    if test_first_with is not None:
        dialog.get_by_label("Password").fill(test_first_with)
        dialog.get_by_role("button", name="Test Connection").click()
        expect(result).to_contain_text("credentials rejected")
    dialog.get_by_label("Password").fill(password)
    dialog.get_by_role("button", name="Test Connection").click()
    expect(result).to_contain_text("Connection OK")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("article.registry", has_text=name)).to_be_visible()
