"""`vectis-admin registry …`: every operation and error path, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.conftest import Run
from tests.support.payloads import registry_payload


def add_ghcr(run: Run, name: str = "gh", *extra: str) -> str:
    password = registry_payload("ghcr")["credentials"]["password"]
    result = run(
        "registry",
        "add",
        name,
        "--kind",
        "ghcr",
        "--username",
        "octo",
        "--image-path",
        "cpoder/vectis-server",
        "--password-stdin",
        *extra,
        input=password + "\n",
    )
    assert result.exit_code == 0, result.output
    return str(password)


def show_json(run: Run, name: str) -> dict[str, object]:
    result = run("registry", "show", name, "--output", "json")
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_add_list_show(run: Run) -> None:
    password = add_ghcr(run)
    listed = run("registry", "list")
    assert listed.exit_code == 0
    assert "gh" in listed.stdout and "ghcr.io" in listed.stdout and "NAME" in listed.stdout
    data = json.loads(run("registry", "list", "-o", "json").stdout)
    assert [r["name"] for r in data] == ["gh"]
    shown = show_json(run, "gh")
    assert shown["credentials"] == {"username": "octo"}
    assert shown["secret_fields_set"] == ["password"]
    table = run("registry", "show", "gh")
    assert "ghcr.io/cpoder/vectis-server:latest" in table.stdout
    for output in (listed.output, table.output, json.dumps(data)):
        assert password not in output


def test_add_ecr_reads_several_secrets_from_stdin(run: Run) -> None:
    creds = registry_payload("ecr")["credentials"]
    stdin = (
        f"access_key_id={creds['access_key_id']}\nsecret_access_key={creds['secret_access_key']}\n"
    )
    result = run(
        "registry",
        "add",
        "ecr",
        "--kind",
        "ecr",
        "--url",
        "123456789012.dkr.ecr.eu-west-3.amazonaws.com",
        "--region",
        "eu-west-3",
        "--password-stdin",
        input=stdin,
    )
    assert result.exit_code == 0, result.output
    assert show_json(run, "ecr")["secret_fields_set"] == ["access_key_id", "secret_access_key"]


def test_add_prompts_hidden_when_no_stdin_flag(run: Run) -> None:
    result = run(
        "registry",
        "add",
        "priv",
        "--kind",
        "generic",
        "--url",
        "reg.example.com",
        "--username",
        "admin",
        input="s3cret-value-here\n",
    )
    assert result.exit_code == 0, result.output
    assert "s3cret-value-here" not in result.output


def test_password_is_never_a_plain_argument(run: Run) -> None:
    result = run("registry", "add", "x", "--kind", "ghcr", "--password", "hunter2")
    assert result.exit_code == 2


def test_update_keeps_omitted_secret_and_changes_given_one(run: Run) -> None:
    add_ghcr(run)
    result = run("registry", "update", "gh", "--description", "prod", "--tag", "1.2.3")
    assert result.exit_code == 0, result.output
    shown = show_json(run, "gh")
    assert shown["description"] == "prod" and shown["default_tag"] == "1.2.3"
    assert shown["version"] == 2
    result = run("registry", "update", "gh", "--password-stdin", input="ghp" + "_" + "q" * 36)
    assert result.exit_code == 0, result.output
    assert show_json(run, "gh")["version"] == 3


def test_update_with_stale_version_exits_5(run: Run) -> None:
    add_ghcr(run)
    run("registry", "update", "gh", "--description", "a")
    result = run("registry", "update", "gh", "--description", "b", "--version", "1")
    assert result.exit_code == 5
    assert "changed" in result.output
    assert show_json(run, "gh")["description"] == "a"


def test_delete_and_set_default(run: Run) -> None:
    add_ghcr(run, "one")
    add_ghcr(run, "two")
    assert run("registry", "set-default", "two").exit_code == 0
    assert show_json(run, "two")["is_default"] is True
    assert run("registry", "delete", "one", "--yes").exit_code == 0
    assert run("registry", "show", "one").exit_code == 4
    refused = run("registry", "delete", "two", input="n\n")
    assert refused.exit_code == 1  # aborted at the confirmation: nothing deleted
    assert show_json(run, "two")["name"] == "two"


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["registry", "show", "missing"], 4, "not found"),
        (["registry", "add", "x", "--kind", "generic", "--url", "a.b/c", "--no-auth"], 3, "url"),
        (["registry", "add", "x", "--kind", "nope"], 2, "kind"),
        (["registry", "list", "--output", "xml"], 3, "--output"),
        (["registry", "set-default", "missing"], 4, "not found"),
        (["registry", "frobnicate"], 2, "No such command"),
    ],
)
def test_error_exit_codes(run: Run, args: list[str], code: int, needle: str) -> None:
    result = run(*args)
    assert result.exit_code == code, result.output
    assert needle in result.output


def test_duplicate_name_exits_5(run: Run) -> None:
    add_ghcr(run, "dup")
    result = run(
        "registry",
        "add",
        "dup",
        "--kind",
        "dockerhub",
        "--no-auth",
    )
    assert result.exit_code == 5
    assert "already exists" in result.output


def test_import_docker_config(run: Run, tmp_path: Path) -> None:
    password = "import-" + "p" * 20
    auth = base64.b64encode(f"deployer:{password}".encode()).decode()
    config = {
        "auths": {
            "https://index.docker.io/v1/": {"auth": auth},
            "registry.mycompany.com:5000": {"username": "ci", "password": password},
            "ghcr.io": {},
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com": {"auth": auth},
        },
        "credHelpers": {"ghcr.io": "desktop", "gcr.io": "gcloud"},
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    result = run("registry", "import-docker-config", str(path))
    assert result.exit_code == 0, result.output
    assert "imported  docker.io (dockerhub)" in result.output
    assert "imported  registry.mycompany.com:5000 (generic)" in result.output
    assert "ghcr.io" in result.output and "gcr.io" in result.output
    assert "12-hour token" in result.output
    assert "2 imported" in result.output
    assert password not in result.output
    hub = show_json(run, "docker.io")
    assert hub["credentials"] == {"username": "deployer"}


def test_import_docker_config_bad_file(run: Run, tmp_path: Path) -> None:
    missing = run("registry", "import-docker-config", str(tmp_path / "nope.json"))
    assert missing.exit_code == 3
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = run("registry", "import-docker-config", str(bad))
    assert result.exit_code == 3
    assert "config" in result.output
