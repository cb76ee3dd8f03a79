"""`vectis-admin admin|token|audit …`: the console's own accounts and its audit trail."""

from __future__ import annotations

from typing import Annotated

import typer

from vectis_admin.cli._context import OutputOpt, actor, emit, read_stdin, runtime
from vectis_admin.runtime import Runtime
from vectis_admin.web.schemas.common import AuditEntryPublic, TokenPublic

admin_app = typer.Typer(help="The admin account.")
token_app = typer.Typer(help="API tokens (for scripts and CI calling the REST API).")
audit_app = typer.Typer(help="The audit trail.")


def announce_admin(rt: Runtime) -> None:
    """Create the admin on first start; a generated password is printed this once only."""
    settings = rt.settings
    given = settings.admin_password.get_secret_value() if settings.admin_password else None
    boot = rt.accounts.ensure_admin(username=settings.admin_username, password=given)
    if boot.generated_password:
        typer.echo(
            f"First start: created user {boot.username!r} with the generated password\n\n"
            f"    {boot.generated_password}\n\n"
            "It is shown only now. Change it with `vectis-admin admin reset-password`.",
            err=True,
        )


@admin_app.command("reset-password")
def reset_password(
    ctx: typer.Context,
    username: Annotated[str | None, typer.Option(help="Default: VECTIS_ADMIN_USERNAME")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
) -> None:
    """Set a new password (from stdin) or generate one, shown once."""
    rt = runtime(ctx)
    name = username or rt.settings.admin_username
    password = read_stdin().rstrip("\r\n") if password_stdin else None
    generated = rt.accounts.reset_password(username=name, password=password, actor=actor())
    if generated:
        typer.echo(f"New password for {name!r} (shown only now): {generated}")
    else:
        typer.echo(f"Password of {name!r} changed.")


TOKEN_COLUMNS = [
    ("id", "ID"),
    ("name", "NAME"),
    ("prefix", "PREFIX"),
    ("created_at", "CREATED"),
    ("expires_at", "EXPIRES"),
    ("last_used_at", "LAST USED"),
    ("revoked_at", "REVOKED"),
]


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: str,
    ttl_days: Annotated[int | None, typer.Option(help="Expiry in days; none by default")] = None,
    username: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create an API token for the admin user; the token is printed once."""
    rt = runtime(ctx)
    new = rt.accounts.create_token(
        username=username or rt.settings.admin_username, name=name, ttl_days=ttl_days, actor=actor()
    )
    typer.echo(new.token)


@token_app.command("list")
def token_list(
    ctx: typer.Context,
    username: Annotated[str | None, typer.Option()] = None,
    output: OutputOpt = "table",
) -> None:
    rt = runtime(ctx)
    tokens = rt.accounts.list_tokens(username or rt.settings.admin_username)
    emit([TokenPublic.of(t) for t in tokens], output=output, columns=TOKEN_COLUMNS)


@token_app.command("revoke")
def token_revoke(
    ctx: typer.Context,
    token_id: str,
    username: Annotated[str | None, typer.Option()] = None,
) -> None:
    rt = runtime(ctx)
    owner = username or rt.settings.admin_username
    rt.accounts.revoke_token(token_id, username=owner, actor=actor())
    typer.echo(f"revoked {token_id}")


AUDIT_COLUMNS = [
    ("at", "AT"),
    ("actor", "ACTOR"),
    ("action", "ACTION"),
    ("target_name", "TARGET"),
    ("changes", "CHANGES"),
]


@audit_app.command("list")
def audit_list(
    ctx: typer.Context,
    action: Annotated[str | None, typer.Option()] = None,
    target_type: Annotated[str | None, typer.Option()] = None,
    limit: int = 50,
    output: OutputOpt = "table",
) -> None:
    """Newest first."""
    page = runtime(ctx).audit.list(action=action, target_type=target_type, limit=limit)
    emit([AuditEntryPublic.of(e) for e in page.items], output=output, columns=AUDIT_COLUMNS)
