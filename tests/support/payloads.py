"""Registry payloads for every kind, with distinctive secrets generated at test time.

Secrets are built by concatenation so that no literal in the repository looks like a real token.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

__all__ = ["registry_payload", "secret_texts_of"]


def _marker(label: str) -> str:
    # Distinctive, searchable, and different on every run.
    return f"{label}SECRET{secrets.token_hex(8)}"


def registry_payload(kind: str, name: str | None = None, **extra: Any) -> dict[str, Any]:
    name = name or f"{kind}-registry"
    body: dict[str, Any] = {"name": name, "kind": kind, "image_path": "cpoder/vectis-server"}
    if kind == "ghcr":
        body["credentials"] = {
            "username": "octo",
            "password": "ghp" + "_" + _marker("gh") + "x" * 15,
        }
    elif kind == "dockerhub":
        body["credentials"] = {"username": "myuser", "password": "dckr" + "_pat_" + _marker("dh")}
    elif kind == "gcr":
        key = {
            "type": "service_account",
            "client_email": "puller@proj.iam.gserviceaccount.com",
            "private_key": "-----BEGIN " + "PRIVATE KEY-----\n" + _marker("gcr") + "\n-----END",
            "project_id": "proj",
        }
        body["credentials"] = {"username": "_json_key", "password": json.dumps(key)}
    elif kind == "ecr":
        body["url"] = "123456789012.dkr.ecr.eu-west-3.amazonaws.com"
        body["credentials"] = {
            "access_key_id": "AKIA" + secrets.token_hex(8).upper(),
            "secret_access_key": _marker("aws"),
            "region": "eu-west-3",
        }
    elif kind == "acr":
        body["url"] = "myreg.azurecr.io"
        body["credentials"] = {
            "username": "6f1c7d2e-1b2c-4d5e-8f90-0a1b2c3d4e5f",
            "password": _marker("acr"),
        }
    elif kind == "harbor":
        body["url"] = "harbor.example.com"
        body["credentials"] = {"username": "robot$vectis+puller", "password": _marker("harbor")}
    elif kind == "generic":
        body["url"] = "registry.mycompany.com:5000"
        body["credentials"] = {"username": "admin", "password": _marker("generic")}
    else:
        raise ValueError(kind)
    body.update(extra)
    return body


def secret_texts_of(payload: dict[str, Any]) -> list[str]:
    """The secret values of a payload, as a leak test must look for them."""
    creds = payload.get("credentials", {})
    found = [v for k, v in creds.items() if k in ("password", "secret_access_key", "access_key_id")]
    # A JSON key also leaks if only its private key part shows up.
    for value in list(found):
        if value.startswith("{"):
            found.append(json.loads(value)["private_key"].split("\n")[1])
    return found


ALL_KINDS = ["dockerhub", "ghcr", "gcr", "ecr", "acr", "harbor", "generic"]
