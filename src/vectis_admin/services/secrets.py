"""Sealing secret credential fields: one encrypted JSON document per object, never logged."""

from __future__ import annotations

import json
from collections.abc import Mapping

from vectis_admin.services.ports import SecretCipher, SecretFields

__all__ = ["seal", "unseal"]


def seal(cipher: SecretCipher, secret: Mapping[str, str]) -> str | None:
    """Ciphertext of the secret fields, or None when there are none."""
    return cipher.encrypt(json.dumps(dict(secret))) if secret else None


def unseal(cipher: SecretCipher, ciphertext: str | None) -> SecretFields:
    if not ciphertext:
        return SecretFields()
    return SecretFields(json.loads(cipher.decrypt(ciphertext)))
