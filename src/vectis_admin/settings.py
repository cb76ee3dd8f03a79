"""Configuration: one validated settings object, built at start-up and passed explicitly.

Sources, strongest first: environment variables `VECTIS_*`, then an optional TOML file named by
`VECTIS_CONFIG_FILE`, then defaults that need no set-up (SQLite in the data directory).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vectis_admin.domain.network_policy import DEFAULT_BLOCKED, NetworkPolicy, parse_networks
from vectis_admin.errors import FieldIssue, InvalidInput

__all__ = ["Settings", "load_settings"]

_PLACEHOLDERS = {"changeme", "change-me", "changethis", "secret", "password", "admin"}


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "vectis-admin"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VECTIS_", extra="ignore", frozen=True)

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # Comma-separated Fernet keys, newest first; when unset, the key file is used (created once).
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None
    admin_username: str = "admin"
    admin_password: SecretStr | None = None
    log_level: str = "info"
    # Mark the console's session cookie Secure (set it when the console is served over HTTPS).
    cookie_secure: bool = False
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    # SSRF guard for connection tests: comma-separated CIDRs; "allowed" wins over "blocked".
    blocked_networks: str = ",".join(DEFAULT_BLOCKED)
    allowed_networks: str = ""
    # Parallel Kubernetes writes when pushing pull secrets to many namespaces.
    sync_concurrency: int = Field(default=16, ge=1, le=64)
    # Time allowed to each registry request made by checks.
    registry_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @field_validator("admin_password", "secret_key")
    @classmethod
    def _refuse_placeholders(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip().lower() in _PLACEHOLDERS:
            raise ValueError("must not be a placeholder value; choose a real secret")
        return value

    @property
    def network_policy(self) -> NetworkPolicy:
        return NetworkPolicy(
            blocked=parse_networks(self.blocked_networks, field="VECTIS_BLOCKED_NETWORKS"),
            allowed=parse_networks(self.allowed_networks, field="VECTIS_ALLOWED_NETWORKS"),
        )

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'vectis-admin.db'}"

    @property
    def resolved_key_file(self) -> Path:
        return self.secret_key_file or self.data_dir / "secret.key"


def load_settings(**overrides: Any) -> Settings:
    """Build the settings; a broken value becomes InvalidInput naming the variable."""
    from pydantic import ValidationError

    file_values: dict[str, Any] = {}
    config_file = os.environ.get("VECTIS_CONFIG_FILE")
    if config_file:
        try:
            file_values = tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InvalidInput.one(
                "VECTIS_CONFIG_FILE", f"must name a readable TOML file ({exc.__class__.__name__})"
            ) from exc
    # Environment wins over the file: only pass file values the environment does not set.
    merged = {
        k: v for k, v in file_values.items() if f"VECTIS_{k.upper()}" not in os.environ
    } | overrides
    try:
        settings = Settings(**merged)
        settings.network_policy  # noqa: B018 - validates the network lists at start-up
        return settings
    except ValidationError as exc:
        raise InvalidInput(
            [
                FieldIssue("VECTIS_" + ".".join(str(p) for p in e["loc"]).upper(), e["msg"])
                for e in exc.errors(include_input=False)
            ]
        ) from None
