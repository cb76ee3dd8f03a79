"""`vectis-admin cluster …`: Vectis clusters — define, deploy, observe, delete, render."""

from __future__ import annotations

from typing import Annotated

import typer

from vectis_admin.cli._context import (
    EXIT_CODES_BY_NAME,
    OutputOpt,
    YesOpt,
    actor,
    confirm,
    emit,
    runtime,
)
from vectis_admin.domain.manifests import Environment
from vectis_admin.services.clusters import ClusterChanges, ClusterDraft
from vectis_admin.web.schemas.clusters import (
    ClusterPublic,
    DeploymentStatusPublic,
    DiagnosisReport,
    PodPublic,
)

app = typer.Typer(help="Vectis clusters: create, deploy, status, pods, logs, render, delete.")

COLUMNS = [
    ("name", "NAME"),
    ("environment", "ENV"),
    ("namespace", "NAMESPACE"),
    ("replicas", "REPLICAS"),
    ("image", "IMAGE"),
    ("deployment_state", "STATE"),
]
POD_COLUMNS = [
    ("name", "POD"),
    ("phase", "PHASE"),
    ("ready", "READY"),
    ("leader", "LEADER"),
    ("ip", "IP"),
    ("node", "NODE"),
    ("started_at", "STARTED"),
    ("waiting_reason", "WAITING"),
]


@app.command("create")
def create(
    ctx: typer.Context,
    name: str,
    orchestrator: Annotated[str, typer.Option(help="Orchestrator name or id")],
    deployment_name: Annotated[str, typer.Option()],
    storage_host_path: Annotated[str, typer.Option()],
    environment: Annotated[Environment, typer.Option()] = Environment.DEVELOPMENT,
    namespace: Annotated[str, typer.Option()] = "default",
    no_create_namespace: Annotated[bool, typer.Option("--no-create-namespace")] = False,
    replicas: Annotated[int, typer.Option(min=1, max=10)] = 3,
    port: Annotated[int, typer.Option("--port")] = 5000,
    storage_size: Annotated[str, typer.Option()] = "10Gi",
    registry: Annotated[str | None, typer.Option(help="Container Registry name or id")] = None,
    image_path: Annotated[str | None, typer.Option()] = None,
    tag: Annotated[str | None, typer.Option()] = None,
    image: Annotated[str | None, typer.Option(help="Full image reference instead")] = None,
    description: Annotated[str, typer.Option()] = "",
    output: OutputOpt = "table",
) -> None:
    """Define a Vectis cluster (nothing is deployed yet)."""
    record = runtime(ctx).clusters.create(
        ClusterDraft(
            name=name,
            orchestrator=orchestrator,
            deployment_name=deployment_name,
            storage_host_path=storage_host_path,
            environment=environment,
            description=description,
            namespace=namespace,
            create_namespace=not no_create_namespace,
            replicas=replicas,
            vectis_port=port,
            storage_size=storage_size,
            registry=registry,
            image_path=image_path,
            tag=tag,
            image=image,
        ),
        actor=actor(),
    )
    emit(ClusterPublic.of(record), output=output, columns=COLUMNS)


@app.command("list")
def list_(ctx: typer.Context, output: OutputOpt = "table") -> None:
    page = runtime(ctx).clusters.list(limit=500)
    emit([ClusterPublic.of(c) for c in page.items], output=output, columns=COLUMNS)


@app.command("show")
def show(ctx: typer.Context, name: str, output: OutputOpt = "table") -> None:
    emit(ClusterPublic.of(runtime(ctx).clusters.get(name)), output=output, columns=COLUMNS)


@app.command("update")
def update(
    ctx: typer.Context,
    name: str,
    replicas: Annotated[int | None, typer.Option(min=1, max=10)] = None,
    tag: Annotated[str | None, typer.Option()] = None,
    image: Annotated[str | None, typer.Option()] = None,
    registry: Annotated[str | None, typer.Option()] = None,
    description: Annotated[str | None, typer.Option()] = None,
    output: OutputOpt = "table",
) -> None:
    """Change a cluster's definition; `cluster deploy` applies it."""
    record = runtime(ctx).clusters.update(
        name,
        ClusterChanges(
            replicas=replicas, tag=tag, image=image, registry=registry, description=description
        ),
        actor=actor(),
    )
    emit(ClusterPublic.of(record), output=output, columns=COLUMNS)


def _status(status: DeploymentStatusPublic, output: str) -> None:
    if output == "json":
        typer.echo(status.model_dump_json(indent=2))
        return
    typer.echo(
        f"{status.cluster}: {status.state}  health {status.health}  "
        f"{status.ready_replicas}/{status.replicas} ready"
    )
    if status.endpoint:
        typer.echo(f"endpoint: {status.endpoint}")
    if status.reason or status.message:
        typer.echo(f"reason: {status.reason or status.message}")


@app.command("deploy")
def deploy(
    ctx: typer.Context,
    name: str,
    force: Annotated[bool, typer.Option("--force", help="Rolling restart")] = False,
    output: OutputOpt = "table",
) -> None:
    """Deploy (or redeploy) the cluster. Exit 6 when it failed (the reason is shown)."""
    status = DeploymentStatusPublic.of(
        runtime(ctx).clusters.deploy(name, force=force, actor=actor())
    )
    _status(status, output)
    if status.state == "FAILED":
        raise typer.Exit(EXIT_CODES_BY_NAME["upstream"])


@app.command("status")
def status(ctx: typer.Context, name: str, output: OutputOpt = "table") -> None:
    _status(DeploymentStatusPublic.of(runtime(ctx).clusters.status(name)), output)


@app.command("pods")
def pods(ctx: typer.Context, name: str, output: OutputOpt = "table") -> None:
    listed = [PodPublic.of(p) for p in runtime(ctx).clusters.pods(name)]
    emit(listed, output=output, columns=POD_COLUMNS)


@app.command("logs")
def logs(
    ctx: typer.Context,
    name: str,
    pod: str,
    lines: Annotated[int, typer.Option(min=1, max=10000)] = 100,
) -> None:
    typer.echo(runtime(ctx).clusters.logs(name, pod, lines=lines), nl=False)


@app.command("render")
def render(
    ctx: typer.Context,
    name: str,
    include_secrets: Annotated[bool, typer.Option("--include-secrets")] = False,
) -> None:
    """Print the manifests as multi-document YAML (for kubectl apply or GitOps)."""
    typer.echo(runtime(ctx).clusters.render(name, include_secrets=include_secrets), nl=False)


@app.command("delete")
def delete(
    ctx: typer.Context,
    name: str,
    yes: YesOpt = False,
) -> None:
    """Remove every Kubernetes object Deploy created, then the cluster."""
    rt = runtime(ctx)
    record = rt.clusters.get(name)
    confirm(f"Delete cluster {record.name!r} and what it deployed?", yes=yes)
    rt.clusters.delete(record.id, actor=actor())
    typer.echo(f"deleted cluster {record.name}")


@app.command("diagnose")
def diagnose(ctx: typer.Context, name: str, output: OutputOpt = "table") -> None:
    """Why the cluster's pods cannot pull their image, with live checks and the remedy.

    Exit 0 when no pull problem is found, 6 otherwise.
    """
    report = DiagnosisReport.of(runtime(ctx).diagnosis.diagnose(name))
    if output == "json":
        typer.echo(report.model_dump_json(indent=2))
    else:
        typer.echo(
            f"{report.cluster}: " + ("healthy" if report.healthy else f"cause {report.cause}")
        )
        typer.echo(report.summary)
        for finding in report.findings:
            typer.echo(
                f"  [{'ok  ' if finding['ok'] else 'FAIL'}] {finding['check']}: {finding['detail']}"
            )
        for pod in report.pods:
            typer.echo(f"  pod {pod['pod']}: {pod['reason']} ({pod['cause']})")
        if report.fix:
            typer.echo(f"fix: {report.fix}")
        if report.remedy:
            typer.echo(f"remedy: {report.remedy['command']}")
    if not report.healthy:
        raise typer.Exit(EXIT_CODES_BY_NAME["upstream"])
