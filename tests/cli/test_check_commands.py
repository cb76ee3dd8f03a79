"""`vectis-admin registry test|tags` against a real token-auth registry."""

from __future__ import annotations

import json

from tests.conftest import READER_PASSWORD, PullRegistry, Run


def add(run: Run, pull_registry: PullRegistry) -> None:
    result = run(
        "registry",
        "add",
        "local",
        "--kind",
        "generic",
        "--url",
        pull_registry.host,
        "--tls-mode",
        "http",
        "--image-path",
        "cpoder/vectis-server",
        "--tag",
        "1.0",
        "--username",
        "reader",
        "--password-stdin",
        input=READER_PASSWORD,
    )
    assert result.exit_code == 0, result.output


def test_registry_test_passes_then_fails_with_exit_6(run: Run, pull_registry: PullRegistry) -> None:
    add(run, pull_registry)
    ok = run("registry", "test", "local")
    assert ok.exit_code == 0, ok.output
    assert "[ok  ] Credentials accepted" in ok.output
    assert pull_registry.digests["1.0"] in ok.output
    assert "[warn] TLS certificate is trusted" in ok.output  # plain HTTP is flagged
    bad = run("registry", "test", "local", "--image", ":nope")
    assert bad.exit_code == 6
    assert "[FAIL] Image and tag exist" in bad.output and "fix:" in bad.output
    as_json = json.loads(run("registry", "test", "local", "-o", "json").stdout)
    assert as_json["ok"] is True
    assert READER_PASSWORD not in ok.output + bad.output


def test_registry_tags(run: Run, pull_registry: PullRegistry) -> None:
    add(run, pull_registry)
    result = run("registry", "tags", "local")
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == list(pull_registry.tags)
    page = json.loads(run("registry", "tags", "local", "--limit", "1", "-o", "json").stdout)
    assert page["items"] == [pull_registry.tags[0]] and page["total"] == 4
