"""Helpers for page tests through FastAPI's TestClient (no browser)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

__all__ = ["csrf_of", "log_in"]


def csrf_of(html: str) -> str:
    """The CSRF token a page embeds in its forms."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def log_in(client: TestClient, password: str, *, next_url: str = "/") -> str:
    """Log in through the form; returns where the console redirected to."""
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": "admin", "password": password, "csrf_token": token, "next": next_url},
        follow_redirects=False,
    )
    return str(response.headers.get("location", response.status_code))
