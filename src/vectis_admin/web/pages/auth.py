"""Login and logout pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from vectis_admin.errors import AuthenticationFailed
from vectis_admin.web.deps import AccountsDep
from vectis_admin.web.sessions import login_session, logout_session, require_csrf
from vectis_admin.web.templating import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect after login would hand a phishing page a session.
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    if request.session.get("user"):
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "pages/login.html", {"next_url": _safe_next(next)})


@router.post("/login", dependencies=[Depends(require_csrf)])
def login(
    request: Request,
    accounts: AccountsDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        user = accounts.authenticate_password(username, password)
    except AuthenticationFailed:
        return render(
            request,
            "pages/login.html",
            {"error": "Wrong user name or password.", "username": username, "next_url": next},
            status_code=401,
        )
    login_session(request, user)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(require_csrf)])
def logout(request: Request) -> Response:
    logout_session(request)
    return RedirectResponse("/login", status_code=303)
