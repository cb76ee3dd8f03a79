"""What every command shares: the lazily opened runtime, the actor, error → exit-code mapping."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from typer.core import TyperGroup

from vectis_admin.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    NotFound,
    UpstreamError,
    VectisError,
)
from vectis_admin.runtime import Runtime, open_runtime
from vectis_admin.settings import load_settings

__all__ = [
    "EXIT_CODES",
    "EXIT_CODES_BY_NAME",
    "MappedGroup",
    "OutputOpt",
    "check_output",
    "YesOpt",
    "confirm",
    "actor",
    "emit",
    "exit_code_for",
    "runtime",
]

# 2 is click's usage error; the rest are ours, one per error family.
EXIT_CODES_BY_NAME = {"invalid": 3, "not_found": 4, "conflict": 5, "upstream": 6, "auth": 7}
EXIT_CODES: list[tuple[type[VectisError], int]] = [
    (InvalidInput, EXIT_CODES_BY_NAME["invalid"]),
    (NotFound, EXIT_CODES_BY_NAME["not_found"]),
    (Conflict, EXIT_CODES_BY_NAME["conflict"]),
    (UpstreamError, EXIT_CODES_BY_NAME["upstream"]),
    (AuthenticationFailed, EXIT_CODES_BY_NAME["auth"]),
]


def exit_code_for(exc: VectisError) -> int:
    return next((code for cls, code in EXIT_CODES if isinstance(exc, cls)), 1)


class MappedGroup(TyperGroup):
    """Turns our exceptions into one clear stderr line and a distinct exit code."""

    # `Any`: typer vendors click privately, so its Context base class has no public name.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except VectisError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(exit_code_for(exc)) from None


YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")]
OutputOpt = Annotated[str, typer.Option("--output", "-o", help="table or json")]


def check_output(output: str) -> str:
    if output not in ("table", "json"):
        raise InvalidInput.one("--output", "must be table or json")
    return output


def confirm(question: str, *, yes: bool) -> None:
    """Ask before a destructive command (abort on "no"), unless --yes was given."""
    if not yes:
        typer.confirm(question, abort=True)


def runtime(ctx: typer.Context) -> Runtime:
    root = ctx.find_root()
    if root.obj is None:
        root.obj = open_runtime(load_settings())
        root.call_on_close(root.obj.close)
    opened: Runtime = root.obj
    return opened


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def emit(
    data: BaseModel | Sequence[BaseModel],
    *,
    output: str,
    columns: Sequence[tuple[str, str]],
) -> None:
    """Print as JSON (the API's own shapes) or as an aligned table of `columns` (key, title)."""
    check_output(output)
    if output == "json":
        if isinstance(data, BaseModel):
            typer.echo(data.model_dump_json(indent=2))
        else:
            typer.echo(json.dumps([d.model_dump(mode="json") for d in data], indent=2))
        return
    rows = [data] if isinstance(data, BaseModel) else list(data)
    table = [[title for _, title in columns]]
    for row in rows:
        dumped = row.model_dump(mode="json")
        table.append([_cell(dumped.get(key)) for key, _ in columns])
    widths = [max(len(r[i]) for r in table) for i in range(len(columns))]
    for line in table:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def read_stdin() -> str:
    return sys.stdin.read()
