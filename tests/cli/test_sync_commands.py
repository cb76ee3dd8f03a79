"""`vectis-admin registry namespaces|sync` and `vectis-admin reconcile` with the emulator."""

from __future__ import annotations

from typing import Any

from tests.conftest import Run, add_emulator_orchestrator


def test_namespaces_sync_and_reconcile(run: Run, kube: Any) -> None:
    for namespace in ("ops", "qa"):
        kube.ensure_namespace(namespace)
    add_emulator_orchestrator(run, kube)
    assert (
        run(
            "registry",
            "add",
            "corp",
            "--kind",
            "generic",
            "--url",
            "reg.corp.example",
            "--username",
            "u",
            "--password-stdin",
            input="cli-sync-pw-1",
        ).exit_code
        == 0
    )
    placed = run("registry", "namespaces", "corp", "--set", "lab/ops", "--set", "lab/qa")
    assert placed.exit_code == 0, placed.output
    assert "synced   ops" in placed.output and "2 copies, 2 writes" in placed.output
    assert run("registry", "namespaces", "corp").stdout.split() != []
    kube.clear_journal()
    again = run("reconcile")
    assert again.exit_code == 0, again.output
    assert "0 writes, 0 not synced" in again.output
    assert kube.writes() == []
    kube.refuse()
    failing = run("registry", "sync", "corp")
    assert failing.exit_code == 6 and "pending" in failing.output
    kube.resume()
    assert run("registry", "sync", "corp").exit_code == 0
    bad = run("registry", "namespaces", "corp", "--set", "no-slash")
    assert bad.exit_code == 3
    for result in (placed, again, failing):
        assert "cli-sync-pw-1" not in result.output
