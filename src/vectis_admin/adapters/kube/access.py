"""From a `KubeAccess` (what an operator entered, secrets decrypted) to a lightkube configuration.

Why this is a module of its own: the four ways of reaching a cluster (pasted kubeconfig +
context, in-cluster service account, server + bearer token, server + client certificate) all end
in the same two things, a lightkube `SingleConfig` (server, user, namespace) and an
`ssl.SSLContext`, and every mistake in them must become an `InvalidInput` naming the field
before any request is made.

TLS is built here, not by lightkube. lightkube 1.0 turns every `*-data` field of a kubeconfig
(CA, client certificate, client **key**) into a `tempfile.NamedTemporaryFile` in `$TMPDIR` that
lives until the garbage collector finalises it (`lightkube.config.models.FileStr`). We keep that
material out of lightkube's config and build the context ourselves: the CA is loaded from memory
(`cadata`), the client certificate and key through anonymous in-memory files (`memfd_create`,
Linux) or, where those do not exist, a private 0700 directory of 0600 files removed as soon as
OpenSSL has read them. The gateway hands the context to httpx2 through its transport.
"""

from __future__ import annotations

import base64
import binascii
import os
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import msgspec
import yaml
from lightkube import ConfigError, KubeConfig, SingleConfig
from lightkube.config.kubeconfig import SERVICE_ACCOUNT
from lightkube.config.models import Cluster, User

from vectis_admin.errors import FieldIssue, InvalidInput, KubeUnavailable
from vectis_admin.services.ports import KubeAccess, KubeAuthMode

__all__ = ["SERVICE_ACCOUNT", "ClusterTarget", "resolve_access"]


@dataclass(frozen=True, kw_only=True)
class ClusterTarget:
    """Everything needed to open a client to one API server; TLS material already loaded."""

    config: SingleConfig  # server, user credentials (token, exec…), default namespace; no TLS
    ssl_context: ssl.SSLContext
    server: str  # https://host:6443
    host: str  # host:6443, for messages
    insecure: bool  # TLS verification disabled (flagged to operators)
    timeout: float
    # Values that must never reach a message (token, password, key): scrubbed by the gateway.
    secrets: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True, kw_only=True)
class _Tls:
    ca_pem: str | None = None
    ca_file: str | None = None
    cert_pem: str | None = field(default=None, repr=False)
    key_pem: str | None = field(default=None, repr=False)
    cert_file: str | None = None
    key_file: str | None = None


def resolve_access(
    access: KubeAccess, *, service_account_dir: str | os.PathLike[str] = SERVICE_ACCOUNT
) -> ClusterTarget:
    """Build the target for `access`; `InvalidInput` names the field that is wrong."""
    if not access.timeout > 0:
        raise InvalidInput.one("timeout", "must be a positive number of seconds")
    mode = access.auth_mode
    if mode is KubeAuthMode.KUBECONFIG:
        config = _kubeconfig_context(access)
        return _target(config, access, field_name="kubeconfig")
    if mode is KubeAuthMode.IN_CLUSTER:
        try:
            in_pod = KubeConfig.from_service_account(service_account_dir).get()
        except (ConfigError, KeyError, OSError) as exc:
            raise KubeUnavailable(
                "in-cluster access needs the pod's service account (token and CA under "
                f"{os.fspath(service_account_dir)}) and KUBERNETES_SERVICE_HOST/PORT: "
                "Vectis Admin does not seem to run in a Kubernetes pod"
            ) from exc
        assert in_pod is not None
        return _target(in_pod, access, field_name="service account")
    server = _server(access.server)
    if mode is KubeAuthMode.TOKEN:
        if not access.token:
            raise InvalidInput.one("token", "required for bearer-token access")
        user = User(token=access.token.strip())
        tls = _Tls(ca_pem=access.ca_pem)
    else:
        missing = [
            name
            for name, value in (
                ("client_cert_pem", access.client_cert_pem),
                ("client_key_pem", access.client_key_pem),
            )
            if not value
        ]
        if missing:
            raise InvalidInput([FieldIssue(n, "required for certificate access") for n in missing])
        user = User()
        tls = _Tls(
            ca_pem=access.ca_pem, cert_pem=access.client_cert_pem, key_pem=access.client_key_pem
        )
    single = KubeConfig.from_one(
        cluster=Cluster(server=server, insecure=access.skip_tls_verify), user=user
    ).get()
    assert single is not None
    insecure = access.skip_tls_verify
    return ClusterTarget(
        config=single,
        ssl_context=_ssl_context(tls, insecure=insecure, field_prefix=""),
        server=server,
        host=_host(server),
        insecure=insecure,
        timeout=access.timeout,
        secrets=_secrets(access.token, access.client_key_pem),
    )


# ----------------------------------------------------------------------------- kubeconfig


def _kubeconfig_context(access: KubeAccess) -> SingleConfig:
    if not access.kubeconfig or not access.kubeconfig.strip():
        raise InvalidInput.one("kubeconfig", "required for kubeconfig access")
    try:
        document = yaml.safe_load(access.kubeconfig)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        # The YAML error quotes the offending text, which may be a token: never pass it on.
        raise InvalidInput.one("kubeconfig", f"is not valid YAML{where}") from None
    if not isinstance(document, dict):
        raise InvalidInput.one("kubeconfig", "is not a kubeconfig (expected a YAML mapping)")
    try:
        kubeconfig = KubeConfig.from_dict(document)
    except (KeyError, TypeError, msgspec.ValidationError) as exc:
        detail = f"missing {exc}" if isinstance(exc, KeyError) else "malformed"
        raise InvalidInput.one("kubeconfig", f"is not a kubeconfig ({detail})") from None
    name = access.context or kubeconfig.current_context
    available = ", ".join(sorted(kubeconfig.contexts)) or "none"
    if not name:
        raise InvalidInput.one(
            "kubeconfig_context",
            f"no context given and the kubeconfig has no current-context (contexts: {available})",
        )
    context = kubeconfig.contexts.get(name)
    if context is None:
        raise InvalidInput.one(
            "kubeconfig_context",
            f"context {name!r} is not in the kubeconfig (contexts: {available})",
        )
    if context.cluster not in kubeconfig.clusters:
        raise InvalidInput.one(
            "kubeconfig",
            f"context {name!r} names cluster {context.cluster!r}, which is not defined",
        )
    if context.user and context.user not in kubeconfig.users:
        raise InvalidInput.one(
            "kubeconfig", f"context {name!r} names user {context.user!r}, which is not defined"
        )
    config = kubeconfig.get(name)
    assert config is not None
    return config


# --------------------------------------------------------------------- from a SingleConfig


def _target(config: SingleConfig, access: KubeAccess, *, field_name: str) -> ClusterTarget:
    """Move TLS material out of a lightkube config (kubeconfig or service account)."""
    cluster, user = config.cluster, config.user or User()
    if user.auth_provider:
        raise InvalidInput.one(
            field_name, "auth-provider users are not supported: use a token, exec or a certificate"
        )
    server = _server(cluster.server, field_name=field_name)
    insecure = cluster.insecure or access.skip_tls_verify
    tls = _Tls(
        ca_pem=_decoded(cluster.certificate_auth_data, field_name, "certificate-authority-data"),
        ca_file=_absolute(cluster.certificate_auth, field_name, "certificate-authority"),
        cert_pem=_decoded(user.client_cert_data, field_name, "client-certificate-data"),
        key_pem=_decoded(user.client_key_data, field_name, "client-key-data"),
        cert_file=_absolute(user.client_cert, field_name, "client-certificate"),
        key_file=_absolute(user.client_key, field_name, "client-key"),
    )
    stripped = config._replace(
        cluster=Cluster(server=server, insecure=insecure),
        user=msgspec.structs.replace(
            user, client_cert=None, client_cert_data=None, client_key=None, client_key_data=None
        ),
    )
    return ClusterTarget(
        config=stripped,
        ssl_context=_ssl_context(tls, insecure=insecure, field_prefix=field_name),
        server=server,
        host=_host(server),
        insecure=insecure,
        timeout=access.timeout,
        secrets=_secrets(user.token, user.password, tls.key_pem),
    )


def _decoded(data: str | None, field_name: str, key: str) -> str | None:
    if not data:
        return None
    try:
        return base64.b64decode(data, validate=False).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidInput.one(field_name, f"{key} is not base64 of a PEM text") from None


def _absolute(path: str | None, field_name: str, key: str) -> str | None:
    if not path:
        return None
    if not Path(path).is_absolute():
        raise InvalidInput.one(
            field_name,
            f"{key} is a relative path ({path}); paste the kubeconfig with "
            f"{key}-data instead (kubectl config view --raw --flatten)",
        )
    return path


# ------------------------------------------------------------------------------------ TLS


def _ssl_context(tls: _Tls, *, insecure: bool, field_prefix: str) -> ssl.SSLContext:
    def where(name: str) -> str:
        return field_prefix or name

    if insecure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif tls.ca_pem or tls.ca_file:
        try:
            context = ssl.create_default_context(cadata=tls.ca_pem, cafile=tls.ca_file)
        except (ssl.SSLError, OSError, ValueError):
            raise InvalidInput.one(
                where("ca_pem"), "the CA certificate could not be read (expected PEM)"
            ) from None
    else:
        context = httpx2.create_ssl_context()  # the usual trust store (certifi, SSL_CERT_FILE)
    try:
        if tls.cert_pem and tls.key_pem:
            with _private_files(tls.cert_pem, tls.key_pem) as (cert_path, key_path):
                context.load_cert_chain(cert_path, key_path)
        elif tls.cert_file and tls.key_file:
            context.load_cert_chain(tls.cert_file, tls.key_file)
        elif tls.cert_pem or tls.cert_file or tls.key_pem or tls.key_file:
            raise InvalidInput.one(
                where("client_key_pem"), "a client certificate needs both certificate and key"
            )
    except (ssl.SSLError, OSError):
        raise InvalidInput.one(
            where("client_cert_pem"),
            "the client certificate and key could not be loaded (not PEM, encrypted, "
            "or the key does not match the certificate)",
        ) from None
    return context


@contextmanager
def _private_files(*contents: str) -> Iterator[list[str]]:
    """Paths OpenSSL can open for `contents`, gone when the block ends.

    `ssl` loads certificates and keys only from paths. Anonymous memory files never touch a
    disk; without them, a fresh 0700 directory holds 0600 files for the length of the block."""
    if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
        fds: list[int] = []
        try:
            for text in contents:
                fd = os.memfd_create("vectis-kube-tls", os.MFD_CLOEXEC)
                fds.append(fd)
                os.write(fd, text.encode())
            yield [f"/proc/self/fd/{fd}" for fd in fds]
        finally:
            for fd in fds:
                os.close(fd)
        return
    with tempfile.TemporaryDirectory(prefix="vectis-kube-") as directory:
        paths = []
        for index, text in enumerate(contents):
            path = os.path.join(directory, f"{index}.pem")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
            paths.append(path)
        yield paths


# ------------------------------------------------------------------------------- helpers


def _server(server: str | None, *, field_name: str = "server") -> str:
    if not server or not server.strip():
        raise InvalidInput.one(field_name, "the API server URL is required")
    parts = urlsplit(server.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput.one(field_name, "the API server must be an https:// URL")
    return server.strip().rstrip("/")


def _host(server: str) -> str:
    return urlsplit(server).netloc.rpartition("@")[2]


def _secrets(*values: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in values if v and len(v.strip()) >= 4)
