"""`vectis-admin orchestrator …`: the Kubernetes clusters the console deploys to.

Secrets come from files (`--kubeconfig`, `--client-key`) or stdin (`--token-stdin`), never from
plain arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vectis_admin.cli._context import (
    EXIT_CODES_BY_NAME,
    OutputOpt,
    YesOpt,
    actor,
    confirm,
    emit,
    read_stdin,
    runtime,
)
from vectis_admin.domain.orchestrators import KubeAuthMode, OrchestratorKind
from vectis_admin.errors import InvalidInput
from vectis_admin.services.orchestrators import OrchestratorChanges, OrchestratorDraft
from vectis_admin.web.schemas.orchestrators import OrchestratorCheckPublic, OrchestratorPublic

app = typer.Typer(help="Orchestrators: the Kubernetes clusters Vectis is deployed to.")

COLUMNS = [
    ("name", "NAME"),
    ("kind", "KIND"),
    ("auth_mode", "AUTH"),
    ("api_server_url", "API SERVER"),
    ("insecure", "INSECURE"),
    ("supports_load_balancer", "LB"),
    ("enabled", "ENABLED"),
]
FileOpt = Annotated[Path | None, typer.Option(exists=False, dir_okay=False)]


def _read(path: Path | None, field: str) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput.one(field, f"must be a readable text file ({exc})") from None


def _credentials(
    *,
    token_stdin: bool,
    kubeconfig: Path | None,
    kubeconfig_path: str | None,
    context: str | None,
    client_cert: Path | None,
    client_key: Path | None,
    ca_cert: Path | None,
) -> dict[str, str]:
    given = {
        "token": read_stdin().strip() if token_stdin else None,
        "kubeconfig": _read(kubeconfig, "--kubeconfig"),
        "kubeconfig_path": kubeconfig_path,
        "kubeconfig_context": context,
        "client_cert": _read(client_cert, "--client-cert"),
        "client_key": _read(client_key, "--client-key"),
        "ca_cert": _read(ca_cert, "--ca-cert"),
    }
    return {k: v for k, v in given.items() if v is not None}


def _show(record: OrchestratorPublic, output: str) -> None:
    for warning in record.warnings:
        typer.echo(f"warning: {warning}", err=True)
    emit(record, output=output, columns=COLUMNS)


@app.command("add")
def add(
    ctx: typer.Context,
    name: str,
    kind: Annotated[OrchestratorKind, typer.Option(help="K3S, K8S, EKS, GKE or AKS")],
    auth_mode: Annotated[KubeAuthMode, typer.Option("--auth")],
    server: Annotated[str | None, typer.Option(help="API server URL")] = None,
    token_stdin: Annotated[bool, typer.Option("--token-stdin")] = False,
    kubeconfig: Annotated[Path | None, typer.Option(help="Kubeconfig file to store")] = None,
    kubeconfig_path: Annotated[
        str | None, typer.Option(help="Kubeconfig path read at each use (not stored)")
    ] = None,
    context: Annotated[str | None, typer.Option(help="Kubeconfig context")] = None,
    client_cert: FileOpt = None,
    client_key: FileOpt = None,
    ca_cert: FileOpt = None,
    skip_tls_verify: Annotated[bool, typer.Option("--skip-tls-verify")] = False,
    load_balancer: Annotated[bool, typer.Option("--load-balancer/--no-load-balancer")] = True,
    metallb_range: Annotated[str | None, typer.Option()] = None,
    disabled: Annotated[bool, typer.Option("--disabled")] = False,
    description: Annotated[str, typer.Option()] = "",
    output: OutputOpt = "table",
) -> None:
    """Register a Kubernetes cluster (credentials are stored encrypted)."""
    record, warnings = runtime(ctx).orchestrators.create(
        OrchestratorDraft(
            name=name,
            kind=kind,
            auth_mode=auth_mode,
            api_server_url=server,
            description=description,
            skip_tls_verify=skip_tls_verify,
            supports_load_balancer=load_balancer,
            metallb_range=metallb_range,
            enabled=not disabled,
            credentials=_credentials(
                token_stdin=token_stdin,
                kubeconfig=kubeconfig,
                kubeconfig_path=kubeconfig_path,
                context=context,
                client_cert=client_cert,
                client_key=client_key,
                ca_cert=ca_cert,
            ),
        ),
        actor=actor(),
    )
    _show(OrchestratorPublic.of(record, warnings=warnings), output)


@app.command("list")
def list_(
    ctx: typer.Context,
    enabled: Annotated[bool | None, typer.Option("--enabled/--disabled")] = None,
    output: OutputOpt = "table",
) -> None:
    page = runtime(ctx).orchestrators.list(enabled=enabled, limit=500)
    emit([OrchestratorPublic.of(o) for o in page.items], output=output, columns=COLUMNS)


@app.command("show")
def show(ctx: typer.Context, name: str, output: OutputOpt = "table") -> None:
    _show(OrchestratorPublic.of(runtime(ctx).orchestrators.get(name)), output)


@app.command("update")
def update(
    ctx: typer.Context,
    name: str,
    new_name: Annotated[str | None, typer.Option("--name")] = None,
    server: Annotated[str | None, typer.Option()] = None,
    token_stdin: Annotated[bool, typer.Option("--token-stdin")] = False,
    kubeconfig: Annotated[Path | None, typer.Option()] = None,
    kubeconfig_path: Annotated[str | None, typer.Option()] = None,
    context: Annotated[str | None, typer.Option()] = None,
    client_cert: FileOpt = None,
    client_key: FileOpt = None,
    ca_cert: FileOpt = None,
    skip_tls_verify: Annotated[bool | None, typer.Option("--skip-tls-verify/--verify-tls")] = None,
    load_balancer: Annotated[
        bool | None, typer.Option("--load-balancer/--no-load-balancer")
    ] = None,
    metallb_range: Annotated[str | None, typer.Option()] = None,
    enabled: Annotated[bool | None, typer.Option("--enable/--disable")] = None,
    description: Annotated[str | None, typer.Option()] = None,
    output: OutputOpt = "table",
) -> None:
    """Change an orchestrator; credentials not given are kept."""
    credentials = _credentials(
        token_stdin=token_stdin,
        kubeconfig=kubeconfig,
        kubeconfig_path=kubeconfig_path,
        context=context,
        client_cert=client_cert,
        client_key=client_key,
        ca_cert=ca_cert,
    )
    record, warnings = runtime(ctx).orchestrators.update(
        name,
        OrchestratorChanges(
            name=new_name,
            api_server_url=server,
            skip_tls_verify=skip_tls_verify,
            supports_load_balancer=load_balancer,
            metallb_range=metallb_range,
            enabled=enabled,
            description=description,
            credentials=credentials or None,
        ),
        actor=actor(),
    )
    _show(OrchestratorPublic.of(record, warnings=warnings), output)


@app.command("delete")
def delete(
    ctx: typer.Context,
    name: str,
    yes: YesOpt = False,
) -> None:
    rt = runtime(ctx)
    record = rt.orchestrators.get(name)
    confirm(f"Delete orchestrator {record.name!r}?", yes=yes)
    rt.orchestrators.delete(record.id, actor=actor())
    typer.echo(f"deleted orchestrator {record.name}")


@app.command("test")
def test(
    ctx: typer.Context,
    name: str,
    namespace: Annotated[str, typer.Option(help="Where deploy rights are checked")] = "default",
    output: OutputOpt = "table",
) -> None:
    """Test Connection: API reachable, server version, rights to deploy Vectis. Exit 6 if not."""
    report = OrchestratorCheckPublic.of(
        runtime(ctx).orchestrators.test(name, namespace=namespace, actor=actor())
    )
    if output == "json":
        typer.echo(report.model_dump_json(indent=2))
    else:
        typer.echo(report.message)
        for p in report.permissions:
            typer.echo(f"  [{'ok  ' if p.allowed else 'FAIL'}] {p.verb} {p.resource}")
        for warning in report.warnings:
            typer.echo(f"warning: {warning}", err=True)
    if not report.ok:
        raise typer.Exit(EXIT_CODES_BY_NAME["upstream"])
