"""SQL implementations of the store ports; the only module that writes SQL."""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from copy import copy
from dataclasses import asdict, fields
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from vectis_admin.adapters.db.models import (
    ApiTokenRow,
    AuditRow,
    ClusterRow,
    LeaseRow,
    OrchestratorRow,
    RegistryNamespaceRow,
    RegistryRow,
    SecretSyncRow,
    UserRow,
)
from vectis_admin.domain.manifests import Environment
from vectis_admin.domain.orchestrators import KubeAuthMode, OrchestratorKind
from vectis_admin.domain.registries import RegistryKind, TlsMode
from vectis_admin.errors import Conflict, NotFound
from vectis_admin.services.ports import (
    ApiTokenRecord,
    AuditEntry,
    ClusterRecord,
    DeploymentState,
    OrchestratorRecord,
    Page,
    RegistryRecord,
    SecretCopy,
    SyncState,
    UserRecord,
)

__all__ = ["SqlStore"]

RowT = TypeVar("RowT", RegistryRow, OrchestratorRow, ClusterRow)
RecordT = TypeVar("RecordT")


class _VersionedRepository(Generic[RowT, RecordT]):
    """Named, versioned rows (registries, orchestrators): lookups, compare-and-set updates,
    last-check bookkeeping. `noun` names the object in operator-facing messages."""

    row_type: type[RowT]
    record_type: type[RecordT]
    noun: str
    # Columns stored as plain strings that the record holds as enums.
    enums: Mapping[str, type[StrEnum]] = {}

    def __init__(self, session: Session) -> None:
        self._session = session

    def _record(self, row: RowT) -> RecordT:
        values: dict[str, Any] = {}
        for item in fields(self.record_type):  # type: ignore[arg-type]
            value = getattr(row, item.name)
            if item.name in self.enums:
                value = self.enums[item.name](value)
            elif isinstance(value, dict | list):
                value = copy(value)  # the record must not share the row's mutable state
            values[item.name] = value
        return self.record_type(**values)

    def _values(self, record: RecordT) -> dict[str, Any]:
        values: dict[str, Any] = asdict(record)  # type: ignore[call-overload]
        for key, value in values.items():
            if isinstance(value, StrEnum):
                values[key] = value.value
        return values

    def get(self, object_id: str) -> RecordT | None:
        row = self._session.get(self.row_type, object_id)
        return self._record(row) if row else None

    def get_by_name(self, name: str) -> RecordT | None:
        row = self._session.scalar(select(self.row_type).where(self.row_type.name == name))
        return self._record(row) if row else None

    def all(self) -> builtins.list[RecordT]:
        return [self._record(r) for r in self._session.scalars(select(self.row_type)).all()]

    def _page(self, query: Select[RowT], *, limit: int, offset: int) -> Page[RecordT]:
        total = self._session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self._session.scalars(
            query.order_by(self.row_type.name).limit(limit).offset(offset)
        ).all()
        return Page(items=[self._record(r) for r in rows], total=total, limit=limit, offset=offset)

    def add(self, record: RecordT) -> None:
        values = self._values(record)
        with self._unique_violations(values["name"]):
            self._session.add(self.row_type(**values))
            self._session.flush()

    def update(self, record: RecordT, *, expected_version: int) -> None:
        """Compare-and-set on `version`: a concurrent writer makes this raise Conflict."""
        values = self._values(record)
        object_id = values.pop("id")
        with self._unique_violations(values["name"]):
            result = self._session.execute(
                update(self.row_type)
                .where(self.row_type.id == object_id, self.row_type.version == expected_version)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            if self._session.get(self.row_type, object_id) is None:
                raise NotFound(f"{self.noun} {object_id} not found")
            raise Conflict(
                f"{self.noun} {values['name']!r} was changed by someone else "
                f"(expected version {expected_version}); reload it and try again",
                reason="stale_version",
            )

    def delete(self, object_id: str) -> None:
        self._session.execute(delete(self.row_type).where(self.row_type.id == object_id))

    def record_check(self, object_id: str, *, at: datetime, ok: bool, summary: str) -> None:
        # Not an edit: the version stays, so no writer gets a false conflict.
        self._session.execute(
            update(self.row_type)
            .where(self.row_type.id == object_id)
            .values(last_check_at=at, last_check_ok=ok, last_check_summary=summary)
            .execution_options(synchronize_session=False)
        )

    @contextmanager
    def _unique_violations(self, name: str) -> Iterator[None]:
        """Turn unique-index violations into Conflicts an operator can act on."""
        try:
            yield
        except IntegrityError as exc:
            if _violated_constraint(exc) in ("uq_registries_single_default", "is_default"):
                raise Conflict(
                    "another registry became the default at the same time; try again",
                    reason="default_conflict",
                ) from None
            raise Conflict(
                f"a {self.noun} named {name!r} already exists", reason="duplicate_name"
            ) from None


class SqlRegistryRepository(_VersionedRepository[RegistryRow, RegistryRecord]):
    row_type = RegistryRow
    record_type = RegistryRecord
    noun = "registry"
    enums = {"kind": RegistryKind, "tls_mode": TlsMode}

    def list(
        self, *, kind: RegistryKind | None, enabled: bool | None, limit: int, offset: int
    ) -> Page[RegistryRecord]:
        query = select(RegistryRow)
        if kind is not None:
            query = query.where(RegistryRow.kind == kind.value)
        if enabled is not None:
            query = query.where(RegistryRow.enabled == enabled)
        return self._page(query, limit=limit, offset=offset)

    def clear_default(self) -> None:
        # Bump the version too: clearing the star is a change other writers must notice.
        self._session.execute(
            update(RegistryRow)
            .where(RegistryRow.is_default.is_(True))
            .values(is_default=False, version=RegistryRow.version + 1)
            .execution_options(synchronize_session=False)
        )


class SqlOrchestratorRepository(_VersionedRepository[OrchestratorRow, OrchestratorRecord]):
    row_type = OrchestratorRow
    record_type = OrchestratorRecord
    noun = "orchestrator"
    enums = {"kind": OrchestratorKind, "auth_mode": KubeAuthMode}

    def list(self, *, enabled: bool | None, limit: int, offset: int) -> Page[OrchestratorRecord]:
        query = select(OrchestratorRow)
        if enabled is not None:
            query = query.where(OrchestratorRow.enabled == enabled)
        return self._page(query, limit=limit, offset=offset)


def _violated_constraint(exc: IntegrityError) -> str:
    """Name of the unique index/column hit, read from the driver (never from user values)."""
    diag = getattr(exc.orig, "diag", None)  # psycopg
    if diag is not None and diag.constraint_name:
        return str(diag.constraint_name)
    # SQLite: "UNIQUE constraint failed: registries.is_default"
    return str(exc.orig).rsplit(".", 1)[-1].strip()


class SqlClusterRepository(_VersionedRepository[ClusterRow, ClusterRecord]):
    row_type = ClusterRow
    record_type = ClusterRecord
    noun = "cluster"
    enums = {"environment": Environment, "deployment_state": DeploymentState}

    def list(self, *, limit: int, offset: int) -> Page[ClusterRecord]:
        return self._page(select(ClusterRow), limit=limit, offset=offset)

    def using_registry(self, registry_id: str) -> builtins.list[ClusterRecord]:
        rows = self._session.scalars(
            select(ClusterRow).where(ClusterRow.registry_id == registry_id)
        )
        return [self._record(r) for r in rows]

    def on_orchestrator(self, orchestrator_id: str) -> builtins.list[ClusterRecord]:
        rows = self._session.scalars(
            select(ClusterRow).where(ClusterRow.orchestrator_id == orchestrator_id)
        )
        return [self._record(r) for r in rows]


class SqlSecretCopyRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    @staticmethod
    def _copy(row: SecretSyncRow) -> SecretCopy:
        return SecretCopy(
            registry_id=row.registry_id,
            orchestrator_id=row.orchestrator_id,
            namespace=row.namespace,
            state=SyncState(row.state),
            desired=row.desired,
            content_hash=row.content_hash,
            message=row.message,
            attempts=row.attempts,
            last_attempt_at=row.last_attempt_at,
            last_success_at=row.last_success_at,
            next_attempt_at=row.next_attempt_at,
        )

    def for_registry(self, registry_id: str) -> builtins.list[SecretCopy]:
        rows = self._session.scalars(
            select(SecretSyncRow)
            .where(SecretSyncRow.registry_id == registry_id)
            .order_by(SecretSyncRow.orchestrator_id, SecretSyncRow.namespace)
        )
        return [self._copy(r) for r in rows]

    def all(self) -> builtins.list[SecretCopy]:
        return [self._copy(r) for r in self._session.scalars(select(SecretSyncRow))]

    def save(self, copy: SecretCopy) -> None:
        values = asdict(copy)
        values["state"] = copy.state.value
        self._session.merge(SecretSyncRow(**values))

    def remove(self, copy: SecretCopy) -> None:
        self._session.execute(
            delete(SecretSyncRow).where(
                SecretSyncRow.registry_id == copy.registry_id,
                SecretSyncRow.orchestrator_id == copy.orchestrator_id,
                SecretSyncRow.namespace == copy.namespace,
            )
        )

    def extra_namespaces(self, registry_id: str) -> builtins.list[tuple[str, str]]:
        rows = self._session.scalars(
            select(RegistryNamespaceRow).where(RegistryNamespaceRow.registry_id == registry_id)
        )
        return sorted((r.orchestrator_id, r.namespace) for r in rows)

    def set_extra_namespaces(self, registry_id: str, pairs: builtins.list[tuple[str, str]]) -> None:
        self._session.execute(
            delete(RegistryNamespaceRow).where(RegistryNamespaceRow.registry_id == registry_id)
        )
        for orchestrator_id, namespace in sorted(set(pairs)):
            self._session.add(
                RegistryNamespaceRow(
                    registry_id=registry_id, orchestrator_id=orchestrator_id, namespace=namespace
                )
            )
        self._session.flush()


class SqlLeaseRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def acquire(self, name: str, *, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take (or extend) the lease if it is free, expired, or already ours.

        A conditional UPDATE is atomic on every backend: two replicas racing for an expired
        lease both try, the database serialises them, and only one sees its row updated.
        """
        taken = self._session.execute(
            update(LeaseRow)
            .where(
                LeaseRow.name == name,
                (LeaseRow.expires_at <= now) | (LeaseRow.holder == holder),
            )
            .values(holder=holder, expires_at=now + ttl)
        )
        if taken.rowcount:  # type: ignore[attr-defined]
            return True
        if self._session.get(LeaseRow, name) is not None:
            return False  # held by someone else
        try:
            with self._session.begin_nested():
                self._session.add(LeaseRow(name=name, holder=holder, expires_at=now + ttl))
        except IntegrityError:
            return False  # another replica created it first
        return True

    def release(self, name: str, *, holder: str, now: datetime) -> None:
        self._session.execute(
            update(LeaseRow)
            .where(LeaseRow.name == name, LeaseRow.holder == holder)
            .values(expires_at=now)
        )


class SqlAuditRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def record(self, entry: AuditEntry) -> None:
        values = asdict(entry)
        values.pop("id")
        self._session.add(AuditRow(**values))

    def list(
        self,
        *,
        target_type: str | None,
        target_id: str | None,
        action: str | None,
        actor: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int,
        offset: int,
    ) -> Page[AuditEntry]:
        query = select(AuditRow)
        if target_type:
            query = query.where(AuditRow.target_type == target_type)
        if target_id:
            query = query.where(AuditRow.target_id == target_id)
        if action:
            query = query.where(AuditRow.action == action)
        if actor:
            query = query.where(AuditRow.actor == actor)
        if since is not None:
            query = query.where(AuditRow.at >= since)
        if until is not None:
            query = query.where(AuditRow.at < until)
        total = self._session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self._session.scalars(
            query.order_by(AuditRow.id.desc()).limit(limit).offset(offset)
        ).all()
        items = [
            AuditEntry(
                id=r.id,
                at=r.at,
                actor=r.actor,
                action=r.action,
                target_type=r.target_type,
                target_id=r.target_id,
                target_name=r.target_name,
                changes=dict(r.changes),
                outcome=r.outcome,
            )
            for r in rows
        ]
        return Page(items=items, total=total, limit=limit, offset=offset)


class SqlUserRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def _row(self, username: str) -> UserRow | None:
        return self._session.scalar(select(UserRow).where(UserRow.username == username))

    def get(self, username: str) -> UserRecord | None:
        row = self._row(username)
        if row is None:
            return None
        return UserRecord(
            id=row.id,
            username=row.username,
            password_hash=row.password_hash,
            created_at=row.created_at,
            password_changed_at=row.password_changed_at,
        )

    def count(self) -> int:
        return self._session.scalar(select(func.count()).select_from(UserRow)) or 0

    def add(self, *, username: str, password_hash: str, at: datetime) -> None:
        self._session.add(
            UserRow(
                username=username,
                password_hash=password_hash,
                created_at=at,
                password_changed_at=at,
            )
        )
        self._session.flush()

    def set_password(self, *, username: str, password_hash: str, at: datetime) -> None:
        row = self._row(username)
        if row is None:
            raise NotFound(f"user {username!r} not found")
        row.password_hash = password_hash
        row.password_changed_at = at

    def add_token(self, record: ApiTokenRecord, *, token_hash: str) -> None:
        user = self._row(record.username)
        if user is None:
            raise NotFound(f"user {record.username!r} not found")
        self._session.add(
            ApiTokenRow(
                id=record.id,
                name=record.name,
                user_id=user.id,
                prefix=record.prefix,
                token_hash=token_hash,
                created_at=record.created_at,
                expires_at=record.expires_at,
                last_used_at=None,
                revoked_at=None,
            )
        )

    def _token_record(self, row: ApiTokenRow, username: str) -> ApiTokenRecord:
        return ApiTokenRecord(
            id=row.id,
            name=row.name,
            username=username,
            prefix=row.prefix,
            created_at=row.created_at,
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )

    def find_token(self, token_hash: str) -> ApiTokenRecord | None:
        found = self._session.execute(
            select(ApiTokenRow, UserRow.username)
            .join(UserRow, UserRow.id == ApiTokenRow.user_id)
            .where(ApiTokenRow.token_hash == token_hash)
        ).first()
        return self._token_record(found[0], found[1]) if found else None

    def touch_token(self, token_id: str, *, at: datetime) -> None:
        self._session.execute(
            update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=at)
        )

    def list_tokens(self, username: str) -> builtins.list[ApiTokenRecord]:
        rows = self._session.execute(
            select(ApiTokenRow, UserRow.username)
            .join(UserRow, UserRow.id == ApiTokenRow.user_id)
            .where(UserRow.username == username)
            .order_by(ApiTokenRow.created_at)
        ).all()
        return [self._token_record(r[0], r[1]) for r in rows]

    def revoke_token(self, token_id: str, *, username: str, at: datetime) -> ApiTokenRecord | None:
        """Revoke `username`'s active token; None when it is not theirs or not active."""
        owner = select(UserRow.id).where(UserRow.username == username).scalar_subquery()
        result = self._session.execute(
            update(ApiTokenRow)
            .where(
                ApiTokenRow.id == token_id,
                ApiTokenRow.user_id == owner,
                ApiTokenRow.revoked_at.is_(None),
            )
            .values(revoked_at=at)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            return None
        return next(t for t in self.list_tokens(username) if t.id == token_id)


class SqlTransaction:
    def __init__(self, session: Session) -> None:
        self.registries = SqlRegistryRepository(session)
        self.orchestrators = SqlOrchestratorRepository(session)
        self.clusters = SqlClusterRepository(session)
        self.copies = SqlSecretCopyRepository(session)
        self.leases = SqlLeaseRepository(session)
        self.audit = SqlAuditRepository(session)
        self.users = SqlUserRepository(session)


class SqlStore:
    """Opens one database transaction per unit of work; commits only if it ends cleanly."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        with self._sessions.begin() as session:
            yield SqlTransaction(session)
