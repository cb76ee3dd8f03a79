"""Encryption at rest: key file creation, authenticated decryption, rotation seen live."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from vectis_admin.adapters.crypto import load_keyring
from vectis_admin.errors import InvalidInput, VectisError


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    key_file = tmp_path / "sub" / "secret.key"
    ring = load_keyring(env_keys=None, key_file=key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    token = ring.box().encrypt("pw")
    assert load_keyring(env_keys=None, key_file=key_file).box().decrypt(token) == "pw"


def test_ciphertext_is_authenticated(tmp_path: Path) -> None:
    box = load_keyring(env_keys=None, key_file=tmp_path / "k").box()
    token = box.encrypt("pw")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(VectisError, match="cannot be decrypted"):
        box.decrypt(tampered)


def test_running_box_sees_a_rotated_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "k"
    ring = load_keyring(env_keys=None, key_file=key_file)
    box = ring.box()  # what a running console holds
    old = box.encrypt("before")
    other = load_keyring(env_keys=None, key_file=key_file)  # the `keys rotate` process
    other.add_new_key()
    new = box.encrypt("after")  # the running console now encrypts with the new key
    assert Fernet(other.keys[0]).decrypt(new.encode()) == b"after"
    assert box.decrypt(old) == "before"
    other.drop_old_keys()
    assert box.decrypt(new) == "after"


def test_environment_keys_newest_first(tmp_path: Path) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    old_token = load_keyring(env_keys=old.decode(), key_file=tmp_path / "k").box().encrypt("x")
    ring = load_keyring(env_keys=f"{new.decode()}, {old.decode()}", key_file=tmp_path / "k")
    box = ring.box()
    assert box.decrypt(old_token) == "x"
    assert Fernet(new).decrypt(box.rotate(old_token).encode()) == b"x"
    assert not (tmp_path / "k").exists()  # env keys never write a key file
    with pytest.raises(VectisError, match="VECTIS_SECRET_KEY"):
        ring.add_new_key()


def test_bad_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_keyring(env_keys="short", key_file=tmp_path / "k")
    assert caught.value.issues[0].field == "VECTIS_SECRET_KEY"
    (tmp_path / "bad").write_text("garbage\n")
    with pytest.raises(InvalidInput):
        load_keyring(env_keys=None, key_file=tmp_path / "bad")
