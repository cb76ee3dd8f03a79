"""`vectis-admin orchestrator …` against the Kubernetes API emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import Run


def test_add_list_test_update_delete(run: Run, kube: Any, tmp_path: Path) -> None:
    added = run(
        "orchestrator",
        "add",
        "lab",
        "--kind",
        "K3S",
        "--auth",
        "token",
        "--server",
        kube.base_url,
        "--token-stdin",
        input=kube.token,
    )
    assert added.exit_code == 0, added.output
    assert "warning: the API server URL is plain HTTP" in added.output
    listed = run("orchestrator", "list", "-o", "json")
    assert [o["name"] for o in json.loads(listed.stdout)] == ["lab"]
    tested = run("orchestrator", "test", "lab")
    assert tested.exit_code == 0, tested.output
    assert "Kubernetes v1.37.0" in tested.output and "[ok  ] create secrets" in tested.output
    kube.deny("patch", "deployments")
    denied = run("orchestrator", "test", "lab")
    assert denied.exit_code == 6 and "[FAIL] patch deployments" in denied.output
    kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig")
    switched = run(
        "orchestrator",
        "update",
        "lab",
        "--kubeconfig",
        str(kubeconfig),
        "--context",
        "emulator",
    )
    assert switched.exit_code == 3  # token mode does not take a kubeconfig
    assert "credentials.kubeconfig" in switched.output
    assert run("orchestrator", "delete", "lab", "--yes").exit_code == 0
    assert run("orchestrator", "show", "lab").exit_code == 4
    for result in (added, listed, tested, denied):
        assert kube.token not in result.output


def test_secrets_only_from_files_or_stdin(run: Run) -> None:
    result = run("orchestrator", "add", "x", "--kind", "K3S", "--auth", "token", "--token", "t")
    assert result.exit_code == 2
