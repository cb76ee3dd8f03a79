"""Console pages: the audit trail (`/audit`) and the user's API tokens (`/tokens`).

Both live here because they are the two views of the same bookkeeping: who may act (tokens)
and what was done (audit). The audit page shows what the store holds — for secret fields that
is only "set" or "changed" — so nothing here can reveal a credential. A new API token is shown
exactly once, in the response to its creation, and never stored anywhere the console can read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field, field_validator
from starlette.responses import Response

from vectis_admin.services.accounts import NewToken
from vectis_admin.services.ports import AuditEntry
from vectis_admin.web.deps import AccountsDep, AuditDep, NowDep
from vectis_admin.web.pages._forms import is_htmx
from vectis_admin.web.sessions import PageUser, SessionUser
from vectis_admin.web.templating import flash, render

__all__ = ["AuditFilters", "Change", "TokenForm", "readable_changes", "router"]

router = APIRouter(include_in_schema=False)

TargetType = Literal["registry", "orchestrator", "cluster", "user", "api_token", "keyring"]
TARGET_TYPES: tuple[str, ...] = get_args(TargetType)
# Suggestions for the action field: the audit service has no "distinct actions" query.
KNOWN_ACTIONS = (
    "registry.create",
    "registry.update",
    "registry.delete",
    "registry.set_default",
    "registry.test",
    "registry.test_unsaved",
    "registry.namespaces",
    "registry.sync",
    "orchestrator.create",
    "orchestrator.update",
    "orchestrator.delete",
    "orchestrator.test",
    "cluster.create",
    "cluster.update",
    "cluster.deploy",
    "cluster.delete",
    "user.create",
    "user.reset_password",
    "token.create",
    "token.revoke",
    "keys.rotate",
)
PAGE_SIZE = 50
NO_STORE = {"Cache-Control": "no-store"}  # a page holding a fresh token must not be cached


def _blank_to_none(value: Any) -> Any:
    # A plain GET form sends empty fields as "": they mean "no filter".
    return (value.strip() or None) if isinstance(value, str) else value


class AuditFilters(BaseModel):
    """The audit page's query string; every field optional."""

    target_type: TargetType | None = None
    action: str | None = Field(default=None, max_length=100)
    actor: str | None = Field(default=None, max_length=200)
    target_id: str | None = Field(default=None, max_length=100)
    since: date | None = None  # first day shown (UTC)
    until: date | None = None  # last day shown, included
    limit: int = Field(default=PAGE_SIZE, ge=1, le=500)
    offset: int = Field(default=0, ge=0)

    _blank = field_validator(
        "target_type", "action", "actor", "target_id", "since", "until", mode="before"
    )(_blank_to_none)

    @property
    def active(self) -> bool:
        return bool(
            self.target_type
            or self.action
            or self.actor
            or self.target_id
            or self.since
            or self.until
        )

    @property
    def window(self) -> tuple[datetime | None, datetime | None]:
        """The days as a [start, end) interval of UTC instants."""
        start = datetime.combine(self.since, time.min, UTC) if self.since else None
        end = (
            datetime.combine(self.until, time.min, UTC) + timedelta(days=1) if self.until else None
        )
        return start, end

    def pager(self, total: int) -> dict[str, str | None]:
        """The newer/older page URLs around this one (None at either end)."""
        newer = self.url(offset=max(self.offset - self.limit, 0)) if self.offset else None
        more = self.offset + self.limit < total
        return {
            "newer_url": newer,
            "older_url": self.url(offset=self.offset + self.limit) if more else None,
        }

    def url(self, *, offset: int) -> str:
        """This filter's page URL at another offset (pagination links)."""
        params: dict[str, str | int] = {
            k: v
            for k, v in (
                ("target_type", self.target_type),
                ("action", self.action),
                ("actor", self.actor),
                ("target_id", self.target_id),
                ("since", self.since.isoformat() if self.since else None),
                ("until", self.until.isoformat() if self.until else None),
            )
            if v
        }
        if self.limit != PAGE_SIZE:
            params["limit"] = self.limit
        if offset:
            params["offset"] = offset
        return "/audit" + (f"?{urlencode(params)}" if params else "")


@dataclass(frozen=True)
class Change:
    """One line of an audit entry's changes, ready to print."""

    field: str
    kind: Literal["diff", "set", "secret", "value"]
    before: str = ""
    after: str = ""


SECRET_MARKS = ("set", "changed")


def _text(value: Any) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        parts = ["/".join(map(str, v)) if isinstance(v, list | tuple) else _text(v) for v in value]
        return ", ".join(parts) or "(none)"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items()) or "(none)"
    return str(value)


def readable_changes(action: str, changes: Mapping[str, Any]) -> list[Change]:
    """`field: from → to` lines for an entry's changes, whatever shape the service recorded.

    Shapes found in the store: {field: {"from", "to"}} (updates), {field: {"to"}} (creates),
    {"credentials.x": "set" | "changed"} (secrets: only the fact), {field: value} (tests, syncs)
    and a bare {"from", "to"} (namespaces), named after the action.
    """
    if set(changes) == {"from", "to"}:
        changes = {action.rsplit(".", 1)[-1]: changes}
    lines = []
    for name, value in changes.items():
        if isinstance(value, Mapping) and set(value) <= {"from", "to"} and "to" in value:
            if "from" in value:
                lines.append(Change(name, "diff", _text(value["from"]), _text(value["to"])))
            else:
                lines.append(Change(name, "set", after=_text(value["to"])))
        elif name.startswith("credentials.") or name == "password":
            mark = value if value in SECRET_MARKS else "changed"
            lines.append(Change(name, "secret", after=mark))
        else:
            lines.append(Change(name, "value", after=_text(value)))
    return lines


@dataclass(frozen=True)
class AuditLine:
    entry: AuditEntry
    changes: Sequence[Change]


@router.get("/audit")
def audit_page(
    request: Request,
    user: PageUser,
    audit: AuditDep,
    now: NowDep,
    filters: Annotated[AuditFilters, Query()],
) -> Response:
    page = audit.list(
        target_type=filters.target_type,
        target_id=filters.target_id,
        action=filters.action,
        actor=filters.actor,
        since=filters.window[0],
        until=filters.window[1],
        limit=filters.limit,
        offset=filters.offset,
    )
    lines = [AuditLine(e, readable_changes(e.action, e.changes)) for e in page.items]
    context = {
        "active": "audit",
        "page": page,
        "lines": lines,
        "filters": filters,
        "filtered": filters.active,
        "now": now,
        "target_types": TARGET_TYPES,
        "known_actions": KNOWN_ACTIONS,
        **filters.pager(page.total),
    }
    # htmx swaps the results only; a history restore (cache miss) needs the whole page.
    if is_htmx(request) and not request.headers.get("hx-history-restore-request"):
        # The canonical URL (no empty fields) goes into the address bar, not the raw form.
        canonical = {"HX-Push-Url": filters.url(offset=filters.offset)}
        return render(
            request, "partials/audit_results.html", context | {"oob": True}, headers=canonical
        )
    return render(request, "pages/audit.html", context)


class TokenForm(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    ttl_days: int | None = Field(default=None, ge=1, le=3650)

    _blank = field_validator("ttl_days", mode="before")(_blank_to_none)


def _tokens(
    request: Request,
    accounts: AccountsDep,
    user: str,
    now: NowDep,
    *,
    new: NewToken | None = None,
    notice: str | None = None,
) -> Response:
    """The token page, or for htmx its result slot plus the refreshed list (out of band)."""
    context = {
        "active": "tokens",
        "tokens": accounts.list_tokens(user),
        "now": now,
        "new": new,
        "notice": notice,
    }
    if is_htmx(request):
        return render(request, "partials/token_result.html", context, headers=NO_STORE)
    return render(request, "pages/tokens.html", context, headers=NO_STORE)


@router.get("/tokens")
def tokens_page(request: Request, user: PageUser, accounts: AccountsDep, now: NowDep) -> Response:
    return _tokens(request, accounts, user, now)


@router.post("/tokens")
def create_token(
    request: Request,
    user: SessionUser,
    accounts: AccountsDep,
    now: NowDep,
    form: Annotated[TokenForm, Form()],
) -> Response:
    new = accounts.create_token(username=user, name=form.name, ttl_days=form.ttl_days, actor=user)
    return _tokens(request, accounts, user, now, new=new)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, token_id: str, user: SessionUser, accounts: AccountsDep, now: NowDep
) -> Response:
    revoked = accounts.revoke_token(token_id, username=user, actor=user)
    notice = f"Token “{revoked.name}” revoked: requests using it are now refused."
    if is_htmx(request):
        return _tokens(request, accounts, user, now, notice=notice)
    flash(request, notice)
    return RedirectResponse("/tokens", status_code=303)
