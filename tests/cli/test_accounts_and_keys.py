"""`vectis-admin admin|token|keys|audit …`."""

from __future__ import annotations

import stat

from cryptography.fernet import Fernet

from tests.conftest import Run, add_generic_registry
from tests.support.payloads import registry_payload
from vectis_admin.runtime import open_runtime
from vectis_admin.settings import Settings


def test_reset_password_generated_then_from_stdin(run: Run, settings: Settings) -> None:
    result = run("admin", "reset-password")
    assert result.exit_code == 0, result.output
    generated = result.stdout.rsplit(":", 1)[1].strip()
    assert len(generated) >= 12
    rt = open_runtime(settings)
    try:
        assert rt.accounts.authenticate_password("admin", generated) == "admin"
    finally:
        rt.close()
    chosen = "a-much-better-password"
    result = run("admin", "reset-password", "--password-stdin", input=chosen + "\n")
    assert result.exit_code == 0 and chosen not in result.output
    too_short = run("admin", "reset-password", "--password-stdin", input="short\n")
    assert too_short.exit_code == 3
    assert "password" in too_short.output


def test_token_create_list_revoke(run: Run) -> None:
    run("admin", "reset-password")  # the admin must exist
    created = run("token", "create", "ci", "--ttl-days", "30")
    assert created.exit_code == 0
    token = created.stdout.strip()
    assert token.startswith("vxa_")
    listed = run("token", "list")
    assert "ci" in listed.stdout and token not in listed.stdout
    token_id = listed.stdout.splitlines()[1].split()[0]
    assert run("token", "revoke", token_id).exit_code == 0
    assert run("token", "revoke", token_id).exit_code == 4
    assert run("token", "create", "x", "--ttl-days", "0").exit_code == 3


def test_keys_rotate_with_key_file(run: Run, settings: Settings) -> None:
    password = registry_payload("generic")["credentials"]["password"]
    add_generic_registry(run, password)
    key_file = settings.resolved_key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    old_key = key_file.read_text().strip()
    result = run("keys", "rotate")
    assert result.exit_code == 0, result.output
    assert "re-encrypted 1 registry" in result.output
    new_key = key_file.read_text().strip()
    assert new_key != old_key and "\n" not in new_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    rt = open_runtime(settings)
    try:
        record = rt.registries.get("priv")
        assert rt.registries.secrets_of(record)["password"] == password
        # Only the new key can read it now.
        assert Fernet(new_key.encode()).decrypt(record.secret_ciphertext.encode())  # type: ignore[union-attr]
    finally:
        rt.close()
    assert "keys.rotate" in run("audit", "list").stdout


def test_keys_rotate_with_environment_keys(
    run: Run, cli_env: dict[str, str], settings: Settings
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    cli_env["VECTIS_SECRET_KEY"] = old
    password = registry_payload("generic")["credentials"]["password"]
    add_generic_registry(run, password)
    cli_env["VECTIS_SECRET_KEY"] = f"{new},{old}"
    assert run("keys", "rotate").exit_code == 0
    cli_env["VECTIS_SECRET_KEY"] = new
    shown = run("registry", "show", "priv")
    assert shown.exit_code == 0
    rt = open_runtime(Settings(**{**settings.model_dump(), "secret_key": new}))
    try:
        assert rt.registries.secrets_of(rt.registries.get("priv"))["password"] == password
    finally:
        rt.close()


def test_wrong_key_is_a_clear_error(run: Run, cli_env: dict[str, str]) -> None:
    cli_env["VECTIS_SECRET_KEY"] = Fernet.generate_key().decode()
    add_generic_registry(run, "pw-value-1234")
    cli_env["VECTIS_SECRET_KEY"] = Fernet.generate_key().decode()
    result = run("registry", "update", "priv", "--description", "x")
    assert result.exit_code == 1
    assert "cannot be decrypted" in result.output
    cli_env["VECTIS_SECRET_KEY"] = "not-a-key"
    bad = run("registry", "list")
    assert bad.exit_code == 3 and "VECTIS_SECRET_KEY" in bad.output


def test_keys_generate_prints_a_key(run: Run) -> None:
    result = run("keys", "generate")
    assert Fernet(result.stdout.strip().encode())
