"""Settings: environment, optional TOML file, zero-configuration defaults, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from vectis_admin.errors import InvalidInput
from vectis_admin.settings import load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in (
        "VECTIS_DATA_DIR",
        "VECTIS_DATABASE_URL",
        "VECTIS_PORT",
        "VECTIS_CONFIG_FILE",
        "VECTIS_ADMIN_PASSWORD",
        "VECTIS_SECRET_KEY",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


def test_defaults_need_no_setup(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.data_dir == tmp_path / "xdg" / "vectis-admin"
    assert settings.resolved_database_url == f"sqlite:///{settings.data_dir}/vectis-admin.db"
    assert settings.resolved_key_file == settings.data_dir / "secret.key"
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)


def test_environment_then_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "vectis.toml"
    config.write_text('port = 9000\nhost = "0.0.0.0"\ndatabase_url = "sqlite:///x.db"\n')
    monkeypatch.setenv("VECTIS_CONFIG_FILE", str(config))
    monkeypatch.setenv("VECTIS_PORT", "9100")
    settings = load_settings()
    assert settings.port == 9100  # the environment wins
    assert settings.host == "0.0.0.0"
    assert settings.database_url == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"VECTIS_PORT": "70000"}, "VECTIS_PORT"),
        ({"VECTIS_ADMIN_PASSWORD": "changeme"}, "VECTIS_ADMIN_PASSWORD"),
        ({"VECTIS_SECRET_KEY": "password"}, "VECTIS_SECRET_KEY"),
        ({"VECTIS_CONFIG_FILE": "/nonexistent/vectis.toml"}, "VECTIS_CONFIG_FILE"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], field: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(InvalidInput) as caught:
        load_settings()
    assert caught.value.issues[0].field == field
    for value in env.values():
        if "password" in value or "changeme" in value:
            assert value not in str(caught.value)


def test_network_lists_are_checked_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().network_policy.refusal("169.254.169.254") is not None
    monkeypatch.setenv("VECTIS_ALLOWED_NETWORKS", "169.254.0.0/16")
    assert load_settings().network_policy.refusal("169.254.169.254") is None
    monkeypatch.setenv("VECTIS_BLOCKED_NETWORKS", "10.0.0.0/8,bogus")
    with pytest.raises(InvalidInput) as caught:
        load_settings()
    assert caught.value.issues[0].field == "VECTIS_BLOCKED_NETWORKS"
