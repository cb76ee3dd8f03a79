"""`vectis-admin diagnose …`: why a pod cannot pull its image."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from vectis_admin.domain.pull_failures import explain_pull_failure

app = typer.Typer(help="Diagnose image pull failures.")


@app.command("explain")
def explain(
    message: Annotated[
        str | None, typer.Option(help="What kubectl describe pod shows; '-' or none reads stdin")
    ] = None,
    reason: Annotated[
        str | None, typer.Option(help="Waiting reason, e.g. ImagePullBackOff")
    ] = None,
) -> None:
    """Cause and fix of a pull failure, from the kubelet / runtime message (no cluster needed)."""
    text = sys.stdin.read() if message in (None, "-") else message
    diagnosis = explain_pull_failure(reason, (text or "").splitlines())
    typer.echo(f"cause:    {diagnosis.cause.value}")
    typer.echo(f"what:     {diagnosis.summary}")
    typer.echo(f"fix:      {diagnosis.fix}")
    typer.echo(f"evidence: {diagnosis.evidence}")
