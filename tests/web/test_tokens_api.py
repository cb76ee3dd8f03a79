"""API tokens belong to their user: nobody else can revoke them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from vectis_admin.runtime import Runtime


def test_a_token_of_another_user_cannot_be_revoked(api: TestClient, runtime: Runtime) -> None:
    runtime.accounts.reset_password(username="bob", password="bob-password-long", actor="test")
    bobs = runtime.accounts.create_token(username="bob", name="bob-ci", ttl_days=None, actor="bob")
    refused = api.delete(f"/api/v1/tokens/{bobs.record.id}")
    assert refused.status_code == 404
    bearer = {"Authorization": f"Bearer {bobs.token}"}
    assert api.get("/api/v1/registries", headers=bearer).status_code == 200
    assert api.delete(f"/api/v1/tokens/{bobs.record.id}", headers=bearer).status_code == 204
    assert api.get("/api/v1/registries", headers=bearer).status_code == 401
