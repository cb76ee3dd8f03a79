"""Jinja2 for the console pages: one environment, helpers every template may use."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from vectis_admin import __version__
from vectis_admin.web.sessions import csrf_token

__all__ = ["TEMPLATES_DIR", "STATIC_DIR", "flash", "make_templates", "render"]

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

NAVIGATION = (
    ("dashboard", "Dashboard", "/"),
    ("clusters", "Clusters", "/clusters"),
    ("orchestrators", "Orchestrators", "/orchestrators"),
    ("registries", "Registries", "/registries"),
    ("audit", "Audit", "/audit"),
)


def _age(moment: datetime | None, now: datetime | None = None) -> str:
    """ "3 days ago" style, for cards and tables."""
    if moment is None:
        return "never"
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "just now"


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.globals.update(csrf_token=csrf_token, navigation=NAVIGATION, version=__version__)
    env.filters["age"] = _age
    return templates


def flash(request: Request, message: str, level: str = "success") -> None:
    """A message shown once on the next page (htmx fragments show theirs inline)."""
    # Assign a new list: the session only notices assignments, not in-place appends.
    item = {"level": level, "message": message}
    request.session["flash"] = [*request.session.get("flash", []), item]


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    values = {"user": request.session.get("user"), **(context or {})}
    if not request.headers.get("hx-request"):
        values["flashes"] = request.session.pop("flash", [])
    return templates.TemplateResponse(
        request, template, values, status_code=status_code, headers=headers
    )
