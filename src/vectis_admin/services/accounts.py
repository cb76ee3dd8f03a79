"""Console accounts: the admin user, its password and its API tokens.

There is no fixed default password: the first start takes it from `VECTIS_ADMIN_PASSWORD` or
generates one that the caller prints once. Passwords are hashed with scrypt; API tokens are random
and stored only as SHA-256 digests (they carry 256 bits, so a slow hash adds nothing).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from vectis_admin.errors import AuthenticationFailed, InvalidInput, NotFound
from vectis_admin.services.ports import ApiTokenRecord, AuditEntry, Clock, Store, Transaction

__all__ = ["AccountService", "Bootstrap", "NewToken", "TOKEN_PREFIX"]

TOKEN_PREFIX = "vxa_"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
MIN_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT['n']}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt_b64), n=int(n), r=8, p=1, dklen=32
    )
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Bootstrap:
    """Result of ensuring the admin exists; `generated_password` is set only when we made one."""

    username: str
    created: bool
    generated_password: str | None = None


@dataclass(frozen=True)
class NewToken:
    record: ApiTokenRecord
    token: str  # shown once, never stored


class AccountService:
    def __init__(self, *, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def ensure_admin(self, *, username: str, password: str | None) -> Bootstrap:
        with self._store.transaction() as tx:
            if tx.users.get(username) is not None:
                return Bootstrap(username=username, created=False)
            generated = None
            if password is None:
                generated = password = secrets.token_urlsafe(18)
            _check_password(password)
            tx.users.add(username=username, password_hash=hash_password(password), at=self._now())
            self._audit(tx, "system", "user.create", username)
        return Bootstrap(username=username, created=True, generated_password=generated)

    def reset_password(self, *, username: str, password: str | None, actor: str) -> str | None:
        """Set (or generate, returned once) a new password; creates the user if missing."""
        generated = None
        if password is None:
            generated = password = secrets.token_urlsafe(18)
        _check_password(password)
        with self._store.transaction() as tx:
            if tx.users.get(username) is None:
                tx.users.add(
                    username=username, password_hash=hash_password(password), at=self._now()
                )
                self._audit(tx, actor, "user.create", username)
                return generated
            tx.users.set_password(
                username=username, password_hash=hash_password(password), at=self._now()
            )
            self._audit(tx, actor, "user.reset_password", username, {"password": "changed"})
        return generated

    def authenticate_password(self, username: str, password: str) -> str:
        with self._store.transaction() as tx:
            user = tx.users.get(username)
        # Hash even for an unknown user so timing does not reveal which names exist.
        stored = user.password_hash if user else hash_password("x")
        if user is None or not verify_password(password, stored):
            raise AuthenticationFailed("wrong user name or password")
        return user.username

    def authenticate_token(self, token: str) -> str:
        now = self._now()
        with self._store.transaction() as tx:
            record = tx.users.find_token(_token_hash(token))
            if (
                record is None
                or record.revoked_at is not None
                or (record.expires_at is not None and record.expires_at <= now)
            ):
                raise AuthenticationFailed("invalid, expired or revoked API token")
            # Recording every use would turn each API read into a write; a minute is precise enough.
            if record.last_used_at is None or now - record.last_used_at > timedelta(minutes=1):
                tx.users.touch_token(record.id, at=now)
        return record.username

    def create_token(
        self, *, username: str, name: str, ttl_days: int | None, actor: str
    ) -> NewToken:
        name = name.strip()
        if not 1 <= len(name) <= 100:
            raise InvalidInput.one("name", "must be 1-100 characters")
        if ttl_days is not None and not 1 <= ttl_days <= 3650:
            raise InvalidInput.one("ttl_days", "must be between 1 and 3650 days")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self._now()
        record = ApiTokenRecord(
            id=str(uuid.uuid4()),
            name=name,
            username=username,
            prefix=token[:10],
            created_at=now,
            expires_at=now + timedelta(days=ttl_days) if ttl_days else None,
            last_used_at=None,
            revoked_at=None,
        )
        with self._store.transaction() as tx:
            tx.users.add_token(record, token_hash=_token_hash(token))
            self._audit(tx, actor, "token.create", username, {"token": name})
        return NewToken(record=record, token=token)

    def list_tokens(self, username: str) -> list[ApiTokenRecord]:
        with self._store.transaction() as tx:
            return tx.users.list_tokens(username)

    def revoke_token(self, token_id: str, *, username: str, actor: str) -> ApiTokenRecord:
        """Revoke one of `username`'s own tokens (another user's token is "not found")."""
        with self._store.transaction() as tx:
            revoked = tx.users.revoke_token(token_id, username=username, at=self._now())
            if revoked is None:
                raise NotFound(f"active API token {token_id!r} not found")
            self._audit(tx, actor, "token.revoke", token_id, {"token": revoked.name})
        return revoked

    def _now(self) -> datetime:
        return self._clock.now()

    def _audit(
        self,
        tx: Transaction,
        actor: str,
        action: str,
        target: str,
        changes: dict[str, str] | None = None,
    ) -> None:
        tx.audit.record(
            AuditEntry(
                at=self._now(),
                actor=actor,
                action=action,
                target_type="user" if action.startswith("user") else "api_token",
                target_id=target,
                target_name=target,
                changes=changes or {},
            )
        )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput.one("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
