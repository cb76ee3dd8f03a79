"""`vectis-admin registry …`: the registry use cases from a terminal.

Secrets are never taken as plain arguments (they would land in shell history and `ps`): they are
read from standard input with `--password-stdin`, like `docker login`, or prompted for, hidden.
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
    check_output,
    confirm,
    emit,
    read_stdin,
    runtime,
)
from vectis_admin.domain.registries import RegistryKind, TlsMode, kind_info
from vectis_admin.errors import InvalidInput
from vectis_admin.services.registries import RegistryChanges, RegistryDraft
from vectis_admin.web.schemas.checks import CheckReportPublic, TagPage
from vectis_admin.web.schemas.registries import RegistryPublic
from vectis_admin.web.schemas.sync import SyncPublic

app = typer.Typer(help="Container registries: add, list, show, update, delete, set default.")

COLUMNS = [
    ("name", "NAME"),
    ("kind", "KIND"),
    ("url", "URL"),
    ("image_path", "IMAGE"),
    ("default_tag", "TAG"),
    ("requires_auth", "AUTH"),
    ("enabled", "ENABLED"),
    ("is_default", "DEFAULT"),
    ("credential_age_days", "CRED AGE (d)"),
]


def _secret_values(kind: RegistryKind, *, from_stdin: bool, prompt: bool) -> dict[str, str]:
    """Secret fields of `kind`: one field takes all of stdin; several take NAME=VALUE lines."""
    fields = [f for f in kind_info(kind).credential_fields if f.secret]
    if from_stdin:
        text = read_stdin()
        if len(fields) == 1:
            return {fields[0].name: text.rstrip("\r\n")}
        values: dict[str, str] = {}
        for line in text.splitlines():
            name, sep, value = line.partition("=")
            if not sep or name.strip() not in {f.name for f in fields}:
                raise InvalidInput.one(
                    "stdin",
                    "must hold NAME=VALUE lines with NAME among "
                    + ", ".join(f.name for f in fields),
                )
            values[name.strip()] = value.strip()
        return values
    if not prompt:
        return {}
    return {f.name: typer.prompt(f.label, hide_input=True) for f in fields if f.required}


def _read_ca_file(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput.one("--ca-file", f"must be a readable PEM file ({exc})") from None


def _public_values(
    *, username: str | None, region: str | None, role_arn: str | None
) -> dict[str, str]:
    given = {"username": username, "region": region, "role_arn": role_arn}
    return {k: v for k, v in given.items() if v is not None}


@app.command("add")
def add(
    ctx: typer.Context,
    name: str,
    kind: Annotated[RegistryKind, typer.Option(help="Registry kind")],
    url: Annotated[str | None, typer.Option(help="host[:port]; defaults to the kind's URL")] = None,
    image_path: Annotated[str | None, typer.Option(help="e.g. cpoder/vectis-server")] = None,
    tag: Annotated[str, typer.Option("--tag", help="Default tag")] = "latest",
    username: Annotated[str | None, typer.Option(help="User name / app id")] = None,
    region: Annotated[str | None, typer.Option(help="AWS region (ECR)")] = None,
    role_arn: Annotated[str | None, typer.Option(help="IAM role to assume (ECR)")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the secret(s) from standard input")
    ] = False,
    no_auth: Annotated[bool, typer.Option("--no-auth", help="Anonymous pulls")] = False,
    default: Annotated[bool, typer.Option("--default", help="Make it the default")] = False,
    disabled: Annotated[bool, typer.Option("--disabled")] = False,
    description: Annotated[str, typer.Option()] = "",
    tls_mode: Annotated[TlsMode, typer.Option(help="verify, skip-verify or http")] = TlsMode.VERIFY,
    ca_file: Annotated[Path | None, typer.Option(help="PEM CA bundle to trust")] = None,
    output: OutputOpt = "table",
) -> None:
    """Register a container registry (its credentials are stored encrypted)."""
    check_output(output)
    credentials = (
        {}
        if no_auth
        else {
            **_public_values(username=username, region=region, role_arn=role_arn),
            **_secret_values(kind, from_stdin=password_stdin, prompt=True),
        }
    )
    rt = runtime(ctx)
    saved = rt.registries.create(
        RegistryDraft(
            name=name,
            kind=kind,
            url=url,
            image_path=image_path,
            default_tag=tag,
            requires_auth=not no_auth,
            is_default=default,
            enabled=not disabled,
            description=description,
            credentials=credentials,
            tls_mode=tls_mode,
            ca_bundle=_read_ca_file(ca_file),
        ),
        actor=actor(),
    )
    for warning in saved.warnings:
        typer.echo(f"warning: {warning}", err=True)
    emit(RegistryPublic.of_saved(saved, now=rt.clock.now()), output=output, columns=COLUMNS)


@app.command("list")
def list_(
    ctx: typer.Context,
    kind: Annotated[RegistryKind | None, typer.Option()] = None,
    enabled: Annotated[bool | None, typer.Option("--enabled/--disabled")] = None,
    limit: int = 100,
    offset: int = 0,
    output: OutputOpt = "table",
) -> None:
    """List registries."""
    check_output(output)
    rt = runtime(ctx)
    page = rt.registries.list(kind=kind, enabled=enabled, limit=limit, offset=offset)
    now = rt.clock.now()
    emit([RegistryPublic.of(r, now=now) for r in page.items], output=output, columns=COLUMNS)


@app.command("show")
def show(ctx: typer.Context, name: str, output: OutputOpt = "table") -> None:
    """Show one registry (by name or id); secrets are never shown."""
    check_output(output)
    rt = runtime(ctx)
    public = RegistryPublic.of(rt.registries.get(name), now=rt.clock.now())
    if output == "json":
        emit(public, output=output, columns=COLUMNS)
        return
    for key, value in public.model_dump(mode="json", exclude={"warnings"}).items():
        typer.echo(f"{key:22} {value if value not in (None, '') else '-'}")


@app.command("update")
def update(
    ctx: typer.Context,
    name: str,
    new_name: Annotated[str | None, typer.Option("--name")] = None,
    url: Annotated[str | None, typer.Option()] = None,
    image_path: Annotated[str | None, typer.Option()] = None,
    tag: Annotated[str | None, typer.Option("--tag")] = None,
    username: Annotated[str | None, typer.Option()] = None,
    region: Annotated[str | None, typer.Option()] = None,
    role_arn: Annotated[str | None, typer.Option()] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    auth: Annotated[bool | None, typer.Option("--auth/--no-auth")] = None,
    enabled: Annotated[bool | None, typer.Option("--enable/--disable")] = None,
    description: Annotated[str | None, typer.Option()] = None,
    tls_mode: Annotated[TlsMode | None, typer.Option()] = None,
    ca_file: Annotated[Path | None, typer.Option(help="PEM CA bundle; see --no-ca")] = None,
    no_ca: Annotated[bool, typer.Option("--no-ca", help="Remove the CA bundle")] = False,
    version: Annotated[
        int | None, typer.Option(help="Refuse if the registry changed since")
    ] = None,
    output: OutputOpt = "table",
) -> None:
    """Change a registry; credentials not given are kept."""
    check_output(output)
    rt = runtime(ctx)
    current = rt.registries.get(name)
    credentials = {
        **_public_values(username=username, region=region, role_arn=role_arn),
        **_secret_values(current.kind, from_stdin=password_stdin, prompt=False),
    }
    saved = rt.registries.update(
        current.id,
        RegistryChanges(
            name=new_name,
            url=url,
            image_path=image_path,
            default_tag=tag,
            requires_auth=auth,
            enabled=enabled,
            description=description,
            credentials=credentials or None,
            tls_mode=tls_mode,
            ca_bundle="" if no_ca else _read_ca_file(ca_file),
            expected_version=version if version is not None else current.version,
        ),
        actor=actor(),
    )
    for warning in saved.warnings:
        typer.echo(f"warning: {warning}", err=True)
    emit(RegistryPublic.of_saved(saved, now=rt.clock.now()), output=output, columns=COLUMNS)


@app.command("delete")
def delete(
    ctx: typer.Context,
    name: str,
    yes: YesOpt = False,
) -> None:
    """Delete a registry."""
    rt = runtime(ctx)
    record = rt.registries.get(name)
    confirm(f"Delete registry {record.name!r}?", yes=yes)
    rt.registries.delete(record.id, actor=actor(), expected_version=record.version)
    typer.echo(f"deleted registry {record.name}")


@app.command("set-default")
def set_default(ctx: typer.Context, name: str) -> None:
    """Make a registry the default one (the star)."""
    record = runtime(ctx).registries.set_default(name, actor=actor())
    typer.echo(f"{record.name} is now the default registry")


@app.command("import-docker-config")
def import_docker_config(
    ctx: typer.Context,
    path: Annotated[Path | None, typer.Argument(help="Default: ~/.docker/config.json")] = None,
) -> None:
    """Create registries from the `auths` of a Docker config.json."""
    source = path or Path.home() / ".docker" / "config.json"
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput.one("path", f"must be a readable file ({exc.strerror})") from None
    report = runtime(ctx).registries.import_docker_config(text, actor=actor())
    for saved in report.created:
        typer.echo(f"imported  {saved.registry.name} ({saved.registry.kind.value})")
        for warning in saved.warnings:
            typer.echo(f"  warning: {warning}")
    for server, reason in report.skipped:
        typer.echo(f"skipped   {server}: {reason}")
    typer.echo(f"{len(report.created)} imported, {len(report.skipped)} not importable")


_MARKS = {"passed": "ok  ", "failed": "FAIL", "warning": "warn", "skipped": "-   "}


@app.command("test")
def test(
    ctx: typer.Context,
    name: str,
    image: Annotated[
        str | None, typer.Option(help="path:tag, :tag, @digest or a full reference")
    ] = None,
    output: OutputOpt = "table",
) -> None:
    """Test Connection: reachability, credentials, image and tag, step by step.

    Exits 0 when every step passed (warnings allowed), 6 when a step failed.
    """
    check_output(output)
    report = CheckReportPublic.of(runtime(ctx).checks.test_saved(name, image=image, actor=actor()))
    if output == "json":
        typer.echo(report.model_dump_json(indent=2))
    else:
        typer.echo(f"{report.registry}: {report.image or '(no image path)'}")
        for step in report.steps:
            latency = f"{step.latency_ms:7.1f} ms" if step.latency_ms is not None else " " * 10
            typer.echo(f"  [{_MARKS[step.status]}] {step.title:28} {latency}  {step.message}")
            if step.hint and step.status in ("failed", "warning"):
                typer.echo(f"  {'':36}fix: {step.hint}")
        typer.echo(report.summary)
    if not report.ok:
        raise typer.Exit(EXIT_CODES_BY_NAME["upstream"])


@app.command("tags")
def tags(
    ctx: typer.Context,
    name: str,
    image_path: Annotated[str | None, typer.Option(help="Default: the registry's")] = None,
    limit: int = 100,
    offset: int = 0,
    output: OutputOpt = "table",
) -> None:
    """List the image's tags, read from the registry itself."""
    check_output(output)
    page = TagPage.of(
        runtime(ctx).checks.tags(name, image_path=image_path), limit=limit, offset=offset
    )
    if output == "json":
        typer.echo(page.model_dump_json(indent=2))
        return
    for tag in page.items:
        typer.echo(tag)
    more = "" if page.complete else " (the registry has more; listing stopped)"
    typer.echo(f"{len(page.items)} of {page.total} tags of {page.repository}{more}", err=True)


@app.command("sync")
def sync(ctx: typer.Context, name: str, output: OutputOpt = "table") -> None:
    """Converge the registry's pull-secret copies now and show their state. Exit 6 if any fail."""
    check_output(output)
    rt = runtime(ctx)
    report = SyncPublic.of_report(
        rt.pull_secrets.sync_registry(rt.registries.get(name).id, actor=actor())
    )
    _show_copies(report, output)
    if not report.ok:
        raise typer.Exit(EXIT_CODES_BY_NAME["upstream"])


@app.command("namespaces")
def namespaces(
    ctx: typer.Context,
    name: str,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="ORCHESTRATOR/NAMESPACE (repeat); replaces the list"),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove every extra namespace")] = False,
    output: OutputOpt = "table",
) -> None:
    """Show, or replace, the extra namespaces where the registry's pull secret must exist."""
    check_output(output)
    rt = runtime(ctx)
    if set_ is None and not clear:
        for orchestrator, namespace in rt.pull_secrets.extra_namespaces(name):
            typer.echo(f"{orchestrator}/{namespace}")
        return
    pairs = []
    for item in set_ or []:
        orchestrator, sep, namespace = item.partition("/")
        if not sep:
            raise InvalidInput.one("--set", "must be ORCHESTRATOR/NAMESPACE")
        pairs.append((orchestrator, namespace))
    report = SyncPublic.of_report(rt.pull_secrets.set_extra_namespaces(name, pairs, actor=actor()))
    _show_copies(report, output)
    if not report.ok:
        raise typer.Exit(EXIT_CODES_BY_NAME["upstream"])


def _show_copies(report: SyncPublic, output: str) -> None:
    if output == "json":
        typer.echo(report.model_dump_json(indent=2))
        return
    for copy in report.copies:
        typer.echo(f"{copy.state:8} {copy.namespace:30} {copy.message}")
    typer.echo(f"{len(report.copies)} copies, {report.writes or 0} writes")


@app.command("rotate")
def rotate(
    ctx: typer.Context,
    name: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    username: Annotated[str | None, typer.Option(help="A new user name, if it changes too")] = None,
    redeploy: Annotated[bool, typer.Option("--redeploy", help="Restart affected clusters")] = False,
) -> None:
    """Verified rotation: new credentials are checked against every image the registry's
    clusters run before they are stored and pushed to every pull-secret copy."""
    rt = runtime(ctx)
    current = rt.registries.get(name)
    credentials = {
        **_public_values(username=username, region=None, role_arn=None),
        **_secret_values(current.kind, from_stdin=password_stdin, prompt=not password_stdin),
    }
    result = rt.rotation.rotate(current.id, credentials, redeploy=redeploy, actor=actor())
    for image in result.verified_images:
        typer.echo(f"verified  {image}")
    typer.echo(f"stored; {len(result.sync.copies)} pull-secret copies, {result.sync.writes} writes")
    if result.clusters:
        typer.echo("clusters using it: " + ", ".join(result.clusters))
    if result.redeployed:
        typer.echo("restarted: " + ", ".join(result.redeployed))
    elif result.clusters:
        typer.echo("run again with --redeploy (or `cluster deploy NAME --force`) to restart them")
