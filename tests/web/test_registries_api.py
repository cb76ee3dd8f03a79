"""REST API `/api/v1/registries`: every operation and error path, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import basic
from tests.support.clock import FakeClock
from tests.support.payloads import ALL_KINDS, registry_payload
from vectis_admin.runtime import Runtime
from vectis_admin.services.registries import RegistryChanges


def create(api: TestClient, kind: str = "ghcr", **extra: Any) -> dict[str, Any]:
    response = api.post("/api/v1/registries", json=registry_payload(kind, **extra))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_create_each_kind_returns_public_view_without_secrets(api: TestClient, kind: str) -> None:
    body = create(api, kind)
    assert body["kind"] == kind
    assert body["version"] == 1
    assert body["has_credentials"] is True
    assert body["credential_age_days"] == 0
    assert body["secret_fields_set"]
    assert set(body["credentials"]).isdisjoint(body["secret_fields_set"])
    fetched = api.get(f"/api/v1/registries/{body['id']}").json()
    assert fetched["name"] == body["name"]


def test_create_defaults_url_from_kind_and_builds_image(api: TestClient) -> None:
    body = create(api, "ghcr")
    assert body["url"] == "ghcr.io"
    assert body["image"] == "ghcr.io/cpoder/vectis-server:latest"


def test_url_is_normalised(api: TestClient) -> None:
    body = create(api, "generic", url="HTTPS://Registry.MyCompany.com:5000/")
    assert body["url"] == "registry.mycompany.com:5000"


def test_anonymous_registry_without_credentials(api: TestClient) -> None:
    response = api.post(
        "/api/v1/registries",
        json={"name": "hub", "kind": "dockerhub", "requires_auth": False},
    )
    assert response.status_code == 201, response.text
    assert response.json()["has_credentials"] is False
    assert response.json()["credential_changed_at"] is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "x", "kind": "nope"}, "kind"),
        ({"name": "", "kind": "ghcr"}, "name"),
        ({"kind": "ghcr"}, "name"),
        ({"name": "x", "kind": "ghcr", "url": "docker.io"}, "url"),
        ({"name": "x", "kind": "generic", "url": "reg.example.com/path"}, "url"),
        ({"name": "x", "kind": "generic", "url": "u:p@reg.example.com"}, "url"),
        ({"name": "x", "kind": "harbor"}, "url"),
        ({"name": "x", "kind": "ghcr", "default_tag": "-bad"}, "default_tag"),
        ({"name": "x", "kind": "ghcr", "image_path": "Upper/Case"}, "image_path"),
        ({"name": "x", "kind": "ghcr", "credentials": {"username": "u"}}, "credentials.password"),
        ({"name": "x", "kind": "ghcr", "unknown": 1}, "unknown"),
    ],
)
def test_bad_input_names_field_and_changes_nothing(
    api: TestClient, payload: dict[str, Any], field: str
) -> None:
    response = api.post("/api/v1/registries", json=payload)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_input"
    assert field in [issue["field"] for issue in body["issues"]]
    assert all(issue["rule"] for issue in body["issues"])
    assert api.get("/api/v1/registries").json()["total"] == 0


def test_duplicate_name_is_409(api: TestClient) -> None:
    create(api, "ghcr", name="dup")
    response = api.post("/api/v1/registries", json=registry_payload("dockerhub", name="dup"))
    assert response.status_code == 409
    assert response.json()["reason"] == "duplicate_name"


def test_rename_to_existing_name_is_409(api: TestClient) -> None:
    create(api, "ghcr", name="one")
    two = create(api, "dockerhub", name="two")
    response = api.patch(f"/api/v1/registries/{two['id']}", json={"name": "one"})
    assert response.status_code == 409
    assert api.get(f"/api/v1/registries/{two['id']}").json()["name"] == "two"


def test_unknown_id_is_404(api: TestClient) -> None:
    for method in ("get", "patch", "delete"):
        kwargs = {"json": {}} if method == "patch" else {}
        response = getattr(api, method)("/api/v1/registries/no-such-id", **kwargs)
        assert response.status_code == 404, method
        assert response.json()["error"] == "not_found"
    assert api.post("/api/v1/registries/no-such-id/default").status_code == 404


def test_list_filters_and_paginates(api: TestClient) -> None:
    for i in range(5):
        create(api, "ghcr", name=f"gh-{i}")
    create(api, "dockerhub", name="hub", enabled=False)
    page = api.get("/api/v1/registries", params={"limit": 2, "offset": 2}).json()
    assert [r["name"] for r in page["items"]] == ["gh-2", "gh-3"]
    assert page["total"] == 6
    assert api.get("/api/v1/registries", params={"kind": "dockerhub"}).json()["total"] == 1
    assert api.get("/api/v1/registries", params={"enabled": "false"}).json()["total"] == 1
    bad = api.get("/api/v1/registries", params={"limit": 0})
    assert bad.status_code == 422
    assert bad.json()["issues"][0]["field"] == "limit"


def test_partial_update_keeps_omitted_secret(
    api: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    payload = registry_payload("ghcr")
    created = api.post("/api/v1/registries", json=payload).json()
    clock.advance(days=3)
    response = api.patch(
        f"/api/v1/registries/{created['id']}",
        json={"description": "prod pulls", "version": 1},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["description"] == "prod pulls"
    assert body["version"] == 2
    assert body["credential_changed_at"] == created["credential_changed_at"]
    assert body["credential_age_days"] == 3
    stored = runtime.registries.secrets_of(runtime.registries.get(created["id"]))
    assert stored["password"] == payload["credentials"]["password"]


def test_update_secret_changes_credential_date(
    api: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    created = create(api, "ghcr")
    clock.advance(days=100)
    new_password = "ghp" + "_" + "n" * 36
    response = api.patch(
        f"/api/v1/registries/{created['id']}", json={"credentials": {"password": new_password}}
    )
    assert response.status_code == 200, response.text
    assert response.json()["credential_age_days"] == 0
    assert response.json()["credentials"]["username"] == "octo"
    record = runtime.registries.get(created["id"])
    assert runtime.registries.secrets_of(record)["password"] == new_password


def test_update_with_stale_version_is_409_and_changes_nothing(api: TestClient) -> None:
    created = create(api, "ghcr")
    assert api.patch(f"/api/v1/registries/{created['id']}", json={"description": "a"}).is_success
    response = api.patch(
        f"/api/v1/registries/{created['id']}", json={"description": "b", "version": 1}
    )
    assert response.status_code == 409
    assert response.json()["reason"] == "stale_version"
    assert api.get(f"/api/v1/registries/{created['id']}").json()["description"] == "a"


def test_invalid_update_names_field_and_changes_nothing(api: TestClient) -> None:
    created = create(api, "ecr")
    response = api.patch(
        f"/api/v1/registries/{created['id']}", json={"credentials": {"region": "us-east-1"}}
    )
    assert response.status_code == 422
    assert response.json()["issues"][0]["field"] == "credentials.region"
    assert api.get(f"/api/v1/registries/{created['id']}").json()["version"] == 1


def test_set_default_keeps_a_single_default(api: TestClient) -> None:
    first = create(api, "ghcr", name="first", is_default=True)
    second = create(api, "dockerhub", name="second")
    response = api.post(f"/api/v1/registries/{second['id']}/default")
    assert response.status_code == 200
    assert response.json()["is_default"] is True
    defaults = [r["name"] for r in api.get("/api/v1/registries").json()["items"] if r["is_default"]]
    assert defaults == ["second"]
    assert api.get(f"/api/v1/registries/{first['id']}").json()["version"] == 2


def test_disabled_registry_cannot_be_default(api: TestClient) -> None:
    reg = create(api, "ghcr", enabled=False)
    response = api.post(f"/api/v1/registries/{reg['id']}/default")
    assert response.status_code == 409
    assert response.json()["reason"] == "disabled"


def test_delete(api: TestClient) -> None:
    reg = create(api, "ghcr")
    assert api.delete(f"/api/v1/registries/{reg['id']}").status_code == 204
    assert api.get(f"/api/v1/registries/{reg['id']}").status_code == 404


def test_delete_with_stale_version_is_409(api: TestClient) -> None:
    reg = create(api, "ghcr")
    api.patch(f"/api/v1/registries/{reg['id']}", json={"description": "x"})
    response = api.delete(f"/api/v1/registries/{reg['id']}", params={"version": 1})
    assert response.status_code == 409
    assert api.get(f"/api/v1/registries/{reg['id']}").status_code == 200


def test_every_change_is_audited_without_values_of_secrets(api: TestClient) -> None:
    reg = create(api, "ghcr")
    api.patch(
        f"/api/v1/registries/{reg['id']}",
        json={"description": "d", "credentials": {"password": "ghp" + "_" + "z" * 36}},
    )
    api.post(f"/api/v1/registries/{reg['id']}/default")
    api.delete(f"/api/v1/registries/{reg['id']}")
    entries = api.get("/api/v1/audit", params={"target_id": reg["id"]}).json()["items"]
    assert [e["action"] for e in entries] == [
        "registry.delete",
        "registry.set_default",
        "registry.update",
        "registry.create",
    ]
    update = entries[2]
    assert update["actor"] == "admin"
    assert update["changes"]["credentials.password"] == "changed"
    assert update["changes"]["description"] == {"from": "", "to": "d"}
    assert entries[3]["changes"]["credentials.password"] == "set"


@pytest.mark.parametrize(
    "headers",
    [{}, basic("admin", "wrong-password!"), basic("nobody", "x"), {"Authorization": "Bearer nope"}],
)
def test_authentication_is_required(runtime: Runtime, headers: dict[str, str]) -> None:
    from vectis_admin.web.app import create_app

    with TestClient(create_app(runtime)) as client:
        response = client.get("/api/v1/registries", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")


def test_api_token_authenticates_until_revoked(api: TestClient, runtime: Runtime) -> None:
    from vectis_admin.web.app import create_app

    created = api.post("/api/v1/tokens", json={"name": "ci"}).json()
    with TestClient(create_app(runtime)) as client:
        bearer = {"Authorization": f"Bearer {created['token']}"}
        assert client.get("/api/v1/registries", headers=bearer).status_code == 200
        listed = api.get("/api/v1/tokens").json()
        assert "token" not in listed[0] and listed[0]["last_used_at"] is not None
        assert api.delete(f"/api/v1/tokens/{created['id']}").status_code == 204
        assert client.get("/api/v1/registries", headers=bearer).status_code == 401


def test_api_token_expires(api: TestClient, runtime: Runtime, clock: FakeClock) -> None:
    from vectis_admin.web.app import create_app

    token = api.post("/api/v1/tokens", json={"name": "short", "ttl_days": 1}).json()["token"]
    clock.advance(days=2)
    with TestClient(create_app(runtime)) as client:
        response = client.get("/api/v1/registries", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_openapi_docs_are_served(api: TestClient) -> None:
    assert api.get("/docs").status_code == 200
    schema = api.get("/openapi.json").json()
    assert "/api/v1/registries/{registry_id}/default" in schema["paths"]


def test_concurrent_writers_one_wins_one_gets_409(runtime: Runtime) -> None:
    """Two writers read version 1 and write at the same time: one 409, nothing silently lost."""
    saved = runtime.registries.create(
        _draft(registry_payload("ghcr", name="contended")), actor="setup"
    )
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def writer(label: str) -> None:
        barrier.wait()
        try:
            runtime.registries.update(
                saved.registry.id,
                RegistryChanges(description=label, expected_version=1),
                actor=label,
            )
            outcomes[label] = "ok"
        except Exception as exc:  # noqa: BLE001 - the test records which error happened
            outcomes[label] = type(exc).__name__

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["Conflict", "ok"]
    winner = next(k for k, v in outcomes.items() if v == "ok")
    final = runtime.registries.get(saved.registry.id)
    assert final.description == winner
    assert final.version == 2
    audit = runtime.audit.list(target_id=saved.registry.id, action="registry.update")
    assert [e.actor for e in audit.items] == [winner]


def _draft(payload: dict[str, Any]) -> Any:
    from vectis_admin.web.schemas.registries import RegistryCreate

    return RegistryCreate.model_validate(payload).to_draft()


def _ca_pem() -> str:
    from tests.support.registry_server import make_tls_material

    return make_tls_material().ca_pem.decode()


def test_tls_modes_and_ca_bundle(api: TestClient) -> None:
    skip = create(api, "generic", name="skip", tls_mode="skip-verify")
    assert skip["insecure"] is True
    assert any("TLS verification is off" in w for w in skip["warnings"])
    plain = create(api, "generic", name="plain", tls_mode="http")
    assert any("plain HTTP" in w for w in plain["warnings"])
    ca = _ca_pem()
    trusted = create(api, "harbor", name="harbor", ca_bundle=ca)
    assert trusted["insecure"] is False
    assert trusted["ca_bundle"].strip() == ca.strip()
    removed = api.patch(f"/api/v1/registries/{trusted['id']}", json={"ca_bundle": ""})
    assert removed.json()["ca_bundle"] is None
    audit = api.get("/api/v1/audit", params={"target_id": trusted["id"]}).json()["items"][0]
    change = audit["changes"]["ca_bundle"]
    assert change["to"] is None and len(change["from"]) == 16  # a fingerprint, not the PEM


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"kind": "ghcr", "tls_mode": "skip-verify"}, "tls_mode"),
        ({"kind": "generic", "tls_mode": "nope"}, "tls_mode"),
        ({"kind": "generic", "ca_bundle": "not a certificate"}, "ca_bundle"),
        (
            {"kind": "generic", "ca_bundle": "-----BEGIN " + "PRIVATE KEY-----\nAAAA\n-----END"},
            "ca_bundle",
        ),
    ],
)
def test_bad_tls_settings(api: TestClient, extra: dict[str, Any], field: str) -> None:
    options = dict(extra)
    payload = registry_payload(options.pop("kind"), **options)
    response = api.post("/api/v1/registries", json=payload)
    assert response.status_code == 422
    assert field in [i["field"] for i in response.json()["issues"]]


def test_every_broken_rule_is_reported_at_once(api: TestClient) -> None:
    response = api.post(
        "/api/v1/registries",
        json={"name": " ", "kind": "generic", "url": "bad/path", "default_tag": "-x"},
    )
    assert response.status_code == 422
    assert {i["field"] for i in response.json()["issues"]} >= {"name", "url", "default_tag"}


def test_audit_filters_by_time(api: TestClient, clock: FakeClock) -> None:
    create(api, "ghcr", name="early")
    clock.advance(days=2)
    create(api, "ghcr", name="late")
    since = (clock.now() - timedelta(days=1)).isoformat()
    recent = api.get("/api/v1/audit", params={"since": since, "action": "registry.create"})
    assert [e["target_name"] for e in recent.json()["items"]] == ["late"]
    older = api.get("/api/v1/audit", params={"until": since, "action": "registry.create"})
    assert [e["target_name"] for e in older.json()["items"]] == ["early"]
    assert api.get("/api/v1/audit", params={"since": "yesterday"}).status_code == 422
