"""Console sessions for the pages: a signed cookie, a CSRF token per session, page auth.

The cookie (Starlette's SessionMiddleware, signed with a key kept 0600 in the data directory)
holds only the user name, the CSRF token and the login time — never a secret of a registry.
Every state-changing page request must carry the session's CSRF token, as a form field
(`csrf_token`) or, for htmx requests, an `X-CSRF-Token` header.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

__all__ = [
    "PageUser",
    "SessionUser",
    "csrf_token",
    "load_session_key",
    "login_session",
    "logout_session",
    "require_csrf",
]


class LoginRequired(Exception):
    """Raised by page dependencies; turned into a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class CsrfRejected(Exception):
    """A state-changing page request without the session's CSRF token."""


def load_session_key(path: Path) -> str:
    """The cookie-signing key: created once (0600), then read."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def login_session(request: Request, username: str) -> None:
    request.session.clear()  # a new session on login: no fixation
    request.session.update({"user": username, "csrf": secrets.token_urlsafe(32)})


def logout_session(request: Request) -> None:
    request.session.clear()


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def current_user(request: Request) -> str:
    user = request.session.get("user")
    if not user:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(quote(target, safe="/?=&"))
    return str(user)


PageUser = Annotated[str, Depends(current_user)]


async def require_csrf(request: Request) -> None:
    expected = request.session.get("csrf")
    given = request.headers.get("x-csrf-token")
    if given is None:
        form = await request.form()
        value = form.get("csrf_token")
        given = value if isinstance(value, str) else None
    if not expected or not given or not hmac.compare_digest(str(expected), given):
        raise CsrfRejected()


async def session_user_with_csrf(request: Request) -> str:
    user = current_user(request)
    await require_csrf(request)
    return user


# For POST/PUT/DELETE page routes: logged in *and* carrying the CSRF token.
SessionUser = Annotated[str, Depends(session_user_with_csrf)]
