"""Amazon ECR for tests: moto's server on 127.0.0.1 plus a real registry that accepts the token.

* :class:`MotoServer` – ``moto.server.ThreadedMotoServer`` on ``127.0.0.1:<free port>``, quiet
  (no request log lines), quick to stop (poll interval 0.05 s instead of 0.5 s) and closing its
  socket. :meth:`MotoServer.client` builds boto3 clients with explicit dummy credentials:
  nothing is written to ``os.environ``. :func:`dummy_aws_environ` gives the variables to set
  (e.g. with ``monkeypatch.setenv``) when the code under test uses boto3's default chain.
* :func:`ecr_login` – ``GetAuthorizationToken`` → :class:`EcrCredentials` (``AWS``, password,
  ``proxyEndpoint``, ``expiresAt``). moto's token is ``AWS:<account>-auth-token`` and its
  ``expiresAt`` is 2015-01-01 (already expired).
* :func:`ecr_backed_registry` – a :class:`RegistryServer` in htpasswd mode accepting
  ``AWS:<password>`` (realm = the proxy endpoint, as ECR's Basic challenge): the test maps the
  proxy endpoint host to ``registry.host`` in the product's configuration (never contact the
  real ``*.amazonaws.com`` host). moto has no registry v2 API of its own.
"""

from __future__ import annotations

import base64
import datetime as dt
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import boto3  # type: ignore[import-untyped]
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from tests.support.registry_server import RegistryServer

__all__ = [
    "DUMMY_ACCESS_KEY_ID",
    "DUMMY_SECRET_ACCESS_KEY",
    "EcrCredentials",
    "MotoServer",
    "dummy_aws_environ",
    "ecr_backed_registry",
    "ecr_login",
    "moto_ecr",
]

DUMMY_ACCESS_KEY_ID = "testing"
DUMMY_SECRET_ACCESS_KEY = "testing"  # moto accepts any value; nothing real is ever used


class _QuietHandler(MotoRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class MotoServer(ThreadedMotoServer):
    """``with MotoServer() as moto: moto.endpoint_url`` – stops and closes its socket on exit.

    (Overrides moto's private ``_server_entry`` for a quiet handler and a 0.05 s poll interval;
    checked against moto 5.2.)
    """

    def __init__(self, region: str = "us-east-1") -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.region = region
        self._clients: list[Any] = []
        self._clients_lock = threading.Lock()

    def _server_entry(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=_QuietHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever(poll_interval=0.05)

    @property
    def endpoint_url(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client for ``service`` pointed at this server, dummy credentials passed
        explicitly. Closed when the server stops."""
        kwargs.setdefault("region_name", self.region)
        client = boto3.session.Session().client(
            service,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=DUMMY_ACCESS_KEY_ID,
            aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
            **kwargs,
        )
        with self._clients_lock:
            self._clients.append(client)
        return client

    def stop(self) -> None:
        with self._clients_lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()
        server = self._server
        if self._thread is not None:
            super().stop()
            self._thread = None
        if server is not None:
            server.server_close()
            self._server = None

    def __enter__(self) -> MotoServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def dummy_aws_environ(endpoint_url: str | None = None, region: str = "us-east-1") -> dict[str, str]:
    """Environment for code that uses boto3's default chain (set it with monkeypatch, never
    permanently): dummy keys, region, no profile/config files, optional endpoint override
    (``AWS_ENDPOINT_URL``, botocore ≥ 1.31)."""
    env = {
        "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_CONFIG_FILE": "/nonexistent/vectis-aws-config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/vectis-aws-credentials",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if endpoint_url is not None:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return env


@dataclass(frozen=True)
class EcrCredentials:
    username: str
    password: str
    proxy_endpoint: str
    expires_at: dt.datetime

    @property
    def registry_host(self) -> str:
        """``<account>.dkr.ecr.<region>.amazonaws.com`` (never contact it in tests)."""
        return urlsplit(self.proxy_endpoint).netloc or self.proxy_endpoint


def ecr_login(
    endpoint_url: str,
    region: str = "us-east-1",
    registry_ids: list[str] | None = None,
) -> EcrCredentials:
    """``ecr.get_authorization_token()`` from moto, decoded."""
    client = boto3.session.Session().client(
        "ecr",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=DUMMY_ACCESS_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
    )
    try:
        kwargs: dict[str, Any] = {"registryIds": registry_ids} if registry_ids else {}
        data = client.get_authorization_token(**kwargs)["authorizationData"][0]
    finally:
        client.close()
    username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    expires_at = data["expiresAt"]
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=dt.UTC)
    return EcrCredentials(username, password, data["proxyEndpoint"], expires_at)


def ecr_backed_registry(
    credentials: EcrCredentials,
    *,
    extra_users: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> RegistryServer:
    """An (unstarted) htpasswd :class:`RegistryServer` that accepts ``AWS:<password>`` from
    ``credentials`` and answers 401 with ``Basic realm="<proxyEndpoint>/"`` otherwise.

    Rotate the password with ``registry.set_user("AWS", new_password)`` (reloaded live).
    """
    users = {credentials.username: credentials.password, **(extra_users or {})}
    kwargs.setdefault("realm", credentials.proxy_endpoint.rstrip("/") + "/")
    return RegistryServer(users=users, **kwargs)


@contextmanager
def moto_ecr(region: str = "us-east-1") -> Iterator[tuple[MotoServer, EcrCredentials]]:
    """Start moto and log in to its ECR in one step."""
    with MotoServer(region) as server:
        yield server, ecr_login(server.endpoint_url, region)
