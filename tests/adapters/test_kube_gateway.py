"""The lightkube gateway (adapters/kube) against the Kubernetes API emulator.

Every error class is produced for real by the emulator (no mocks). The emulator speaks plain
HTTP, so the TLS cases (CA, skip-TLS-verify, client certificates, in-cluster access) run through
`TlsProxy`, a small TLS terminator in front of it whose certificates come from a test CA.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import select
import socket
import ssl
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.kube_emulator import KubeEmulator
from vectis_admin.adapters.kube import LightkubeConnector, LightkubeGateway, resolve_access
from vectis_admin.errors import (
    InvalidInput,
    KubeConflict,
    KubeError,
    KubeForbidden,
    KubeInvalid,
    KubeNotFound,
    KubeUnavailable,
)
from vectis_admin.services.ports import KubeAccess, KubeAuthMode

TOKEN = "vectis-test-token-DO-NOT-LEAK-4f8a1c"
WRONG_TOKEN = "wrong-token-MUST-NOT-LEAK-9d2e77"
JSON = dict[str, Any]


# ------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def kube() -> Iterator[KubeEmulator]:
    with KubeEmulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def clean_emulator(kube: KubeEmulator) -> Iterator[None]:
    kube.reset_faults()
    kube.clear_journal()
    yield
    kube.reset_faults()
    kube.resume()  # after refuse(); a no-op otherwise
    assert kube.internal_errors == []


@pytest.fixture
def connector() -> LightkubeConnector:
    return LightkubeConnector(retry_delays=(0.01, 0.02))


def token_access(server: str, **changes: Any) -> KubeAccess:
    fields: JSON = {"auth_mode": KubeAuthMode.TOKEN, "server": server, "token": TOKEN}
    return KubeAccess(**(fields | changes))


@pytest.fixture
def gateway(kube: KubeEmulator, connector: LightkubeConnector) -> Iterator[LightkubeGateway]:
    with connector.connect(token_access(kube.base_url)) as gw:
        yield gw


@pytest.fixture
def ns(kube: KubeEmulator) -> str:
    name = f"t-{uuid.uuid4().hex[:10]}"
    kube.ensure_namespace(name)
    return name


def secret(name: str, namespace: str, **extra: Any) -> JSON:
    labels = extra.pop("labels", {"app.kubernetes.io/managed-by": "vectis-admin"})
    body: JSON = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "type": "Opaque",
        "data": {"k": "dg=="},
    }
    return body | extra


def kubeconfig_text(kube: KubeEmulator, **overrides: Any) -> str:
    """The emulator's kubeconfig plus a `broken` context (wrong token, namespace team-b)."""
    config = kube.kubeconfig(namespace="team-a")
    config["users"].append({"name": "broken", "user": {"token": WRONG_TOKEN}})
    config["contexts"].append(
        {"name": "broken", "context": {"cluster": "emulator", "user": "broken"}}
    )
    return yaml.safe_dump(config | overrides)


# ------------------------------------------------------------------------ TLS test fixtures


@dataclass(frozen=True)
class Pki:
    ca_pem: str
    server_cert_pem: str
    server_key_pem: str
    client_cert_pem: str
    client_key_pem: str
    other_ca_pem: str


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer[0].subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        usage = x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=True,
            crl_sign=True,
            encipher_only=False,
            decipher_only=False,
        )
        builder = builder.add_extension(usage, critical=True)
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
    else:
        eku = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
        assert issuer is not None
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer[1].public_key()),
            critical=False,
        )
    if server:
        san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        builder = builder.add_extension(san, critical=False)
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki() -> Pki:
    def pem(cert: x509.Certificate) -> str:
        return cert.public_bytes(serialization.Encoding.PEM).decode()

    ca_key, other_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca = _cert("test-ca", ca_key, None, ca=True)
    other = _cert("other-ca", other_key, None, ca=True)
    server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(2))
    server = _cert("kube-apiserver", server_key, (ca, ca_key), server=True)
    client = _cert("vectis-admin", client_key, (ca, ca_key))
    return Pki(
        pem(ca), pem(server), _key_pem(server_key), pem(client), _key_pem(client_key), pem(other)
    )


class TlsProxy:
    """TLS terminator in front of the emulator: our server certificate, client certificates
    from the test CA required when `require_client_cert`. One thread per connection."""

    def __init__(self, upstream: int, pki: Pki, directory: Path, require_client_cert: bool):
        (directory / "server.crt").write_text(pki.server_cert_pem)
        (directory / "server.key").write_text(pki.server_key_pem)
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(directory / "server.crt", directory / "server.key")
        if require_client_cert:
            self._context.verify_mode = ssl.CERT_REQUIRED
            self._context.load_verify_locations(cadata=pki.ca_pem)
        self._upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        tls = self._context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        upstream: socket.socket | None = None
        try:
            tls.do_handshake()
            upstream = socket.create_connection(("127.0.0.1", self._upstream))
            peers = {tls: upstream, upstream: tls}
            while not self._stop.is_set():
                ready, _, _ = select.select(list(peers), [], [], 0.05)
                if tls.pending() and tls not in ready:
                    ready.append(tls)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ssl.SSLError):
            return
        finally:
            tls.close()
            conn.close()
            if upstream is not None:
                upstream.close()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._accepting.join()
        for thread in self._threads:
            thread.join(5)


@pytest.fixture
def tls_proxy(kube: KubeEmulator, pki: Pki, tmp_path: Path) -> Iterator[Callable[..., TlsProxy]]:
    proxies: list[TlsProxy] = []

    def start(upstream: int | None = None, *, require_client_cert: bool = False) -> TlsProxy:
        directory = tmp_path / f"proxy{len(proxies)}"
        directory.mkdir()
        proxy = TlsProxy(upstream or kube.port, pki, directory, require_client_cert)
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.close()


@pytest.fixture
def open_emulator() -> Iterator[KubeEmulator]:
    """An emulator without bearer-token authentication (for client-certificate access)."""
    with KubeEmulator(token=None) as emulator:
        yield emulator
        assert emulator.internal_errors == []


# ------------------------------------------------------------------------------ connecting


def test_kubeconfig_text_uses_its_current_context_and_namespace(
    kube: KubeEmulator, connector: LightkubeConnector
) -> None:
    access = KubeAccess(auth_mode=KubeAuthMode.KUBECONFIG, kubeconfig=kubeconfig_text(kube))
    with connector.connect(access) as gw:
        assert gw.version() == "v1.37.0"
        assert gw.namespace == "team-a"
        assert gw.get("Namespace", "default") is not None


def test_kubeconfig_context_is_selected_by_name(
    kube: KubeEmulator, connector: LightkubeConnector
) -> None:
    text = kubeconfig_text(kube)
    broken = KubeAccess(auth_mode=KubeAuthMode.KUBECONFIG, kubeconfig=text, context="broken")
    with connector.connect(broken) as gw:
        assert gw.namespace == "default"
        with pytest.raises(KubeForbidden) as error:
            gw.get("Namespace", "default")
        assert error.value.status == 401
    good = KubeAccess(auth_mode=KubeAuthMode.KUBECONFIG, kubeconfig=text, context="emulator")
    with connector.connect(good) as gw:
        assert gw.get("Namespace", "default") is not None


@pytest.mark.parametrize(
    ("context", "overrides", "expected"),
    [
        ("nope", {}, "context 'nope' is not in the kubeconfig (contexts: broken, emulator)"),
        (None, {"current-context": None}, "no context given"),
    ],
)
def test_a_missing_context_names_the_field(
    kube: KubeEmulator,
    connector: LightkubeConnector,
    context: str | None,
    overrides: JSON,
    expected: str,
) -> None:
    text = kubeconfig_text(kube, **overrides)
    access = KubeAccess(auth_mode=KubeAuthMode.KUBECONFIG, kubeconfig=text, context=context)
    with pytest.raises(InvalidInput) as error:
        connector.connect(access)
    assert [issue.field for issue in error.value.issues] == ["kubeconfig_context"]
    assert expected in error.value.message


@pytest.mark.parametrize(
    "text",
    [f"users: [{{name: x, user: {{token: {TOKEN}}}]\n  bad: : :", "- a list", "kind: Config"],
)
def test_a_broken_kubeconfig_is_refused_without_quoting_it(
    connector: LightkubeConnector, text: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        connector.connect(KubeAccess(auth_mode=KubeAuthMode.KUBECONFIG, kubeconfig=text))
    assert error.value.issues[0].field == "kubeconfig"
    assert TOKEN not in str(error.value)


def test_bearer_token_access(kube: KubeEmulator, connector: LightkubeConnector) -> None:
    with connector.connect(token_access(kube.base_url)) as gw:
        assert gw.version() == "v1.37.0"
        assert gw.get("Namespace", "kube-system") is not None
    with connector.connect(token_access(kube.base_url, token=WRONG_TOKEN)) as gw:
        with pytest.raises(KubeForbidden) as error:
            gw.get("Namespace", "kube-system")
    assert error.value.status == 401
    assert WRONG_TOKEN not in str(error.value)


@pytest.mark.parametrize(
    ("access", "fields"),
    [
        (KubeAccess(auth_mode=KubeAuthMode.TOKEN, token=TOKEN), ["server"]),
        (KubeAccess(auth_mode=KubeAuthMode.TOKEN, server="https://k:6443"), ["token"]),
        (KubeAccess(auth_mode=KubeAuthMode.TOKEN, server="k:6443", token=TOKEN), ["server"]),
        (
            KubeAccess(auth_mode=KubeAuthMode.CERTIFICATE, server="https://k:6443"),
            ["client_cert_pem", "client_key_pem"],
        ),
        (
            KubeAccess(
                auth_mode=KubeAuthMode.CERTIFICATE,
                server="https://k:6443",
                client_cert_pem="not a cert",
                client_key_pem="not a key",
            ),
            ["client_cert_pem"],
        ),
        (
            KubeAccess(
                auth_mode=KubeAuthMode.TOKEN, server="https://k:6443", token=TOKEN, ca_pem="x"
            ),
            ["ca_pem"],
        ),
        (KubeAccess(auth_mode=KubeAuthMode.KUBECONFIG), ["kubeconfig"]),
    ],
)
def test_incomplete_access_names_the_fields(
    connector: LightkubeConnector, access: KubeAccess, fields: list[str]
) -> None:
    with pytest.raises(InvalidInput) as error:
        connector.connect(access)
    assert [issue.field for issue in error.value.issues] == fields


def test_tls_trusts_the_given_ca_only(
    connector: LightkubeConnector, tls_proxy: Callable[..., TlsProxy], pki: Pki
) -> None:
    proxy = tls_proxy()
    with connector.connect(token_access(proxy.url, ca_pem=pki.ca_pem)) as gw:
        assert gw.version() == "v1.37.0"
        assert not gw.insecure
    for ca in (None, pki.other_ca_pem):
        with connector.connect(token_access(proxy.url, ca_pem=ca)) as gw:
            with pytest.raises(KubeUnavailable, match="CERTIFICATE_VERIFY_FAILED") as error:
                gw.get("Namespace", "default")
            assert f"127.0.0.1:{proxy.port}" in str(error.value)


def test_skip_tls_verify_is_honoured_and_flagged(
    connector: LightkubeConnector, tls_proxy: Callable[..., TlsProxy]
) -> None:
    proxy = tls_proxy()
    access = token_access(proxy.url, skip_tls_verify=True)
    target = resolve_access(access)
    assert target.insecure and target.config.cluster.insecure
    assert target.ssl_context.verify_mode == ssl.CERT_NONE
    assert not target.ssl_context.check_hostname
    with connector.connect(access) as gw:
        assert gw.insecure
        assert gw.get("Namespace", "default") is not None


@pytest.mark.parametrize("memfd", [True, False], ids=["memfd", "private-dir"])
def test_client_certificate_access(
    open_emulator: KubeEmulator,
    connector: LightkubeConnector,
    tls_proxy: Callable[..., TlsProxy],
    pki: Pki,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    memfd: bool,
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    if not memfd:  # a platform without anonymous memory files: 0600 files, removed at once
        monkeypatch.delattr(os, "memfd_create", raising=False)
    proxy = tls_proxy(open_emulator.port, require_client_cert=True)
    access = KubeAccess(
        auth_mode=KubeAuthMode.CERTIFICATE,
        server=proxy.url,
        ca_pem=pki.ca_pem,
        client_cert_pem=pki.client_cert_pem,
        client_key_pem=pki.client_key_pem,
    )
    with connector.connect(access) as gw:
        created = gw.create(secret("by-cert", "default"))
        assert created["metadata"]["uid"]
        assert gw.get("Secret", "by-cert", namespace="default") is not None
    assert list(scratch.iterdir()) == []  # the key was never left on disk
    without_cert = KubeAccess(
        auth_mode=KubeAuthMode.TOKEN, server=proxy.url, token=TOKEN, ca_pem=pki.ca_pem
    )
    with connector.connect(without_cert) as gw:
        with pytest.raises(KubeUnavailable) as error:
            gw.get("Secret", "by-cert", namespace="default")
    assert TOKEN not in str(error.value)


def test_kubeconfig_with_embedded_certificates(
    open_emulator: KubeEmulator,
    connector: LightkubeConnector,
    tls_proxy: Callable[..., TlsProxy],
    pki: Pki,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    import base64

    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    proxy = tls_proxy(open_emulator.port, require_client_cert=True)
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "c",
        "clusters": [
            {
                "name": "c",
                "cluster": {"server": proxy.url, "certificate-authority-data": b64(pki.ca_pem)},
            }
        ],
        "users": [
            {
                "name": "u",
                "user": {
                    "client-certificate-data": b64(pki.client_cert_pem),
                    "client-key-data": b64(pki.client_key_pem),
                },
            }
        ],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u", "namespace": "ops"}}],
    }
    before = set(tmp_path.iterdir())
    access = KubeAccess(auth_mode=KubeAuthMode.KUBECONFIG, kubeconfig=yaml.safe_dump(config))
    with connector.connect(access) as gw:
        assert gw.namespace == "ops"
        assert gw.version() == "v1.37.0"
        assert gw.get("Namespace", "default") is not None
    assert set(tmp_path.iterdir()) == before


def test_in_cluster_access(
    connector: LightkubeConnector,
    tls_proxy: Callable[..., TlsProxy],
    pki: Pki,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    proxy = tls_proxy()
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(TOKEN)
    (account / "namespace").write_text("vectis")
    (account / "ca.crt").write_text(pki.ca_pem)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(proxy.port))
    in_pod = LightkubeConnector(service_account_dir=account)
    with in_pod.connect(KubeAccess(auth_mode=KubeAuthMode.IN_CLUSTER)) as gw:
        assert gw.namespace == "vectis"
        assert gw.version() == "v1.37.0"
        assert gw.get("Namespace", "default") is not None

    monkeypatch.delenv("KUBERNETES_SERVICE_HOST")
    with pytest.raises(KubeUnavailable, match="does not seem to run in a Kubernetes pod"):
        in_pod.connect(KubeAccess(auth_mode=KubeAuthMode.IN_CLUSTER))
    elsewhere = LightkubeConnector(service_account_dir=tmp_path / "missing")
    with pytest.raises(KubeUnavailable, match="does not seem to run in a Kubernetes pod"):
        elsewhere.connect(KubeAccess(auth_mode=KubeAuthMode.IN_CLUSTER))


# -------------------------------------------------------------------------------- CRUD


def test_create_get_replace_patch_delete(
    kube: KubeEmulator, gateway: LightkubeGateway, ns: str
) -> None:
    created = gateway.create(secret("pull", ns))
    assert created["kind"] == "Secret" and created["apiVersion"] == "v1"
    assert created["metadata"]["resourceVersion"]

    got = gateway.get("Secret", "pull", namespace=ns)
    assert got == created

    got["data"] = {"k": "eA=="}
    replaced = gateway.replace(got)
    assert replaced["data"] == {"k": "eA=="}
    assert int(replaced["metadata"]["resourceVersion"]) > int(
        created["metadata"]["resourceVersion"]
    )

    patched = gateway.json_patch(
        "Secret",
        "pull",
        [
            {"op": "test", "path": "/metadata/labels/app.kubernetes.io~1managed-by",
             "value": "vectis-admin"},
            {"op": "add", "path": "/metadata/annotations", "value": {"h": "1"}},
        ],
        namespace=ns,
    )  # fmt: skip
    assert patched["metadata"]["annotations"] == {"h": "1"}

    merged = gateway.merge_patch(
        "Secret", "pull", {"metadata": {"annotations": {"h": None, "g": "2"}}}, namespace=ns
    )
    assert merged["metadata"]["annotations"] == {"g": "2"}

    assert gateway.delete("Secret", "pull", namespace=ns) is True
    assert gateway.get("Secret", "pull", namespace=ns) is None
    assert gateway.delete("Secret", "pull", namespace=ns) is False
    assert [e.method for e in kube.writes()] == [
        "POST",
        "PUT",
        "PATCH",
        "PATCH",
        "DELETE",
        "DELETE",
    ]
    assert [e.content_type for e in kube.writes() if e.method == "PATCH"] == [
        "application/json-patch+json",
        "application/merge-patch+json",
    ]


def test_cluster_scoped_kinds_and_other_kinds(gateway: LightkubeGateway) -> None:
    name = f"ns-{uuid.uuid4().hex[:8]}"
    gateway.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    gateway.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "vectis", "namespace": name},
            "spec": {
                "selector": {"matchLabels": {"app": "vectis"}},
                "template": {
                    "metadata": {"labels": {"app": "vectis"}},
                    "spec": {"containers": [{"name": "vectis", "image": "r.example/v:1"}]},
                },
            },
        }
    )
    assert gateway.list("Deployment", namespace=name)[0]["kind"] == "Deployment"
    # the namespace's controllers added a ServiceAccount and a ConfigMap
    assert gateway.get("ServiceAccount", "default", namespace=name) is not None
    assert gateway.delete("Namespace", name) is True
    assert gateway.get("Namespace", name) is None


def test_list_by_label_selector_in_one_or_all_namespaces(
    gateway: LightkubeGateway, ns: str, kube: KubeEmulator
) -> None:
    other = f"{ns}-b"
    kube.ensure_namespace(other)
    gateway.create(secret("a", ns, labels={"app": "vectis", "registry": "r1"}))
    gateway.create(secret("b", ns, labels={"app": "vectis", "registry": "r2"}))
    gateway.create(secret("c", ns, labels={"app": "other"}))
    gateway.create(secret("d", other, labels={"app": "vectis", "registry": "r1"}))

    def names(selector: str | None, namespace: str | None = ns) -> list[str]:
        found = gateway.list("Secret", namespace=namespace, label_selector=selector)
        return sorted(
            o["metadata"]["name"] for o in found if o["metadata"]["namespace"] in (ns, other)
        )

    assert names("app=vectis,registry") == ["a", "b"]
    assert names("app=vectis,registry notin (r2)") == ["a"]
    assert names("!registry") == ["c"]
    assert names(None) == ["a", "b", "c"]
    assert names("registry=r1", namespace=None) == ["a", "d"]
    assert all(o["kind"] == "Secret" for o in gateway.list("Secret", namespace=ns))


def test_a_failed_json_patch_test_refuses_the_whole_patch(
    kube: KubeEmulator, gateway: LightkubeGateway, ns: str
) -> None:
    """How a foreign Secret is never overwritten: `test` the label and write in one request."""
    gateway.create(secret("foreign", ns, labels={"owner": "someone-else"}))
    with pytest.raises(KubeInvalid) as error:
        gateway.json_patch(
            "Secret",
            "foreign",
            [
                {"op": "test", "path": "/metadata/labels/app.kubernetes.io~1managed-by",
                 "value": "vectis-admin"},
                {"op": "replace", "path": "/data", "value": {"k": "b3duZWQ="}},
            ],
            namespace=ns,
        )  # fmt: skip
    assert error.value.status == 422
    assert error.value.message.startswith(f"patch Secret {ns}/foreign: ")
    assert kube.get_object("Secret", "foreign", ns)["data"] == {"k": "dg=="}  # type: ignore[index]
    assert [e.method for e in kube.writes()] == ["POST", "PATCH"]


def test_manifests_lightkube_cannot_read_are_refused_before_any_request(
    kube: KubeEmulator, gateway: LightkubeGateway
) -> None:
    with pytest.raises(KubeInvalid, match="not managed by Vectis Admin"):
        gateway.create({"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "x"}})
    with pytest.raises(KubeInvalid, match="not a valid manifest"):
        gateway.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": 5}})
    with pytest.raises(KubeInvalid, match="not managed"):
        gateway.get("Widget", "x")
    assert kube.journal == []


# ------------------------------------------------------------------------------- errors


def test_each_status_becomes_its_error_class(
    kube: KubeEmulator, gateway: LightkubeGateway, ns: str
) -> None:
    first = gateway.create(secret("s", ns))

    with pytest.raises(KubeNotFound) as not_found:
        gateway.replace(secret("missing", ns))
    assert (not_found.value.status, not_found.value.reason) == (404, "NotFound")
    assert 'secrets "missing" not found' in not_found.value.message

    with pytest.raises(KubeNotFound, match='namespaces "nope" not found'):
        gateway.create(secret("s", "nope"))

    with pytest.raises(KubeConflict) as exists:
        gateway.create(secret("s", ns))
    assert (exists.value.status, exists.value.reason) == (409, "AlreadyExists")

    gateway.merge_patch("Secret", "s", {"metadata": {"labels": {"x": "1"}}}, namespace=ns)
    with pytest.raises(KubeConflict) as stale:
        gateway.replace(first)  # still carries the old resourceVersion
    assert (stale.value.status, stale.value.reason) == (409, "Conflict")
    assert "the object has been modified" in stale.value.message

    kube.deny("update", "secrets", namespace=ns)
    with pytest.raises(KubeForbidden) as forbidden:
        gateway.replace(gateway.get("Secret", "s", namespace=ns) or {})
    assert (forbidden.value.status, forbidden.value.reason) == (403, "Forbidden")
    assert 'cannot update resource "secrets"' in forbidden.value.message

    broken = secret("docker", ns, type="kubernetes.io/dockerconfigjson")
    with pytest.raises(KubeInvalid) as invalid:
        gateway.create(broken)
    assert (invalid.value.status, invalid.value.reason) == (422, "Invalid")
    assert invalid.value.message.endswith("(fields: data[.dockerconfigjson])")

    with pytest.raises(KubeInvalid) as bad_request:
        gateway.create(secret("bad", ns, data={"k": "not base64!"}))
    assert bad_request.value.status == 400

    kube.fail_next(1, 500, method="PATCH")
    with pytest.raises(KubeUnavailable) as server_error:
        gateway.merge_patch("Secret", "s", {"metadata": {"labels": {"y": "1"}}}, namespace=ns)
    assert server_error.value.status == 500


def test_a_failed_read_is_retried_and_a_failed_write_is_not(
    kube: KubeEmulator, gateway: LightkubeGateway, ns: str
) -> None:
    gateway.create(secret("s", ns))
    kube.clear_journal()
    kube.fail_next(1, 503, method="GET")
    assert gateway.get("Secret", "s", namespace=ns) is not None
    assert [(e.method, e.status) for e in kube.journal] == [("GET", 503), ("GET", 200)]

    kube.clear_journal()
    kube.fail_next(5, 503, method="GET")
    with pytest.raises(KubeUnavailable) as error:
        gateway.list("Secret", namespace=ns)
    assert error.value.status == 503
    assert [(e.method, e.status) for e in kube.journal] == [("GET", 503)] * 3
    kube.reset_faults()

    kube.clear_journal()
    kube.fail_next(1, 503, method="POST")
    with pytest.raises(KubeUnavailable):
        gateway.create(secret("t", ns))
    assert [(e.method, e.status) for e in kube.journal] == [("POST", 503)]
    assert gateway.get("Secret", "t", namespace=ns) is None


def test_refused_connections_are_unavailable_and_name_the_host(
    kube: KubeEmulator, gateway: LightkubeGateway
) -> None:
    kube.refuse()
    try:
        with pytest.raises(KubeUnavailable) as error:
            gateway.get("Namespace", "default")
        with pytest.raises(KubeUnavailable):
            gateway.create(secret("x", "default"))
    finally:
        kube.resume()
    assert error.value.status is None
    assert f"cannot connect to the Kubernetes API at 127.0.0.1:{kube.port}" in error.value.message
    assert gateway.get("Namespace", "default") is not None  # the same client recovers


def test_a_server_that_does_not_answer_times_out(
    kube: KubeEmulator, connector: LightkubeConnector
) -> None:
    kube.timeout_mode = True
    with connector.connect(token_access(kube.base_url, timeout=0.2)) as gw:
        with pytest.raises(KubeUnavailable, match="did not answer within 0.2 s"):
            gw.get("Namespace", "default")
        with pytest.raises(KubeUnavailable, match="did not answer within 0.2 s"):
            gw.version()
    assert [e.method for e in kube.journal].count("GET") == 6  # 3 attempts each


def test_no_error_message_carries_the_token(
    kube: KubeEmulator, connector: LightkubeConnector, ns: str
) -> None:
    errors: list[KubeError] = []

    def collect(call: Callable[[], object]) -> None:
        with pytest.raises(KubeError) as error:
            call()
        errors.append(error.value)

    with connector.connect(token_access(kube.base_url)) as gw:
        gw.create(secret("s", ns))
        collect(lambda: gw.create(secret("s", ns)))
        collect(lambda: gw.replace(secret("nope", ns)))
        collect(lambda: gw.create(secret("d", ns, type="kubernetes.io/dockerconfigjson")))
        kube.deny("*", "*")
        collect(lambda: gw.get("Secret", "s", namespace=ns))
        kube.reset_faults()
        kube.fail_next(3, 503)
        collect(lambda: gw.version())
        with connector.connect(token_access(kube.base_url, timeout=0.2)) as impatient:
            kube.timeout_mode = True
            collect(lambda: impatient.list("Secret", namespace=ns))
            kube.timeout_mode = False
        kube.refuse()
        try:
            collect(lambda: gw.pod_logs("p", namespace=ns, lines=5))
        finally:
            kube.resume()
    with connector.connect(token_access(kube.base_url, token=WRONG_TOKEN)) as gw:
        collect(lambda: gw.get("Secret", "s", namespace=ns))
    assert len(errors) == 8
    for error in errors:
        for text in (str(error), repr(error), str(error.__cause__), repr(error.__cause__)):
            assert TOKEN not in text and WRONG_TOKEN not in text
        assert len(error.message) <= 300


# ----------------------------------------------------------------- pods, events, access


def test_pod_logs_and_events(kube: KubeEmulator, gateway: LightkubeGateway, ns: str) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "vectis-0", "namespace": ns},
        "spec": {"containers": [{"name": "vectis", "image": "registry.example/vectis:1"}]},
    }
    kube.seed(pod)
    kube.seed(pod | {"metadata": {"name": "other", "namespace": ns}})
    kube.set_pod_log(ns, "vectis-0", "one\ntwo\nthree\n")
    assert gateway.pod_logs("vectis-0", namespace=ns, lines=2) == "two\nthree\n"
    assert gateway.pod_logs("vectis-0", namespace=ns, lines=None) == "one\ntwo\nthree\n"
    with pytest.raises(KubeNotFound):
        gateway.pod_logs("ghost", namespace=ns, lines=10)

    kube.image_pull_failure(ns, "vectis-0", reason="ErrImagePull")
    kube.image_pull_failure(ns, "other")
    events = gateway.events_for("vectis-0", namespace=ns)
    assert {e["involvedObject"]["name"] for e in events} == {"vectis-0"}
    assert sorted(e["reason"] for e in events) == ["Failed", "Failed", "Pulling"]
    assert all(e["kind"] == "Event" for e in events)
    assert kube.journal[-1].query["fieldSelector"] == "involvedObject.name=vectis-0"


def test_can_i_asks_a_self_subject_access_review(
    kube: KubeEmulator, gateway: LightkubeGateway, ns: str
) -> None:
    assert gateway.can_i(verb="create", resource="secrets", group="", namespace=ns)
    assert gateway.can_i(verb="patch", resource="deployments", group="apps", namespace=ns)
    kube.deny("patch", "deployments", namespace=ns, group="apps")
    kube.deny("get", "pods/log", namespace=ns)
    assert not gateway.can_i(verb="patch", resource="deployments", group="apps", namespace=ns)
    assert gateway.can_i(verb="patch", resource="deployments", group="apps", namespace="default")
    assert not gateway.can_i(verb="get", resource="pods/log", group="", namespace=ns)
    assert gateway.can_i(verb="get", resource="pods", group="", namespace=ns)
    assert kube.writes() == []  # access reviews change nothing


# -------------------------------------------------------------------------- concurrency


def test_one_gateway_serves_sixteen_threads(
    kube: KubeEmulator, gateway: LightkubeGateway, ns: str
) -> None:
    kube.latency = 0.002

    def work(i: int) -> str:
        created = gateway.create(secret(f"s-{i:03}", ns, labels={"batch": "b"}))
        assert gateway.get("Secret", created["metadata"]["name"], namespace=ns) is not None
        return str(created["metadata"]["name"])

    with ThreadPoolExecutor(max_workers=16) as pool:
        names = list(pool.map(work, range(200)))
    assert sorted(names) == [f"s-{i:03}" for i in range(200)]
    assert len(gateway.list("Secret", namespace=ns, label_selector="batch=b")) == 200
    assert [e.method for e in kube.writes()].count("POST") == 200
