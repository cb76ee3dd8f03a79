"""Encryption of secrets at rest (authenticated: Fernet = AES-CBC + HMAC-SHA256).

Keys come from `VECTIS_SECRET_KEY` (comma-separated, newest first) or from a key file created on
first start with mode 0600 (one key per line, newest first). Encryption always uses the newest key;
decryption accepts any listed key, which is what makes rotation possible without downtime: add a
new key in front, re-encrypt every row, then drop the old key.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from vectis_admin.errors import InvalidInput, VectisError

__all__ = ["KeyRing", "SecretBox", "load_keyring"]


class KeyRing:
    """The ordered list of keys and where it came from (a file can be rewritten, env cannot).

    A file-backed ring re-reads its file when it changes, so a running console starts
    encrypting with a key that `vectis-admin keys rotate` added, without a restart.
    """

    def __init__(self, keys: Sequence[bytes], *, path: Path | None) -> None:
        if not keys:
            raise InvalidInput.one("VECTIS_SECRET_KEY", "must hold at least one key")
        self.keys = list(keys)
        self.path = path
        self._stamp = _stamp(path) if path else (0, 0)
        self._fernet = MultiFernet([Fernet(k) for k in self.keys])

    def fernet(self) -> MultiFernet:
        if self.path is not None:
            stamp = _stamp(self.path)
            if stamp != self._stamp:
                self.keys = _read_key_file(self.path)
                self._fernet = MultiFernet([Fernet(k) for k in self.keys])
                self._stamp = stamp
        return self._fernet

    def box(self) -> SecretBox:
        return SecretBox(self)

    def add_new_key(self) -> None:
        """Put a fresh key in front (file-backed rings only); old keys stay readable."""
        if self.path is None:
            raise VectisError(
                "keys come from VECTIS_SECRET_KEY: put the new key first in that variable "
                "(generate one with `vectis-admin keys generate`), keep the old one after it, "
                "run `vectis-admin keys rotate`, then remove the old key"
            )
        _write_key_file(self.path, [Fernet.generate_key(), *self.keys])
        self.fernet()

    def drop_old_keys(self) -> None:
        if self.path is not None and len(self.keys) > 1:
            _write_key_file(self.path, self.keys[:1])
            self.fernet()


class SecretBox:
    """Encrypts and decrypts short secret texts."""

    def __init__(self, keyring: KeyRing) -> None:
        self._keyring = keyring

    def encrypt(self, plaintext: str) -> str:
        return self._keyring.fernet().encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._keyring.fernet().decrypt(ciphertext.encode("ascii")).decode()
        except InvalidToken:
            raise VectisError(
                "a stored secret cannot be decrypted with the configured keys "
                "(wrong VECTIS_SECRET_KEY or key file?)"
            ) from None

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt under the newest key."""
        return self._keyring.fernet().rotate(ciphertext.encode("ascii")).decode("ascii")


def load_keyring(*, env_keys: str | None, key_file: Path) -> KeyRing:
    if env_keys:
        keys = [k.strip().encode() for k in env_keys.split(",") if k.strip()]
        _check_keys(keys, "VECTIS_SECRET_KEY")
        return KeyRing(keys, path=None)
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        _write_key_file(key_file, [Fernet.generate_key()])
    return KeyRing(_read_key_file(key_file), path=key_file)


def _stamp(path: Path) -> tuple[int, int]:
    # The file is replaced by rename, so the inode number changes even within one mtime tick.
    st = path.stat()
    return (st.st_ino, st.st_mtime_ns)


def _read_key_file(path: Path) -> list[bytes]:
    keys = [line.strip().encode() for line in path.read_text().splitlines() if line.strip()]
    _check_keys(keys, "VECTIS_SECRET_KEY_FILE")
    return keys


def _check_keys(keys: list[bytes], field: str) -> None:
    for key in keys:
        try:
            Fernet(key)
        except ValueError:
            raise InvalidInput.one(
                field, "every key must be 32 url-safe base64-encoded bytes (a Fernet key)"
            ) from None


def _write_key_file(path: Path, keys: Sequence[bytes]) -> None:
    # Write a sibling with 0600 from the start, then rename: the key is never world-readable.
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(k.decode() for k in keys) + "\n")
    os.replace(tmp, path)
