"""Orchestrators: the Kubernetes clusters the console deploys Vectis to, and their access rules.

Each authentication mode needs its own fields; a console that accepts a token without a server,
or a client certificate without its key, fails only at deploy time, far from the form. These
rules run before anything is stored. Kubeconfig YAML is parsed by the caller (no YAML here) and
checked as a mapping.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final
from urllib.parse import urlsplit

from vectis_admin.errors import FieldIssue, InvalidInput

__all__ = [
    "OrchestratorCheck",
    "OrchestratorKind",
    "KubeAuthMode",
    "SECRET_FIELDS",
    "validate_orchestrator",
    "parse_address_pools",
]


class OrchestratorKind(StrEnum):
    K3S = "K3S"
    K8S = "K8S"
    EKS = "EKS"
    GKE = "GKE"
    AKS = "AKS"


class KubeAuthMode(StrEnum):
    KUBECONFIG = "kubeconfig"
    IN_CLUSTER = "in_cluster"
    TOKEN = "token"
    CERTIFICATE = "certificate"


# Credential fields that are secret (stored encrypted, never returned) vs public (shown).
SECRET_FIELDS: Final = frozenset({"token", "client_key", "kubeconfig"})
PUBLIC_FIELDS: Final = frozenset(
    {"client_cert", "ca_cert", "kubeconfig_path", "kubeconfig_context"}
)

_CERT_RE: Final = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)
_KEY_RE: Final = re.compile(r"-----BEGIN (?:RSA |EC )?PRIVATE KEY-----.+?-----END", re.S)


@dataclass(frozen=True, kw_only=True)
class OrchestratorCheck:
    api_server_url: str | None
    metallb_range: str | None
    credentials: dict[str, str] = field(repr=False)
    warnings: tuple[str, ...]


def validate_orchestrator(
    *,
    auth_mode: KubeAuthMode,
    api_server_url: str | None,
    credentials: Mapping[str, str],
    kubeconfig_document: Mapping[str, Any] | None,
    skip_tls_verify: bool,
    metallb_range: str | None,
) -> OrchestratorCheck:
    """Check an orchestrator definition; raise every broken rule at once.

    `credentials` holds every credential field (secret and public) after merging stored values;
    `kubeconfig_document` is the parsed kubeconfig when one was given as text.
    """
    issues: list[FieldIssue] = []
    warnings: list[str] = []
    creds = {k: v.strip() for k, v in credentials.items() if v and v.strip()}
    unknown = sorted(set(creds) - SECRET_FIELDS - PUBLIC_FIELDS)
    issues += [FieldIssue(f"credentials.{k}", "is not a known credential field") for k in unknown]
    url = _check_server(api_server_url, auth_mode, issues, warnings)
    needed = {
        KubeAuthMode.TOKEN: ("token",),
        KubeAuthMode.CERTIFICATE: ("client_cert", "client_key"),
        KubeAuthMode.KUBECONFIG: (),
        KubeAuthMode.IN_CLUSTER: (),
    }[auth_mode]
    for name in needed:
        if name not in creds:
            issues.append(FieldIssue(f"credentials.{name}", f"is required for {auth_mode} access"))
    allowed = {
        KubeAuthMode.TOKEN: {"token", "ca_cert"},
        KubeAuthMode.CERTIFICATE: {"client_cert", "client_key", "ca_cert"},
        KubeAuthMode.KUBECONFIG: {"kubeconfig", "kubeconfig_path", "kubeconfig_context"},
        KubeAuthMode.IN_CLUSTER: set(),
    }[auth_mode]
    for name in sorted(set(creds) - allowed - set(unknown)):
        issues.append(FieldIssue(f"credentials.{name}", f"is not used by {auth_mode} access"))
    if auth_mode is KubeAuthMode.KUBECONFIG:
        _check_kubeconfig(creds, kubeconfig_document, issues)
    for name in ("client_cert", "ca_cert"):
        if name in creds and not _CERT_RE.search(creds[name]):
            issues.append(FieldIssue(f"credentials.{name}", "must hold PEM certificates"))
        if name in creds and "PRIVATE KEY" in creds[name]:
            issues.append(FieldIssue(f"credentials.{name}", "must not contain a private key"))
    if "client_key" in creds and not _KEY_RE.search(creds["client_key"]):
        issues.append(FieldIssue("credentials.client_key", "must hold a PEM private key"))
    if skip_tls_verify:
        warnings.append(
            "TLS verification of the API server is off: development only — anyone on the path "
            "can impersonate the cluster and read the pull secrets the console sends"
        )
        if "ca_cert" in creds:
            warnings.append("a CA certificate is set but unused while TLS verification is off")
    pools = None
    if metallb_range and metallb_range.strip():
        try:
            pools = ", ".join(parse_address_pools(metallb_range))
        except InvalidInput as exc:
            issues += exc.issues
    if issues:
        raise InvalidInput(issues)
    return OrchestratorCheck(
        api_server_url=url, metallb_range=pools, credentials=creds, warnings=tuple(warnings)
    )


def _check_server(
    url: str | None, mode: KubeAuthMode, issues: list[FieldIssue], warnings: list[str]
) -> str | None:
    url = (url or "").strip().rstrip("/") or None
    if mode is KubeAuthMode.IN_CLUSTER:
        if url:
            issues.append(
                FieldIssue("api_server_url", "must be empty: in-cluster access finds the API")
            )
        return None
    if url is None:
        if mode in (KubeAuthMode.TOKEN, KubeAuthMode.CERTIFICATE):
            issues.append(FieldIssue("api_server_url", f"is required for {mode} access"))
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.username:
        issues.append(
            FieldIssue("api_server_url", "must be https://host[:port], without credentials")
        )
        return None
    if parts.scheme == "http":
        warnings.append("the API server URL is plain HTTP: tokens and secrets travel unencrypted")
    return url


def _check_kubeconfig(
    creds: Mapping[str, str], document: Mapping[str, Any] | None, issues: list[FieldIssue]
) -> None:
    has_text, has_path = "kubeconfig" in creds, "kubeconfig_path" in creds
    if has_text == has_path:
        issues.append(
            FieldIssue("credentials.kubeconfig", "give either the kubeconfig content or its path")
        )
        return
    if not has_text:
        if not creds["kubeconfig_path"].startswith("/"):
            issues.append(FieldIssue("credentials.kubeconfig_path", "must be an absolute path"))
        return
    if not isinstance(document, Mapping):
        issues.append(FieldIssue("credentials.kubeconfig", "must be a kubeconfig YAML mapping"))
        return
    contexts = {c.get("name"): c for c in document.get("contexts") or [] if isinstance(c, Mapping)}
    if not contexts or not document.get("clusters") or not document.get("users"):
        issues.append(
            FieldIssue("credentials.kubeconfig", "must define clusters, users and contexts")
        )
        return
    wanted = creds.get("kubeconfig_context") or document.get("current-context")
    if not wanted:
        issues.append(
            FieldIssue("credentials.kubeconfig_context", "is required: no current-context is set")
        )
    elif wanted not in contexts:
        names = ", ".join(sorted(str(n) for n in contexts))
        issues.append(
            FieldIssue("credentials.kubeconfig_context", f"must be one of the contexts: {names}")
        )


def parse_address_pools(text: str) -> list[str]:
    """MetalLB address pools: comma-separated `a.b.c.d-e.f.g.h` ranges or CIDRs."""
    pools: list[str] = []
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        try:
            if "-" in item:
                first, last = (ipaddress.ip_address(p.strip()) for p in item.split("-", 1))
                if first.version != last.version or int(first) > int(last):
                    raise ValueError(item)
                pools.append(f"{first}-{last}")
            else:
                pools.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise InvalidInput.one(
                "metallb_range",
                f"{item!r} is not an address range (first-last) or a CIDR network",
            ) from None
    return pools
