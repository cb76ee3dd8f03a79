"""The one mapping from our exceptions to HTTP responses (status + JSON body).

Bodies are built from our own messages and from field locations and rules — never from the
submitted values, which may be secrets.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from vectis_admin.errors import (
    AuthenticationFailed,
    Conflict,
    FieldIssue,
    InvalidInput,
    NotFound,
    UpstreamError,
    VectisError,
)

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


def install_error_handlers(app: FastAPI) -> None:
    async def on_vectis_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, VectisError)
        headers = None
        if isinstance(exc, AuthenticationFailed):
            headers = {"WWW-Authenticate": 'Basic realm="vectis-admin", charset="UTF-8"'}
        return JSONResponse(error_body(exc), status_code=status_for(exc), headers=headers)

    async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        issues = [FieldIssue(_field_of(tuple(e["loc"])), str(e["msg"])) for e in exc.errors()]
        return JSONResponse(error_body(InvalidInput(issues)), status_code=422)

    app.add_exception_handler(VectisError, on_vectis_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
