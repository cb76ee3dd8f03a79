"""Orchestrator use cases: CRUD of the Kubernetes clusters the console deploys to, and their
Test Connection (reachability, server version, and what the console may do in a namespace).

Credentials (token, client key, kubeconfig) are sealed like registry secrets and write-only;
omitted credential fields on update keep the stored ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import yaml

from vectis_admin.domain.orchestrators import (
    PUBLIC_FIELDS,
    SECRET_FIELDS,
    KubeAuthMode,
    OrchestratorKind,
    validate_orchestrator,
)
from vectis_admin.errors import Conflict, InvalidInput, KubeError, NotFound
from vectis_admin.services.audit import diff_fields, record_change
from vectis_admin.services.ports import (
    Clock,
    KubeAccess,
    KubeConnector,
    OrchestratorRecord,
    Page,
    SecretCipher,
    Store,
    Transaction,
)
from vectis_admin.services.secrets import seal, unseal

__all__ = [
    "OrchestratorChanges",
    "OrchestratorDraft",
    "OrchestratorReport",
    "OrchestratorService",
    "PermissionCheck",
]

_T = TypeVar("_T")

# What deploying Vectis needs, checked by Test Connection (verb, resource, API group).
# The last flag: namespaced (checked in the namespace given) or cluster-wide.
REQUIRED_PERMISSIONS: tuple[tuple[str, str, str, bool], ...] = (
    ("create", "secrets", "", True),
    ("patch", "secrets", "", True),
    ("create", "deployments", "apps", True),
    ("patch", "deployments", "apps", True),
    ("create", "services", "", True),
    ("create", "persistentvolumeclaims", "", True),
    ("create", "roles", "rbac.authorization.k8s.io", True),
    ("create", "persistentvolumes", "", False),  # the cluster's hostPath volume
)


@dataclass(frozen=True, kw_only=True)
class OrchestratorDraft:
    name: str
    kind: OrchestratorKind
    auth_mode: KubeAuthMode
    api_server_url: str | None = None
    description: str = ""
    skip_tls_verify: bool = False
    supports_load_balancer: bool = True
    metallb_range: str | None = None
    enabled: bool = True
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, kw_only=True)
class OrchestratorChanges:
    name: str | None = None
    kind: OrchestratorKind | None = None
    auth_mode: KubeAuthMode | None = None
    api_server_url: str | None = None
    description: str | None = None
    skip_tls_verify: bool | None = None
    supports_load_balancer: bool | None = None
    metallb_range: str | None = None
    enabled: bool | None = None
    credentials: Mapping[str, str] | None = field(default=None, repr=False)
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class PermissionCheck:
    verb: str
    resource: str
    namespace: str
    allowed: bool


@dataclass(frozen=True, kw_only=True)
class OrchestratorReport:
    orchestrator: str
    reachable: bool
    server_version: str | None
    namespace: str
    permissions: tuple[PermissionCheck, ...]
    message: str
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.reachable and all(p.allowed for p in self.permissions)


def _parse_kubeconfig(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        raise InvalidInput.one("credentials.kubeconfig", "must be valid kubeconfig YAML") from None
    return document if isinstance(document, dict) else None


def _check_name(name: str) -> str:
    cleaned = name.strip()
    if not 1 <= len(cleaned) <= 100:
        raise InvalidInput.one("name", "must be 1-100 characters, not only spaces")
    return cleaned


class OrchestratorService:
    def __init__(
        self, *, store: Store, cipher: SecretCipher, clock: Clock, connector: KubeConnector
    ) -> None:
        self._store = store
        self._cipher = cipher
        self._clock = clock
        self._connector = connector

    # -- reads ---------------------------------------------------------------------------

    def list(
        self, *, enabled: bool | None = None, limit: int = 50, offset: int = 0
    ) -> Page[OrchestratorRecord]:
        if not 1 <= limit <= 500:
            raise InvalidInput.one("limit", "must be between 1 and 500")
        with self._store.transaction() as tx:
            return tx.orchestrators.list(enabled=enabled, limit=limit, offset=offset)

    def get(self, ref: str) -> OrchestratorRecord:
        with self._store.transaction() as tx:
            return self._find(tx, ref)

    def access_of(self, record: OrchestratorRecord, *, timeout: float = 10.0) -> KubeAccess:
        """How to reach the cluster, credentials decrypted (a kubeconfig path is read now)."""
        creds = {**record.public_credentials, **unseal(self._cipher, record.secret_ciphertext)}
        kubeconfig = creds.get("kubeconfig")
        if record.auth_mode is KubeAuthMode.KUBECONFIG and not kubeconfig:
            path = Path(creds.get("kubeconfig_path", ""))
            try:
                kubeconfig = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise InvalidInput.one(
                    "credentials.kubeconfig_path", f"cannot be read ({exc.strerror})"
                ) from None
        return KubeAccess(
            auth_mode=record.auth_mode,
            server=record.api_server_url,
            skip_tls_verify=record.skip_tls_verify,
            ca_pem=creds.get("ca_cert"),
            token=creds.get("token"),
            client_cert_pem=creds.get("client_cert"),
            client_key_pem=creds.get("client_key"),
            kubeconfig=kubeconfig,
            context=creds.get("kubeconfig_context"),
            timeout=timeout,
        )

    # -- writes --------------------------------------------------------------------------

    def create(
        self, draft: OrchestratorDraft, *, actor: str
    ) -> tuple[OrchestratorRecord, tuple[str, ...]]:
        checked = validate_orchestrator(
            auth_mode=draft.auth_mode,
            api_server_url=draft.api_server_url,
            credentials=draft.credentials,
            kubeconfig_document=_parse_kubeconfig(draft.credentials.get("kubeconfig")),
            skip_tls_verify=draft.skip_tls_verify,
            metallb_range=draft.metallb_range,
        )
        public, secret = _split(checked.credentials)
        now = self._clock.now()
        record = OrchestratorRecord(
            id=str(uuid.uuid4()),
            name=_check_name(draft.name),
            kind=draft.kind,
            description=draft.description,
            auth_mode=draft.auth_mode,
            api_server_url=checked.api_server_url,
            skip_tls_verify=draft.skip_tls_verify,
            supports_load_balancer=draft.supports_load_balancer or bool(checked.metallb_range),
            metallb_range=checked.metallb_range,
            enabled=draft.enabled,
            public_credentials=public,
            secret_ciphertext=seal(self._cipher, secret),
            secret_field_names=sorted(secret),
            created_at=now,
            updated_at=now,
            credential_changed_at=now if secret or public else None,
            version=1,
        )
        with self._store.transaction() as tx:
            tx.orchestrators.add(record)
            changes: dict[str, Any] = {
                k: {"to": v} for k, v in _view(record).items() if v not in (None, "")
            }
            changes.update({f"credentials.{k}": "set" for k in sorted(secret)})
            record_change(tx, self._clock, actor, "orchestrator.create", record, changes)
        return record, checked.warnings

    def update(
        self, ref: str, changes: OrchestratorChanges, *, actor: str
    ) -> tuple[OrchestratorRecord, tuple[str, ...]]:
        with self._store.transaction() as tx:
            current = self._find(tx, ref)
            if changes.expected_version not in (None, current.version):
                raise Conflict(
                    f"orchestrator {current.name!r} is at version {current.version}, not "
                    f"{changes.expected_version}: someone else changed it; reload and retry",
                    reason="stale_version",
                )
            mode = changes.auth_mode or current.auth_mode
            old_secret = unseal(self._cipher, current.secret_ciphertext)
            base = {} if mode != current.auth_mode else {**current.public_credentials, **old_secret}
            merged = {**base, **(changes.credentials or {})}
            skip_tls = _pick(changes.skip_tls_verify, current.skip_tls_verify)
            checked = validate_orchestrator(
                auth_mode=mode,
                api_server_url=_pick(changes.api_server_url, current.api_server_url),
                credentials=merged,
                kubeconfig_document=_parse_kubeconfig(merged.get("kubeconfig")),
                skip_tls_verify=skip_tls,
                metallb_range=_pick(changes.metallb_range, current.metallb_range),
            )
            public, secret = _split(checked.credentials)
            secret_changed = sorted(
                k for k in set(secret) | set(old_secret) if secret.get(k) != old_secret.get(k)
            )
            updated = replace(
                current,
                name=_check_name(changes.name) if changes.name is not None else current.name,
                kind=changes.kind or current.kind,
                description=_pick(changes.description, current.description),
                auth_mode=mode,
                api_server_url=checked.api_server_url,
                skip_tls_verify=skip_tls,
                supports_load_balancer=_pick(
                    changes.supports_load_balancer, current.supports_load_balancer
                ),
                metallb_range=checked.metallb_range,
                enabled=_pick(changes.enabled, current.enabled),
                public_credentials=public,
                secret_ciphertext=seal(self._cipher, secret)
                if secret_changed
                else current.secret_ciphertext,
                secret_field_names=sorted(secret),
            )
            diff = diff_fields(_view(current), _view(updated))
            diff.update({f"credentials.{k}": "changed" for k in secret_changed})
            if not diff:
                return current, checked.warnings
            updated.version = current.version + 1
            updated.updated_at = self._clock.now()
            if any(k.startswith("credentials.") for k in diff):
                updated.credential_changed_at = updated.updated_at
            tx.orchestrators.update(updated, expected_version=current.version)
            record_change(tx, self._clock, actor, "orchestrator.update", updated, diff)
        return updated, checked.warnings

    def delete(self, ref: str, *, actor: str) -> None:
        with self._store.transaction() as tx:
            record = self._find(tx, ref)
            users = tx.clusters.on_orchestrator(record.id)
            if users:
                names = ", ".join(sorted(c.name for c in users))
                raise Conflict(
                    f"orchestrator {record.name!r} still hosts the cluster(s) {names}: "
                    "delete them first",
                    reason="in_use",
                )
            tx.orchestrators.delete(record.id)
            record_change(tx, self._clock, actor, "orchestrator.delete", record, {})

    def test(self, ref: str, *, namespace: str = "default", actor: str) -> OrchestratorReport:
        """Reachability, server version, and the rights deploying Vectis needs in `namespace`."""
        record = self.get(ref)
        report = self._probe(record, namespace)
        with self._store.transaction() as tx:
            tx.orchestrators.record_check(
                record.id, at=self._clock.now(), ok=report.ok, summary=report.message
            )
            record_change(
                tx,
                self._clock,
                actor,
                "orchestrator.test",
                record,
                {"result": "ok" if report.ok else "failed", "summary": report.message},
                "success" if report.ok else "failure",
            )
        return report

    # -- helpers -------------------------------------------------------------------------

    def _probe(self, record: OrchestratorRecord, namespace: str) -> OrchestratorReport:
        warnings = ("TLS verification is off (development only)",) if record.skip_tls_verify else ()
        try:
            gateway = self._connector.connect(self.access_of(record))
        except KubeError as exc:
            return _unreachable(record, namespace, exc.message, warnings)
        try:
            version = gateway.version()
            permissions = tuple(
                PermissionCheck(
                    verb=verb,
                    resource=resource,
                    namespace=namespace if namespaced else "",
                    allowed=gateway.can_i(
                        verb=verb,
                        resource=resource,
                        group=group,
                        namespace=namespace if namespaced else "",
                    ),
                )
                for verb, resource, group, namespaced in REQUIRED_PERMISSIONS
            )
        except KubeError as exc:
            return _unreachable(record, namespace, exc.message, warnings)
        finally:
            gateway.close()
        missing = [
            f"{p.verb} {p.resource}" + ("" if p.namespace else " (cluster-wide)")
            for p in permissions
            if not p.allowed
        ]
        message = (
            f"Kubernetes {version}: the console may deploy Vectis in namespace {namespace}"
            if not missing
            else f"Kubernetes {version}: missing rights in namespace {namespace}: "
            + ", ".join(missing)
        )
        return OrchestratorReport(
            orchestrator=record.name,
            reachable=True,
            server_version=version,
            namespace=namespace,
            permissions=permissions,
            message=message,
            warnings=warnings,
        )

    def _find(self, tx: Transaction, ref: str) -> OrchestratorRecord:
        record = tx.orchestrators.get(ref) or tx.orchestrators.get_by_name(ref)
        if record is None:
            raise NotFound(f"orchestrator {ref!r} not found")
        return record


def _pick(new: _T | None, old: _T) -> _T:
    return old if new is None else new


def _split(credentials: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    public = {k: v for k, v in credentials.items() if k in PUBLIC_FIELDS}
    secret = {k: v for k, v in credentials.items() if k in SECRET_FIELDS}
    return public, secret


def _view(record: OrchestratorRecord) -> dict[str, Any]:
    view: dict[str, Any] = {
        "name": record.name,
        "kind": record.kind.value,
        "description": record.description,
        "auth_mode": record.auth_mode.value,
        "api_server_url": record.api_server_url,
        "skip_tls_verify": record.skip_tls_verify,
        "supports_load_balancer": record.supports_load_balancer,
        "metallb_range": record.metallb_range,
        "enabled": record.enabled,
    }
    view.update({f"credentials.{k}": _short(v) for k, v in record.public_credentials.items()})
    return view


def _short(value: str) -> str:
    """PEM certificates are long: the audit keeps a recognisable head of them."""
    return value if len(value) <= 80 else value[:60] + "…"


def _unreachable(
    record: OrchestratorRecord, namespace: str, message: str, warnings: tuple[str, ...]
) -> OrchestratorReport:
    return OrchestratorReport(
        orchestrator=record.name,
        reachable=False,
        server_version=None,
        namespace=namespace,
        permissions=(),
        message=f"API server unreachable: {message}",
        warnings=warnings,
    )
