"""`vectis-admin cluster …` end to end with the Kubernetes emulator."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Run, add_emulator_orchestrator


def test_create_render_deploy_observe_delete(run: Run, kube: Any) -> None:
    add_emulator_orchestrator(run, kube)
    assert (
        run(
            "registry",
            "add",
            "ghcr",
            "--kind",
            "ghcr",
            "--username",
            "cpoder",
            "--image-path",
            "cpoder/vectis-server",
            "--tag",
            "2.0",
            "--password-stdin",
            input="ghp_" + "c" * 36,
        ).exit_code
        == 0
    )
    created = run(
        "cluster",
        "create",
        "lyon",
        "--orchestrator",
        "lab",
        "--deployment-name",
        "vectis",
        "--storage-host-path",
        "/srv/vectis",
        "--namespace",
        "lyon",
        "--registry",
        "ghcr",
        "--replicas",
        "2",
    )
    assert created.exit_code == 0, created.output
    rendered = run("cluster", "render", "lyon")
    assert '"kind": "Deployment"' in rendered.stdout and "c" * 36 not in rendered.stdout
    deployed = run("cluster", "deploy", "lyon")
    assert deployed.exit_code == 0, deployed.output
    assert "lyon: DEPLOYED" in deployed.output
    kube.complete_rollout("lyon", "vectis")
    assert "health HEALTHY  2/2 ready" in run("cluster", "status", "lyon").output
    pods = json.loads(run("cluster", "pods", "lyon", "-o", "json").stdout)
    assert len(pods) == 2
    kube.set_pod_log("lyon", pods[0]["name"], "started\nready\n")
    assert run("cluster", "logs", "lyon", pods[0]["name"], "--lines", "1").stdout == "ready\n"
    assert run("registry", "delete", "ghcr", "--yes").exit_code == 5  # in use
    kube.refuse()
    failed = run("cluster", "deploy", "lyon")
    assert failed.exit_code == 6 and "FAILED" in failed.output
    kube.resume()
    assert run("cluster", "delete", "lyon", "--yes").exit_code == 0
    assert run("cluster", "list", "-o", "json").stdout.strip() == "[]"
    assert run("registry", "delete", "ghcr", "--yes").exit_code == 0
