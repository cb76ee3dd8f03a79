"""The `vectis-admin` command: the CLI entry, and `serve`, which starts the console."""

from __future__ import annotations

from typing import Annotated

import typer

from vectis_admin.cli import accounts, clusters, diagnose, keys, orchestrators, registries
from vectis_admin.cli._context import EXIT_CODES_BY_NAME, MappedGroup, actor, runtime

app = typer.Typer(
    cls=MappedGroup,
    no_args_is_help=True,
    help="Vectis Admin: container registries, pull secrets and Vectis clusters on Kubernetes.",
)
app.add_typer(registries.app, name="registry")
app.add_typer(orchestrators.app, name="orchestrator")
app.add_typer(clusters.app, name="cluster")
app.add_typer(diagnose.app, name="diagnose")
app.add_typer(accounts.admin_app, name="admin")
app.add_typer(accounts.token_app, name="token")
app.add_typer(accounts.audit_app, name="audit")
app.add_typer(keys.app, name="keys")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Default: VECTIS_HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="Default: VECTIS_PORT or 8080")] = None,
) -> None:
    """Start the console (REST API, OpenAPI at /docs) on the configured database."""
    import uvicorn

    from vectis_admin.web.app import create_app

    rt = runtime(ctx)
    accounts.announce_admin(rt)
    bind_host = host or rt.settings.host
    bind_port = port or rt.settings.port
    typer.echo(f"Vectis Admin on http://{bind_host}:{bind_port}  (API docs: /docs)")
    typer.echo(f"Database: {_display_url(rt.settings.resolved_database_url)}")
    uvicorn.run(create_app(rt), host=bind_host, port=bind_port, log_level=rt.settings.log_level)


@app.command()
def reconcile(
    ctx: typer.Context,
    due_only: Annotated[
        bool, typer.Option("--due-only", help="Only copies due for a retry")
    ] = False,
) -> None:
    """Converge every pull-secret copy now (for cron); exit 6 if some are still failing."""
    reports = runtime(ctx).pull_secrets.reconcile(due_only=due_only, actor=actor())
    failing = 0
    for report in reports:
        for copy in report.copies:
            if copy.state.value != "synced":
                failing += 1
                typer.echo(
                    f"{copy.state.value:8} registry {report.registry_id} "
                    f"{copy.orchestrator_id}/{copy.namespace}: {copy.message}"
                )
    writes = sum(r.writes for r in reports)
    typer.echo(f"{len(reports)} registries reconciled, {writes} writes, {failing} not synced")
    if failing:
        raise typer.Exit(EXIT_CODES_BY_NAME["upstream"])


@app.command()
def refresh(ctx: typer.Context) -> None:
    """One refresh pass (for cron): re-mint short-lived tokens, retry due copies.

    Exit 0 when done (or when another replica holds the lease), 6 if copies still fail.
    """
    done = runtime(ctx).refresh.run_pass(actor=actor())
    if not done.ran:
        typer.echo("another console replica is refreshing right now; nothing done")
        return
    writes = sum(r.writes for r in done.reports)
    typer.echo(f"{len(done.reports)} registries refreshed, {writes} writes, {done.failing} failing")
    if done.failing:
        raise typer.Exit(EXIT_CODES_BY_NAME["upstream"])


@app.command()
def check(
    ctx: typer.Context,
    output: Annotated[str, typer.Option("--output", "-o", help="table or json")] = "table",
) -> None:
    """Best-practice findings; exit 6 when a high-severity one exists (for CI gates)."""
    import json

    findings = runtime(ctx).best_practices.findings()
    if output == "json":
        typer.echo(
            json.dumps([f.__dict__ | {"severity": f.severity.value} for f in findings], indent=2)
        )
    else:
        for finding in findings:
            typer.echo(f"[{finding.severity.value:6}] {finding.message}")
            typer.echo(f"          fix: {finding.fix}")
        typer.echo(f"{len(findings)} finding(s)")
    if any(f.severity.value == "high" for f in findings):
        raise typer.Exit(EXIT_CODES_BY_NAME["upstream"])


def _display_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    app(prog_name="vectis-admin")
