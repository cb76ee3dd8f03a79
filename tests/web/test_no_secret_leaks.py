"""Secrets never leak: not in API responses (success or error), CLI output, log records, the
audit trail, or the database itself (where the column holds ciphertext)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, select

from tests.conftest import Run
from tests.support.payloads import ALL_KINDS, registry_payload, secret_texts_of
from vectis_admin.runtime import Runtime
from vectis_admin.settings import Settings


def _dump_database(runtime: Runtime) -> str:
    """Every value of every row of every table, as text."""
    metadata = MetaData()
    metadata.reflect(runtime.engine)
    chunks = []
    with runtime.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                chunks.append(json.dumps([str(v) for v in row]))
    return "\n".join(chunks)


def test_no_channel_shows_a_stored_secret(
    api: TestClient,
    runtime: Runtime,
    run: Run,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets: list[str] = []
    seen: list[str] = []

    def keep(response: Any) -> None:
        seen.append(response.text)

    ids = []
    for kind in ALL_KINDS:
        payload = registry_payload(kind)
        secrets += secret_texts_of(payload)
        created = api.post("/api/v1/registries", json=payload)
        assert created.status_code == 201, created.text
        keep(created)
        ids.append(created.json()["id"])

    # Updates, including a secret change and error paths that carry secrets in the request.
    new = registry_payload("ghcr")
    secrets += secret_texts_of(new)
    keep(api.patch(f"/api/v1/registries/{ids[1]}", json={"credentials": new["credentials"]}))
    bad_url = registry_payload("generic", name="bad", url="reg.example.com/not/a/host")
    secrets += secret_texts_of(bad_url)
    keep(api.post("/api/v1/registries", json=bad_url))
    wrong_type = {"name": "w", "kind": "ghcr", "credentials": secrets[0]}
    keep(api.post("/api/v1/registries", json=wrong_type))
    not_json_key = {
        "name": "g",
        "kind": "gcr",
        "credentials": {"username": "_json_key", "password": secrets[0]},
    }
    keep(api.post("/api/v1/registries", json=not_json_key))
    dup = registry_payload("ghcr", name=registry_payload("ghcr")["name"])
    secrets += secret_texts_of(dup)
    keep(api.post("/api/v1/registries", json=dup))

    # Every read the API offers.
    keep(api.get("/api/v1/registries", params={"limit": 500}))
    for registry_id in ids:
        keep(api.get(f"/api/v1/registries/{registry_id}"))
    keep(api.get("/api/v1/audit", params={"limit": 500}))
    keep(api.get("/openapi.json"))

    # Every CLI read, and CLI writes reading secrets from stdin.
    cli_secret = "cli-" + "s" * 24
    secrets.append(cli_secret)
    for args in (
        [
            "registry",
            "add",
            "cli-reg",
            "--kind",
            "generic",
            "--url",
            "r.example.com",
            "--username",
            "u",
            "--password-stdin",
        ],
        ["registry", "update", "cli-reg", "--password-stdin"],
    ):
        result = run(*args, input=cli_secret)
        assert result.exit_code == 0, result.output
        seen.append(result.output)
    for args in (
        ["registry", "list"],
        ["registry", "list", "-o", "json"],
        ["audit", "list", "-o", "json"],
        ["registry", "show", "cli-reg"],
        ["registry", "show", "cli-reg", "-o", "json"],
    ):
        result = run(*args)
        assert result.exit_code == 0, result.output
        seen.append(result.output)

    seen += [record.getMessage() for record in caplog.records]
    seen += [str(record.args) for record in caplog.records]
    seen.append(_dump_database(runtime))
    db_file = Path(settings.resolved_database_url.removeprefix("sqlite:///"))
    if db_file.exists():
        for path in db_file.parent.glob(db_file.name + "*"):  # the file and its WAL
            seen.append(path.read_bytes().decode("latin-1"))

    haystack = "\n".join(seen)
    assert len(secrets) >= 10
    for secret in secrets:
        assert secret not in haystack
    # The stored column is ciphertext that still decrypts to the secret.
    record = runtime.registries.get(ids[0])
    assert record.secret_ciphertext and record.secret_ciphertext.startswith("gAAAA")
    assert runtime.registries.secrets_of(record)["password"] in secrets


def test_no_page_of_the_console_shows_a_stored_secret(
    runtime: Runtime, kube: Any, settings: Settings
) -> None:
    """Every page and fragment, with registries of every kind, an orchestrator and a deployed
    cluster in place: none shows a registry secret or the orchestrator's token."""
    from tests.conftest import ADMIN_PASSWORD
    from tests.support.pages import log_in
    from vectis_admin.web.app import create_app
    from vectis_admin.web.schemas.orchestrators import OrchestratorCreate
    from vectis_admin.web.schemas.registries import RegistryCreate

    secrets: list[str] = [kube.token]
    registry_ids = []
    for kind in ALL_KINDS:
        payload = registry_payload(kind)
        secrets += secret_texts_of(payload)
        draft = RegistryCreate.model_validate(payload).to_draft()
        registry_ids.append(runtime.registries.create(draft, actor="test").registry.id)
    orchestrator, _ = runtime.orchestrators.create(
        OrchestratorCreate.model_validate(
            {
                "name": "lab",
                "kind": "K3S",
                "auth_mode": "token",
                "api_server_url": kube.base_url,
                "credentials": {"token": kube.token},
            }
        ).to_draft(),
        actor="test",
    )
    from vectis_admin.services.clusters import ClusterDraft

    cluster = runtime.clusters.create(
        ClusterDraft(
            name="prod",
            orchestrator=orchestrator.id,
            deployment_name="vectis",
            storage_host_path="/srv/v",
            namespace="prod",
            registry=registry_ids[1],
        ),
        actor="test",
    )
    runtime.clusters.deploy(cluster.id, actor="test")
    kube.complete_rollout("prod", "vectis")
    pages = [
        "/",
        "/registries",
        "/registries/cards",
        "/registries/new?kind=ghcr",
        *(f"/registries/{rid}/edit" for rid in registry_ids),
        "/orchestrators",
        f"/orchestrators?edit={orchestrator.id}",
        "/clusters",
        "/clusters?new",
        f"/clusters/{cluster.id}",
        f"/clusters/{cluster.id}/status",
        f"/clusters/{cluster.id}/pods",
        f"/clusters/{cluster.id}/diagnosis",
        "/audit",
        "/tokens",
        f"/clusters/tags?registry={registry_ids[1]}",
    ]
    seen = []
    with TestClient(create_app(runtime), follow_redirects=False) as browser:
        log_in(browser, ADMIN_PASSWORD)
        for path in pages:
            response = browser.get(path)
            assert response.status_code == 200, (path, response.status_code)
            seen.append(response.text)
    haystack = "\n".join(seen)
    for secret in secrets:
        assert secret not in haystack
