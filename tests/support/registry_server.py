"""Run a real registry (Debian ``docker-registry``, distribution 2.8.2) for tests.

``RegistryServer`` writes a config in a temp dir, runs ``docker-registry serve CONFIG`` on
``127.0.0.1:0``, reads the port from the ``listening on`` log line, waits until ``/v2/`` answers
and stops the process with SIGTERM. Auth modes:

* anonymous: ``RegistryServer()``
* htpasswd: ``RegistryServer(users={"alice": "pw"})`` (bcrypt cost 4 entries; MD5/SHA entries
  are refused by distribution). distribution 2.8 **re-reads the htpasswd file on the next
  request when its mtime changes** (no restart needed): :meth:`RegistryServer.set_user` and
  friends rewrite the file atomically and bump the mtime so that two rewrites in the same clock
  tick are still seen.
* token: ``RegistryServer(token_server=ts)`` with a started :class:`TokenServer`.

``tls=True`` (or a :class:`TLSMaterial`) serves HTTPS with a CA and server certificate
generated at test time; :attr:`RegistryServer.ca_pem` and :meth:`RegistryServer.ssl_context`
give what a client must trust. The registry's stdout/stderr go to a log file
(:meth:`RegistryServer.log_text`): token failure reasons appear only there.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import bcrypt
import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.token_server import TokenServer

__all__ = [
    "REGISTRY_BINARY",
    "RegistryServer",
    "RegistryStartError",
    "TLSMaterial",
    "bcrypt_htpasswd_line",
    "make_tls_material",
    "registry_binary",
]

REGISTRY_BINARY = "/usr/bin/docker-registry"
_LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+)")


def registry_binary() -> str | None:
    """Path of the registry binary, or None when it is not installed (to skip tests)."""
    if os.access(REGISTRY_BINARY, os.X_OK):
        return REGISTRY_BINARY
    return shutil.which("docker-registry") or shutil.which("registry")


class RegistryStartError(RuntimeError):
    pass


def bcrypt_htpasswd_line(user: str, password: str) -> str:
    """``user:$2b$04$…`` – the only htpasswd format distribution accepts (cost 4: fast).

    bcrypt ignores/refuses passwords longer than 72 bytes (bcrypt 5 raises ValueError).
    """
    if ":" in user:
        raise ValueError("htpasswd user names cannot contain ':'")
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()
    return f"{user}:{hashed}"


# ---------------------------------------------------------------------------------- TLS


@dataclass(frozen=True)
class TLSMaterial:
    """A throw-away CA and one server certificate it signed (all PEM)."""

    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes
    hostnames: tuple[str, ...]

    def ssl_context(self) -> ssl.SSLContext:
        """A client context trusting only this CA (use as httpx ``verify=``)."""
        return ssl.create_default_context(cadata=self.ca_pem.decode())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_tls_material(
    hostnames: Sequence[str] = ("127.0.0.1", "localhost"),
    *,
    expired: bool = False,
    ca_name: str = "Vectis Test CA",
) -> TLSMaterial:
    """Generate a CA and a server certificate for ``hostnames`` (IP addresses or DNS names).

    Use hostnames that do not include ``127.0.0.1`` (e.g. ``("registry.invalid",)``) for a
    hostname-mismatch test, ``expired=True`` for an expired server certificate.
    """
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(ca_name))
        .issuer_name(_name(ca_name))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = []
    for host in hostnames:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    if expired:
        not_before, not_after = now - dt.timedelta(days=3), now - dt.timedelta(days=1)
    else:
        not_before, not_after = now - dt.timedelta(hours=1), now + dt.timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(hostnames[0] if hostnames else "no-name"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return TLSMaterial(
        ca_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        hostnames=tuple(hostnames),
    )


# ---------------------------------------------------------------------------------- server


class RegistryServer:
    """Context manager around one ``docker-registry serve`` process on 127.0.0.1.

    Pass ``users`` (htpasswd mode, may be ``{}``) **or** ``token_server`` (token mode), or
    neither (anonymous). ``tls`` is False, True (certificate for 127.0.0.1 and localhost) or a
    :class:`TLSMaterial`. ``realm`` is the Basic realm of htpasswd mode. ``extra_config`` is
    merged (shallowly per top-level key) into the generated config.
    """

    def __init__(
        self,
        *,
        users: Mapping[str, str] | None = None,
        token_server: TokenServer | None = None,
        realm: str = "basic-realm",
        tls: bool | TLSMaterial = False,
        log_level: str = "info",
        extra_config: Mapping[str, Any] | None = None,
        binary: str | None = None,
        start_timeout: float = 10.0,
    ) -> None:
        if users is not None and token_server is not None:
            raise ValueError("choose htpasswd (users) or token auth (token_server), not both")
        self.realm = realm
        self.token_server = token_server
        self.log_level = log_level
        self.extra_config = dict(extra_config or {})
        self.binary = binary or registry_binary() or REGISTRY_BINARY
        self.start_timeout = start_timeout
        self._users: dict[str, str] | None = dict(users) if users is not None else None
        self.tls: TLSMaterial | None = (
            make_tls_material() if tls is True else (tls if isinstance(tls, TLSMaterial) else None)
        )
        self._tmp: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._port: int | None = None
        self._htpasswd_mtime_ns = 0

    # ------------------------------------------------------------------ properties

    @property
    def mode(self) -> str:
        if self._users is not None:
            return "htpasswd"
        if self.token_server is not None:
            return "token"
        return "anonymous"

    @property
    def port(self) -> int:
        assert self._port is not None, "RegistryServer not started"
        return self._port

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT`` – the registry part of an image reference."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    @property
    def workdir(self) -> Path:
        assert self._tmp is not None, "RegistryServer not started"
        return self._tmp

    @property
    def data_dir(self) -> Path:
        """Storage root (``storage.filesystem.rootdirectory``)."""
        return self.workdir / "data"

    @property
    def config_path(self) -> Path:
        return self.workdir / "config.yml"

    @property
    def log_path(self) -> Path:
        return self.workdir / "registry.log"

    @property
    def htpasswd_path(self) -> Path:
        return self.workdir / "htpasswd"

    @property
    def ca_pem(self) -> bytes:
        """PEM of the CA that signed the server certificate (TLS mode only)."""
        if self.tls is None:
            raise RuntimeError("registry is not in TLS mode")
        return self.tls.ca_pem

    @property
    def ca_path(self) -> Path:
        """The CA bundle as a file (for tools that want a path)."""
        if self.tls is None:
            raise RuntimeError("registry is not in TLS mode")
        return self.workdir / "ca.pem"

    @property
    def users(self) -> dict[str, str]:
        return dict(self._users or {})

    def ssl_context(self) -> ssl.SSLContext:
        """Client SSL context trusting the CA (httpx ``verify=``; httpx 0.28 deprecates a path
        string there)."""
        if self.tls is None:
            raise RuntimeError("registry is not in TLS mode")
        return self.tls.ssl_context()

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """What to pass as httpx ``verify=`` to talk to this registry."""
        return self.ssl_context() if self.tls else True

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client for this registry (base_url, trust_env=False, CA trusted)."""
        kwargs.setdefault("base_url", self.url)
        kwargs.setdefault("verify", self.verify)
        kwargs.setdefault("trust_env", False)
        kwargs.setdefault("timeout", 10.0)
        return httpx.Client(**kwargs)

    def log_text(self) -> str:
        """Everything the registry has logged so far (token rejection reasons are here)."""
        if self._log is not None:
            self._log.flush()
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def _log_tail(self, limit: int = 4000) -> str:
        return self.log_text()[-limit:]

    # ------------------------------------------------------------------ htpasswd users

    def set_user(self, user: str, password: str) -> None:
        """Add or change an htpasswd user; the running registry picks it up on its next
        request (it reloads the file when the mtime changes)."""
        self._require_htpasswd()
        assert self._users is not None
        self._users[user] = password
        self._write_htpasswd()

    def remove_user(self, user: str) -> None:
        self._require_htpasswd()
        assert self._users is not None
        self._users.pop(user, None)
        self._write_htpasswd()

    def set_users(self, users: Mapping[str, str]) -> None:
        """Replace every htpasswd user."""
        self._require_htpasswd()
        self._users = dict(users)
        self._write_htpasswd()

    def write_htpasswd_lines(self, lines: Iterable[str]) -> None:
        """Write raw htpasswd lines (e.g. an MD5 ``$apr1$`` entry, which distribution refuses).
        The ``users`` mapping is left as it was."""
        self._require_htpasswd()
        self._replace_file(self.htpasswd_path, "".join(f"{line}\n" for line in lines).encode())

    def _require_htpasswd(self) -> None:
        if self._users is None:
            raise RuntimeError("registry is not in htpasswd mode")

    def _write_htpasswd(self) -> None:
        if self._tmp is None or self._users is None:
            return  # written at start
        lines = [bcrypt_htpasswd_line(u, p) for u, p in self._users.items()]
        self._replace_file(self.htpasswd_path, "".join(f"{line}\n" for line in lines).encode())

    def _replace_file(self, path: Path, content: bytes) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(content)
        # Coarse kernel timestamps: two writes in one tick would share an mtime and the
        # registry would not reload. Force a strictly increasing mtime.
        mtime_ns = max(time.time_ns(), self._htpasswd_mtime_ns + 1_000_000)
        self._htpasswd_mtime_ns = mtime_ns
        os.utime(tmp, ns=(mtime_ns, mtime_ns))
        os.replace(tmp, path)

    # ------------------------------------------------------------------ config

    def config(self) -> dict[str, Any]:
        """The registry configuration (written as JSON, which is valid YAML)."""
        http: dict[str, Any] = {
            "addr": f"127.0.0.1:{self._port or 0}",
            "secret": "vectis-test-secret",
        }
        if self.tls is not None:
            http["tls"] = {
                "certificate": str(self.workdir / "server.crt"),
                "key": str(self.workdir / "server.key"),
            }
        cfg: dict[str, Any] = {
            "version": 0.1,
            "log": {"level": self.log_level, "accesslog": {"disabled": True}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.data_dir)},
                "delete": {"enabled": True},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": http,
        }
        if self._users is not None:
            cfg["auth"] = {"htpasswd": {"realm": self.realm, "path": str(self.htpasswd_path)}}
        elif self.token_server is not None:
            ts = self.token_server
            cfg["auth"] = {
                "token": {
                    "realm": ts.realm,
                    "service": ts.service,
                    "issuer": ts.issuer,
                    "rootcertbundle": str(ts.rootcert_path),
                }
            }
        for key, value in self.extra_config.items():
            if isinstance(value, Mapping) and isinstance(cfg.get(key), dict):
                cfg[key].update(value)
            else:
                cfg[key] = value
        return cfg

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> RegistryServer:
        if self._proc is not None:
            raise RuntimeError("already running")
        if not os.access(self.binary, os.X_OK):
            raise RegistryStartError(f"registry binary not found: {self.binary}")
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="vectis-registry-"))
            self.data_dir.mkdir()
            if self.tls is not None:
                (self.workdir / "server.crt").write_bytes(self.tls.cert_pem)  # leaf only
                (self.workdir / "server.key").write_bytes(self.tls.key_pem)
                self.ca_path.write_bytes(self.tls.ca_pem)
            if self._users is not None:
                self._write_htpasswd()
        self.config_path.write_text(json.dumps(self.config(), indent=1))
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        try:
            self._proc = subprocess.Popen(
                [self.binary, "serve", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )
            self._port = self._wait_for_port(offset)
            self._wait_for_ping()
        except BaseException:
            self.close()  # the error message already carries the log
            raise
        return self

    def _wait_for_port(self, offset: int) -> int:
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as fh:
                fh.seek(offset)
                match = _LISTENING.search(fh.read().decode(errors="replace"))
            if match:
                return int(match.group(1))
            if self._proc.poll() is not None:
                raise RegistryStartError(
                    f"registry exited with {self._proc.returncode}:\n{self._log_tail()}"
                )
            time.sleep(0.005)
        raise RegistryStartError(f"registry did not start listening:\n{self._log_tail()}")

    def _wait_for_ping(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last: Exception | None = None
        # Readiness only: do not verify the certificate (a mismatch test serves a bad one).
        with httpx.Client(verify=False, trust_env=False, timeout=2.0) as client:
            while time.monotonic() < deadline:
                try:
                    client.get(f"{self.url}/v2/")
                    return
                except httpx.TransportError as exc:
                    last = exc
                    time.sleep(0.005)
        raise RegistryStartError(f"registry /v2/ never answered ({last}):\n{self._log_tail()}")

    def stop(self) -> None:
        """SIGTERM, wait (SIGKILL after 5 s), close the log. Keeps the work dir (see close)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> None:
        """Stop and start again on the same port with the same storage and users."""
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def close(self) -> None:
        """Stop and remove the work dir (storage, config, log)."""
        self.stop()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
            self._port = None

    def __enter__(self) -> RegistryServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
