"""Test Connection and tags through the REST API, against a real token-auth registry."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import READER_PASSWORD, PullRegistry


def create(api: TestClient, pull_registry: PullRegistry, **extra: Any) -> dict[str, Any]:
    response = api.post("/api/v1/registries", json=pull_registry.payload() | extra)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_saved_registry_check_passes_with_digest_and_is_recorded(
    api: TestClient, pull_registry: PullRegistry
) -> None:
    registry = create(api, pull_registry)
    response = api.post(f"/api/v1/registries/{registry['id']}/test")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["ok"] is True
    assert report["digest"] == pull_registry.digests["1.0"]
    assert report["platforms"] == ["linux/amd64", "linux/arm64"]
    assert [s["step"] for s in report["steps"]] == [
        "dns",
        "tcp",
        "tls",
        "api_version",
        "auth_scheme",
        "credentials",
        "repository",
        "image",
    ]
    assert report["image"] == f"{pull_registry.host}/cpoder/vectis-server:1.0"
    card = api.get(f"/api/v1/registries/{registry['id']}").json()
    assert card["last_check"]["ok"] is True
    assert card["last_check"]["summary"].startswith("OK")
    assert card["version"] == registry["version"]  # a check is not an edit
    audit = api.get("/api/v1/audit", params={"action": "registry.test"}).json()["items"][0]
    assert audit["outcome"] == "success" and audit["changes"]["result"] == "ok"
    assert READER_PASSWORD not in response.text + str(audit)


def test_check_of_another_tag_reports_the_failing_step(
    api: TestClient, pull_registry: PullRegistry
) -> None:
    registry = create(api, pull_registry)
    missing = api.post(f"/api/v1/registries/{registry['id']}/test", json={"image": ":9.9"})
    assert missing.status_code == 200
    body = missing.json()
    assert body["ok"] is False
    image = next(s for s in body["steps"] if s["step"] == "image")
    assert image["status"] == "failed" and image["failure"] == "tag_missing"
    assert image["hint"]
    card = api.get(f"/api/v1/registries/{registry['id']}").json()
    assert card["last_check"]["ok"] is False
    arm = api.post(
        f"/api/v1/registries/{registry['id']}/test", json={"image": "cpoder/vectis-server:arm-only"}
    ).json()
    assert arm["steps"][-1]["failure"] == "no_amd64_variant"
    other = api.post(f"/api/v1/registries/{registry['id']}/test", json={"image": "ghcr.io/x/y:1"})
    assert other.status_code == 422
    assert other.json()["issues"][0]["field"] == "image"


def test_unsaved_form_values_are_tested_before_create(
    api: TestClient, pull_registry: PullRegistry
) -> None:
    wrong = pull_registry.payload(password="not-" + READER_PASSWORD)
    response = api.post("/api/v1/registries/test", json=wrong)
    assert response.status_code == 200, response.text
    body = response.json()
    failed = next(s for s in body["steps"] if s["status"] == "failed")
    assert failed["step"] == "credentials" and "credentials rejected" in failed["message"]
    fixed = api.post("/api/v1/registries/test", json=pull_registry.payload()).json()
    assert fixed["ok"] is True and fixed["digest"] == pull_registry.digests["1.0"]
    assert api.get("/api/v1/registries").json()["total"] == 0  # nothing was stored
    actions = [e["action"] for e in api.get("/api/v1/audit").json()["items"]]
    assert actions.count("registry.test_unsaved") == 2
    invalid = api.post("/api/v1/registries/test", json={"name": "x", "kind": "ghcr", "url": "a/b"})
    assert invalid.status_code == 422


def test_tags_are_read_from_the_registry_and_paginated(
    api: TestClient, pull_registry: PullRegistry
) -> None:
    registry = create(api, pull_registry)
    page = api.get(f"/api/v1/registries/{registry['id']}/tags").json()
    assert page["items"] == list(pull_registry.tags) and page["complete"] is True
    second = api.get(
        f"/api/v1/registries/{registry['id']}/tags", params={"limit": 2, "offset": 2}
    ).json()
    assert second["items"] == list(pull_registry.tags[2:4]) and second["total"] == 4


def test_tags_of_an_unreachable_registry_is_a_502(api: TestClient) -> None:
    from tests.support.net import free_port

    body = {
        "name": "down",
        "kind": "generic",
        "url": f"127.0.0.1:{free_port()}",
        "tls_mode": "http",
        "image_path": "a/b",
        "requires_auth": False,
    }
    registry = api.post("/api/v1/registries", json=body).json()
    response = api.get(f"/api/v1/registries/{registry['id']}/tags")
    assert response.status_code == 502
    assert "refused" in response.json()["message"]
