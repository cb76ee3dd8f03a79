"""The one mapping from our exceptions to HTTP responses (status + JSON body).

Bodies are built from our own messages and from field locations and rules — never from the
submitted values, which may be secrets.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.responses import Response

from vectis_admin.errors import (
    AuthenticationFailed,
    Conflict,
    FieldIssue,
    InvalidInput,
    NotFound,
    UpstreamError,
    VectisError,
)
from vectis_admin.web.sessions import CsrfRejected, LoginRequired
from vectis_admin.web.templating import render

__all__ = ["install_error_handlers", "status_for"]

_STATUS: list[tuple[type[VectisError], int]] = [
    (InvalidInput, 422),
    (NotFound, 404),
    (Conflict, 409),
    (AuthenticationFailed, 401),
    (UpstreamError, 502),
]


def status_for(exc: VectisError) -> int:
    return next((code for cls, code in _STATUS if isinstance(exc, cls)), 500)


def error_body(exc: VectisError) -> dict[str, object]:
    body: dict[str, object] = {"error": exc.code, "message": exc.message}
    if isinstance(exc, InvalidInput):
        body["issues"] = [{"field": i.field, "rule": i.rule} for i in exc.issues]
    if isinstance(exc, Conflict):
        body["reason"] = exc.reason
    return body


def _field_of(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _is_page(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def _page_error(request: Request, exc: VectisError, status: int) -> Response:
    """The same mapping for pages: an htmx fragment, or a full error page."""
    context = {
        "title": {422: "Invalid input", 404: "Not found", 409: "Refused"}.get(status, "Error"),
        "message": exc.message,
        "issues": exc.issues if isinstance(exc, InvalidInput) else [],
    }
    template = "partials/error.html" if request.headers.get("hx-request") else "pages/error.html"
    return render(request, template, context, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    async def on_login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        target = f"/login?next={exc.next_url}"
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    async def on_csrf_rejected(request: Request, exc: Exception) -> Response:
        refused = VectisError("the form has expired or did not come from this console; reload")
        return _page_error(request, refused, 403)

    app.add_exception_handler(LoginRequired, on_login_required)
    app.add_exception_handler(CsrfRejected, on_csrf_rejected)

    async def on_vectis_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, VectisError)
        if _is_page(request):
            return _page_error(request, exc, status_for(exc))
        headers = None
        if isinstance(exc, AuthenticationFailed):
            headers = {"WWW-Authenticate": 'Basic realm="vectis-admin", charset="UTF-8"'}
        return JSONResponse(error_body(exc), status_code=status_for(exc), headers=headers)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        issues = [FieldIssue(_field_of(tuple(e["loc"])), str(e["msg"])) for e in exc.errors()]
        if _is_page(request):
            return _page_error(request, InvalidInput(issues), 422)
        return JSONResponse(error_body(InvalidInput(issues)), status_code=422)

    app.add_exception_handler(VectisError, on_vectis_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
