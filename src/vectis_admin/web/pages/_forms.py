"""Form handling shared by the console pages: parsing, validation with the API schemas, errors
next to their fields, and the answer after an action (htmx or a plain form post)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from vectis_admin.errors import FieldIssue, InvalidInput, VectisError
from vectis_admin.web.templating import flash

__all__ = ["FormDep", "done", "field_errors", "is_htmx", "validated"]

_M = TypeVar("_M", bound=BaseModel)


def is_htmx(request: Request) -> bool:
    return bool(request.headers.get("hx-request"))


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()  # already parsed (and cached) by the CSRF check
    return {k: v for k, v in form.items() if isinstance(v, str)}


FormDep = Annotated[dict[str, str], Depends(_form)]


def validated(model: type[_M], payload: Mapping[str, Any]) -> _M:
    """Parse a form payload with the API schema; its complaints become field issues."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        issues = [
            FieldIssue(".".join(str(p) for p in e["loc"]) or "form", e["msg"]) for e in exc.errors()
        ]
        raise InvalidInput(issues) from None


def field_errors(exc: VectisError) -> dict[str, str]:
    """Field name -> rule, for errors shown next to their field ("form" for the rest)."""
    if isinstance(exc, InvalidInput):
        errors: dict[str, str] = {}
        for issue in exc.issues:
            key = issue.field.removeprefix("credentials.")
            errors[key] = f"{errors[key]}; {issue.rule}" if key in errors else issue.rule
        return errors
    return {"form": exc.message}


def done(request: Request, target: str, message: str, level: str = "success") -> Response:
    """After an action: flash and go to `target` (htmx follows HX-Redirect, forms a 303)."""
    flash(request, message, level)
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
