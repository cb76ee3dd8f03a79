"""The Registries page: cards, the Add/Edit dialog, Test Connection, default, enable, delete.

Every action answers htmx with a fragment (and an `HX-Trigger` that refreshes the card list), and
a plain form post with a redirect and a flash, so the page works without JavaScript too. Forms
are re-rendered from what was typed, minus the secrets: a stored or submitted secret is never
written into HTML.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from vectis_admin.domain.checks import StepStatus
from vectis_admin.domain.registries import KIND_INFO, KindInfo, RegistryKind, TlsMode, kind_info
from vectis_admin.errors import FieldIssue, InvalidInput
from vectis_admin.runtime import Runtime
from vectis_admin.services.ports import SecretCopy
from vectis_admin.services.registries import RegistryChanges, RegistryDraft
from vectis_admin.web.deps import ChecksDep, NowDep, PullSecretsDep, RegistriesDep, RuntimeDep
from vectis_admin.web.pages._forms import is_htmx
from vectis_admin.web.schemas.registries import RegistryPublic
from vectis_admin.web.sessions import PageUser, SessionUser
from vectis_admin.web.templating import flash, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

CREDENTIAL_MAX_AGE_DAYS = 90  # the seed's "rotate tokens every 90 days"
REFRESH = "registries-changed"  # event the card list listens to (hx-trigger ... from:body)
SAVED = "registry-saved"  # event the page script closes the dialog on
_SWITCHES = ("requires_auth", "is_default", "enabled")
_LABELS = {
    "name": "Name",
    "kind": "Type",
    "url": "URL",
    "image_path": "Image path",
    "default_tag": "Default tag",
    "requires_auth": "Requires authentication",
    "is_default": "Default registry",
    "enabled": "Enabled",
    "tls_mode": "TLS mode",
    "ca_bundle": "CA bundle",
    "description": "Description",
    "credentials": "Credentials",
    "image": "Image",
}
KINDS = tuple(KIND_INFO.values())
STATUS_MARKS = {
    StepStatus.PASSED: ("✓", "ok", "passed"),
    StepStatus.FAILED: ("✗", "bad", "failed"),
    StepStatus.WARNING: ("!", "warn", "warning"),
    StepStatus.SKIPPED: ("–", "", "skipped"),
}


@dataclass(kw_only=True)
class RegistryForm:
    """What the Add or Edit form shows: typed values (never secrets) and errors by field."""

    prefix: str  # "add" or "edit": ids stay unique with both dialogs in the page
    action: str
    kind: RegistryKind
    values: dict[str, str] = field(default_factory=dict)
    switches: dict[str, bool] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    registry: RegistryPublic | None = None  # Edit: what is stored (which secrets are set)

    @property
    def info(self) -> KindInfo:
        return kind_info(self.kind)

    @property
    def secrets_set(self) -> list[str]:
        same_kind = self.registry is not None and self.registry.kind is self.kind
        return self.registry.secret_fields_set if same_kind and self.registry else []

    @property
    def fields(self) -> set[str]:
        names = {f"credentials.{f.name}" for f in kind_info(self.kind).credential_fields}
        return names | set(_LABELS) - {"image"}

    @property
    def other_errors(self) -> list[str]:
        """Errors of fields the form does not show (named in a box above the fields)."""
        return [
            f"{label_of(self.kind, name)}: {rule}"
            for name, rules in self.errors.items()
            if name not in self.fields
            for rule in rules
        ]

    def with_issues(self, issues: list[FieldIssue]) -> RegistryForm:
        for issue in issues:
            self.errors.setdefault(issue.field, []).append(issue.rule)
        return self


def label_of(kind: RegistryKind, name: str) -> str:
    if name.startswith("credentials."):
        spec = kind_info(kind).credential_field(name.removeprefix("credentials."))
        return spec.label if spec else name
    return _LABELS.get(name, name)


# --- reading forms ---------------------------------------------------------------------------


def _kind(value: str | None) -> RegistryKind:
    try:
        return RegistryKind(value or "")
    except ValueError:
        choices = ", ".join(k.value for k in RegistryKind)
        raise InvalidInput.one("kind", f"must be one of {choices}") from None


def _tls(value: str | None) -> TlsMode:
    try:
        return TlsMode(value or TlsMode.VERIFY.value)
    except ValueError:
        raise InvalidInput.one("tls_mode", "must be verify, skip-verify or http") from None


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


async def _credentials(form: FormData, kind: RegistryKind, *, auth: bool) -> dict[str, str]:
    """The kind's credential fields; a key file (GCR) stands in for an empty text field.

    Hidden credential fields of an anonymous registry are ignored, not an error. Uploaded files
    are closed here: no route declares them, so FastAPI would not.
    """
    values: dict[str, str] = {}
    for spec in kind_info(kind).credential_fields if auth else ():
        value = form.get(f"credentials.{spec.name}")
        text = value if isinstance(value, str) else ""
        upload = form.get(f"credentials_file.{spec.name}")
        if not text.strip() and isinstance(upload, UploadFile) and upload.filename:
            text = (await upload.read()).decode("utf-8", errors="replace")
        if text.strip():
            values[spec.name] = text
    for _, item in form.multi_items():
        if isinstance(item, UploadFile):
            await item.close()
    return values


def _typed(form: FormData, *, prefix: str, action: str) -> RegistryForm:
    """The form as submitted, for showing it again: secret fields are left out."""
    value = form.get("kind")
    kinds = {k.value: k for k in RegistryKind}
    kind = (
        kinds.get(value, RegistryKind.GENERIC) if isinstance(value, str) else RegistryKind.GENERIC
    )
    secret = {f"credentials.{f.name}" for f in kind_info(kind).credential_fields if f.secret}
    values = {
        name: value
        for name, value in form.multi_items()
        if isinstance(value, str) and name not in secret and name not in _SWITCHES
    }
    switches = {name: name in form for name in _SWITCHES}
    return RegistryForm(prefix=prefix, action=action, kind=kind, values=values, switches=switches)


async def _draft(form: FormData) -> RegistryDraft:
    kind = _kind(_text(form, "kind"))
    auth = "requires_auth" in form
    return RegistryDraft(
        name=_text(form, "name"),
        kind=kind,
        url=_text(form, "url") or None,
        image_path=_text(form, "image_path") or None,
        default_tag=_text(form, "default_tag") or "latest",
        requires_auth=auth,
        is_default="is_default" in form,
        enabled="enabled" in form,
        description=_text(form, "description"),
        credentials=await _credentials(form, kind, auth=auth),
        tls_mode=_tls(_text(form, "tls_mode")),
        ca_bundle=_text(form, "ca_bundle") or None,
    )


def _brings_new_secret(changes: RegistryChanges) -> bool:
    kind = changes.kind
    if kind is None or not changes.credentials:
        return False
    secret = {f.name for f in kind_info(kind).credential_fields if f.secret}
    return any(changes.credentials.get(name) for name in secret)


async def _changes(form: FormData) -> RegistryChanges:
    """Blank secret fields mean "keep the stored value" (the service merges them)."""
    kind = _kind(_text(form, "kind"))
    auth = "requires_auth" in form
    version = _text(form, "version")
    credentials = await _credentials(form, kind, auth=auth)
    return RegistryChanges(
        name=_text(form, "name"),
        kind=kind,
        url=_text(form, "url") or None,
        image_path=_text(form, "image_path"),
        default_tag=_text(form, "default_tag") or "latest",
        requires_auth=auth,
        enabled="enabled" in form,
        description=_text(form, "description"),
        credentials=credentials if auth else None,
        tls_mode=_tls(_text(form, "tls_mode")),
        ca_bundle=_text(form, "ca_bundle"),
        expected_version=int(version) if version.isdigit() else None,
    )


def _blank_form(*, first: bool, kind: RegistryKind = RegistryKind.GHCR) -> RegistryForm:
    info = kind_info(kind)
    return RegistryForm(
        prefix="add",
        action="/registries",
        kind=kind,
        values={"url": info.default_url or "", "default_tag": "latest", "tls_mode": "verify"},
        # The first registry is the one clusters will pick: make it the default at once.
        switches={"requires_auth": True, "is_default": first, "enabled": True},
    )


def _edit_form(registry: RegistryPublic) -> RegistryForm:
    values = {
        "name": registry.name,
        "kind": registry.kind.value,
        "url": registry.url,
        "image_path": registry.image_path or "",
        "default_tag": registry.default_tag,
        "description": registry.description,
        "tls_mode": registry.tls_mode.value,
        "ca_bundle": registry.ca_bundle or "",
        "version": str(registry.version),
    }
    # Only public credential fields (user names, regions); secrets stay in the database.
    values.update({f"credentials.{k}": v for k, v in registry.credentials.items()})
    return RegistryForm(
        prefix="edit",
        action=f"/registries/{registry.id}/edit",
        kind=registry.kind,
        values=values,
        switches={
            "requires_auth": registry.requires_auth,
            "is_default": registry.is_default,
            "enabled": registry.enabled,
        },
        registry=registry,
    )


# --- rendering -------------------------------------------------------------------------------


def _form_context(form: RegistryForm) -> dict[str, Any]:
    return {"form": form, "kinds": KINDS}


@dataclass(frozen=True, kw_only=True)
class Card:
    registry: RegistryPublic
    copies: list[SecretCopy]
    extra_namespaces: list[tuple[str, str]]  # (orchestrator id, namespace)

    @property
    def credentials_old(self) -> bool:
        age = self.registry.credential_age_days
        return age is not None and age > CREDENTIAL_MAX_AGE_DAYS


def _list_context(runtime: Runtime, now: datetime) -> dict[str, Any]:
    """Every registry with its pull-secret copies (a console holds a handful, not thousands)."""
    cards = [
        Card(
            registry=RegistryPublic.of(r, now=now),
            copies=runtime.pull_secrets.copies(r.id),
            extra_namespaces=runtime.pull_secrets.extra_namespaces(r.id),
        )
        for r in runtime.registries.list(limit=500).items
    ]
    orchestrators = {o.id: o.name for o in runtime.orchestrators.list(limit=500).items}
    return {
        "cards": cards,
        "orchestrators": orchestrators,
        "now": now,
        "max_age": CREDENTIAL_MAX_AGE_DAYS,
        "marks": STATUS_MARKS,
    }


def _page(
    request: Request,
    runtime: Runtime,
    now: datetime,
    *,
    status_code: int = 200,
    kind: RegistryKind = RegistryKind.GHCR,
    **extra: Any,
) -> Response:
    """The whole page; `extra` opens a dialog (the no-JavaScript paths) or shows a result."""
    context = _list_context(runtime, now)
    add = _blank_form(first=not context["cards"], kind=kind)
    context.update(active="registries", kinds=KINDS, add=add)
    context.update(extra)
    return render(request, "pages/registries.html", context, status_code=status_code)


def _done(request: Request, message: str, *, level: str = "success", anchor: str = "") -> Response:
    """After an action: htmx refreshes the list and shows the flash; a form post redirects."""
    if is_htmx(request):
        headers = {"HX-Trigger": json.dumps({REFRESH: None, SAVED: None}), "HX-Reswap": "none"}
        context = {"oob_flashes": [{"level": level, "message": message}]}
        return render(request, "partials/registry_flash.html", context, headers=headers)
    flash(request, message, level)
    return RedirectResponse(f"/registries{anchor}", status_code=303)


def _saved_message(verb: str, name: str, warnings: tuple[str, ...]) -> tuple[str, str]:
    if warnings:
        return f"Registry {name!r} {verb}. Note: " + " ".join(warnings), "warning"
    return f"Registry {name!r} {verb}.", "success"


# --- routes ----------------------------------------------------------------------------------


@router.get("/registries")
def registries_page(request: Request, user: PageUser, runtime: RuntimeDep, now: NowDep) -> Response:
    return _page(request, runtime, now)


@router.get("/registries/cards")
def registry_cards(request: Request, user: PageUser, runtime: RuntimeDep, now: NowDep) -> Response:
    """The card list alone: what htmx reloads after every change."""
    return render(request, "partials/registry_cards.html", _list_context(runtime, now))


@router.get("/registries/new")
def new_registry(
    request: Request,
    user: PageUser,
    runtime: RuntimeDep,
    now: NowDep,
    kind: Annotated[RegistryKind, Query()] = RegistryKind.GHCR,
) -> Response:
    """The Add dialog open, for browsers without JavaScript (and for links)."""
    return _page(request, runtime, now, kind=kind, add_open=True)


@router.get("/registries/form-fields")
def kind_fields(
    request: Request,
    user: PageUser,
    registries: RegistriesDep,
    now: NowDep,
    kind: RegistryKind,
    prefix: Annotated[str, Query(pattern="^(add|edit)$")] = "add",
    url: str = "",
    registry: str | None = None,
) -> Response:
    """The kind-dependent part of the form: URL, hint, credential and TLS fields.

    The URL is replaced by the new kind's default unless the operator typed their own.
    """
    defaults = {i.default_url for i in KIND_INFO.values()} | {""}
    url = (kind_info(kind).default_url or "") if url.strip() in defaults else url
    stored = RegistryPublic.of(registries.get(registry), now=now) if registry else None
    form = RegistryForm(
        prefix=prefix,
        action="",
        kind=kind,
        values={"url": url},
        switches={"requires_auth": True},  # a new kind starts with its credential fields shown
        registry=stored,
    )
    if stored and stored.kind is kind:
        form.values.update({f"credentials.{k}": v for k, v in stored.credentials.items()})
        form.switches["requires_auth"] = stored.requires_auth
    context = _form_context(form) | {"oob": True}
    return render(request, "partials/registry_kind_fields.html", context)


@router.post("/registries/test")
async def test_unsaved(
    request: Request, user: SessionUser, checks: ChecksDep, runtime: RuntimeDep, now: NowDep
) -> Response:
    """Test Connection inside the Add dialog, on the typed values; nothing is stored."""
    form = await request.form()
    typed = _typed(form, prefix="add", action="/registries")
    try:
        report = checks.test_unsaved(await _draft(form), image=None, actor=user)
    except InvalidInput as exc:
        if is_htmx(request):
            context = {"issues": [(label_of(typed.kind, i.field), i.rule) for i in exc.issues]}
            return render(request, "partials/registry_check.html", context, status_code=422)
        return _page(request, runtime, now, add=typed.with_issues(exc.issues), add_open=True)
    if is_htmx(request):
        return render(
            request, "partials/registry_check.html", {"report": report, "marks": STATUS_MARKS}
        )
    return _page(request, runtime, now, add=typed, add_open=True, add_report=report)


@router.post("/registries")
async def create_registry(
    request: Request, user: SessionUser, registries: RegistriesDep, runtime: RuntimeDep, now: NowDep
) -> Response:
    form = await request.form()
    try:
        saved = registries.create(await _draft(form), actor=user)
    except InvalidInput as exc:
        typed = _typed(form, prefix="add", action="/registries").with_issues(exc.issues)
        return _form_error(request, runtime, now, typed)
    message, level = _saved_message("created", saved.registry.name, saved.warnings)
    if not is_htmx(request):
        return _done(request, message, level=level, anchor=f"#registry-{saved.registry.id}")
    # The dialog gets a blank form back for the next registry; the list refreshes itself.
    context = _form_context(_blank_form(first=False)) | {
        "oob_flashes": [{"level": level, "message": message}]
    }
    headers = {"HX-Trigger": json.dumps({REFRESH: None, SAVED: None})}
    return render(request, "partials/registry_form.html", context, headers=headers)


def _form_error(request: Request, runtime: Runtime, now: datetime, typed: RegistryForm) -> Response:
    """422 with the errors next to their fields: the form alone for htmx, else the page."""
    if is_htmx(request):
        return render(request, "partials/registry_form.html", _form_context(typed), status_code=422)
    dialog = {"add": typed, "add_open": True} if typed.prefix == "add" else {"edit": typed}
    return _page(request, runtime, now, status_code=422, **dialog)


@router.get("/registries/{registry_id}/edit")
def edit_registry(
    request: Request,
    registry_id: str,
    user: PageUser,
    registries: RegistriesDep,
    runtime: RuntimeDep,
    now: NowDep,
) -> Response:
    form = _edit_form(RegistryPublic.of(registries.get(registry_id), now=now))
    if is_htmx(request):
        return render(request, "partials/registry_edit.html", _form_context(form))
    return _page(request, runtime, now, edit=form)


@router.post("/registries/{registry_id}/edit")
async def update_registry(
    request: Request,
    registry_id: str,
    user: SessionUser,
    registries: RegistriesDep,
    runtime: RuntimeDep,
    now: NowDep,
) -> Response:
    form = await request.form()
    try:
        changes = await _changes(form)
        if _brings_new_secret(changes):
            # Verified rotation: new credentials must pull what the clusters run, or 409.
            runtime.rotation.verify_edit(registry_id, changes, actor=user)
        saved = registries.update(registry_id, changes, actor=user)
    except InvalidInput as exc:
        stored = RegistryPublic.of(registries.get(registry_id), now=now)
        typed = _typed(form, prefix="edit", action=f"/registries/{registry_id}/edit")
        typed.registry = stored
        return _form_error(request, runtime, now, typed.with_issues(exc.issues))
    message, level = _saved_message("saved", saved.registry.name, saved.warnings)
    return _done(request, message, level=level, anchor=f"#registry-{registry_id}")


@router.post("/registries/{registry_id}/test")
def test_saved(
    request: Request,
    registry_id: str,
    user: SessionUser,
    checks: ChecksDep,
    runtime: RuntimeDep,
    now: NowDep,
) -> Response:
    """Test Connection on a card: the steps go into the card, the last-check line updates."""
    report = checks.test_saved(registry_id, image=None, actor=user)
    if not is_htmx(request):
        return _page(request, runtime, now, reports={registry_id: report})
    context = {"report": report, "marks": STATUS_MARKS, "registry_id": registry_id, "now": now}
    return render(request, "partials/registry_check.html", context)


@router.post("/registries/{registry_id}/default")
def set_default(
    request: Request, registry_id: str, user: SessionUser, registries: RegistriesDep
) -> Response:
    record = registries.set_default(registry_id, actor=user)
    return _done(
        request, f"{record.name} is now the default registry.", anchor=f"#registry-{record.id}"
    )


@router.post("/registries/{registry_id}/sync")
def sync_now(
    request: Request, registry_id: str, user: SessionUser, pull_secrets: PullSecretsDep
) -> Response:
    """Converge the pull-secret copies now (retries, drift repair) instead of waiting."""
    report = pull_secrets.sync_registry(registry_id, actor=user)
    failing = sum(1 for c in report.copies if c.state.value != "synced")
    message = (
        f"Pull secret synced: {len(report.copies)} copies, {report.writes} written."
        if not failing
        else f"Pull secret sync: {failing} of {len(report.copies)} copies still failing."
    )
    return _done(
        request,
        message,
        level="success" if not failing else "warning",
        anchor=f"#registry-{registry_id}",
    )


@router.post("/registries/{registry_id}/namespaces")
async def set_namespaces(
    request: Request, registry_id: str, user: SessionUser, pull_secrets: PullSecretsDep
) -> Response:
    """Extra namespaces (one `orchestrator/namespace` per line) where the secret must exist."""
    form = await request.form()
    pairs = []
    for line in _text(form, "namespaces").splitlines():
        orchestrator, sep, namespace = line.strip().partition("/")
        if not line.strip():
            continue
        if not sep:
            raise InvalidInput.one("namespaces", f"{line.strip()!r} is not orchestrator/namespace")
        pairs.append((orchestrator.strip(), namespace.strip()))
    report = pull_secrets.set_extra_namespaces(registry_id, pairs, actor=user)
    failing = sum(1 for c in report.copies if c.state.value != "synced")
    message = f"Extra namespaces saved: {len(report.copies)} copies" + (
        f", {failing} still failing." if failing else "."
    )
    return _done(
        request,
        message,
        level="warning" if failing else "success",
        anchor=f"#registry-{registry_id}",
    )


@router.post("/registries/{registry_id}/enabled")
async def set_enabled(
    request: Request, registry_id: str, user: SessionUser, registries: RegistriesDep
) -> Response:
    enabled = _text(await request.form(), "enabled") == "true"
    saved = registries.update(registry_id, RegistryChanges(enabled=enabled), actor=user)
    state = "enabled" if enabled else "disabled"
    message, level = _saved_message(state, saved.registry.name, saved.warnings)
    return _done(request, message, level=level, anchor=f"#registry-{registry_id}")


@router.get("/registries/{registry_id}/delete")
def confirm_delete(
    request: Request, registry_id: str, user: PageUser, runtime: RuntimeDep, now: NowDep
) -> Response:
    """The delete confirmation open, for browsers without JavaScript."""
    return _page(request, runtime, now, confirm_delete=registry_id)


@router.post("/registries/{registry_id}/delete")
async def delete_registry(
    request: Request, registry_id: str, user: SessionUser, registries: RegistriesDep
) -> Response:
    """Refused (409, naming the clusters) while a cluster uses the registry."""
    form = await request.form()
    version = _text(form, "version")
    registries.delete(
        registry_id, actor=user, expected_version=int(version) if version.isdigit() else None
    )
    # The name comes from the form: it only labels the message, and saves a read.
    name = _text(form, "name") or "the registry"
    return _done(request, f"Registry {name!r} deleted; its pull secrets are being removed.")
