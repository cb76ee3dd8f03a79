"""Fixtures shared by the whole suite: databases (SQLite and a real PostgreSQL), the runtime,
the API client and the CLI runner, all built from explicit settings in temp directories."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from tests.support.clock import FakeClock
from tests.support.postgres import PostgresServer, running_postgres
from vectis_admin.cli.app import app as cli_app
from vectis_admin.runtime import Runtime, open_runtime
from vectis_admin.settings import Settings
from vectis_admin.web.app import create_app

ADMIN_PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vectis.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        admin_password=ADMIN_PASSWORD,  # type: ignore[arg-type]
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def runtime(settings: Settings, clock: FakeClock) -> Iterator[Runtime]:
    rt = open_runtime(settings, clock=clock)
    rt.accounts.ensure_admin(username="admin", password=ADMIN_PASSWORD)
    yield rt
    rt.close()


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def api(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), headers=basic("admin", ADMIN_PASSWORD)) as client:
        yield client


Run = Callable[..., Result]


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    return {
        "VECTIS_DATA_DIR": str(settings.data_dir),
        "VECTIS_DATABASE_URL": settings.resolved_database_url,
        "VECTIS_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "VECTIS_SECRET_KEY": "",
        "VECTIS_CONFIG_FILE": "",
    }


@pytest.fixture
def run(cli_env: dict[str, str]) -> Run:
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli_app, list(args), input=input, env=cli_env)

    return invoke


def add_generic_registry(run: Run, password: str, name: str = "priv") -> None:
    """`registry add` of a private registry, the password read from stdin."""
    result = run(
        "registry",
        "add",
        name,
        "--kind",
        "generic",
        "--url",
        "r.example.com",
        "--username",
        "u",
        "--password-stdin",
        input=password,
    )
    assert result.exit_code == 0, result.output


# --- a real token-auth registry with Vectis-like images, shared by API and CLI check tests ---

READER_PASSWORD = "reader-" + "pw-41c9"


@dataclass(frozen=True)
class PullRegistry:
    host: str
    digests: dict[str, str]
    tags: tuple[str, ...]

    def payload(self, name: str = "local", password: str = READER_PASSWORD) -> dict[str, Any]:
        return {
            "name": name,
            "kind": "generic",
            "url": self.host,
            "tls_mode": "http",
            "image_path": "cpoder/vectis-server",
            "default_tag": "1.0",
            "credentials": {"username": "reader", "password": password},
        }


@pytest.fixture(scope="session")
def pull_registry() -> Iterator[PullRegistry]:
    from tests.support.images import ChallengeAuth, push_image, push_index
    from tests.support.registry_server import RegistryServer
    from tests.support.token_server import TokenServer

    pusher = "pusher-" + "pw-77aa"
    with (
        TokenServer(
            users={"pusher": pusher, "reader": READER_PASSWORD},
            acl={"pusher": {"*": ["pull", "push"]}, "reader": {"cpoder/*": ["pull"]}},
        ) as tokens,
        RegistryServer(token_server=tokens) as registry,
    ):
        repo = "cpoder/vectis-server"
        with httpx.Client(auth=ChallengeAuth("pusher", pusher), trust_env=False) as http:
            digests = {
                "1.0": push_index(registry.url, repo, "1.0", client=http).digest,
                "1.1": push_image(registry.url, repo, "1.1", client=http).digest,
                "latest": push_image(registry.url, repo, "latest", client=http).digest,
                "arm-only": push_image(
                    registry.url, repo, "arm-only", platform="linux/arm64", client=http
                ).digest,
            }
        yield PullRegistry(host=registry.host, digests=digests, tags=tuple(sorted(digests)))


@pytest.fixture
def kube() -> Iterator[Any]:
    """A fresh Kubernetes API emulator (tests/support/kube_emulator.py) for one test."""
    from tests.support.kube_emulator import KubeEmulator

    with KubeEmulator() as emulator:
        yield emulator
        assert emulator.internal_errors == []


def orchestrator_payload(kube: Any, name: str = "k3s-lab", **extra: Any) -> dict[str, Any]:
    """A token-mode orchestrator pointing at the emulator."""
    return {
        "name": name,
        "kind": "K3S",
        "auth_mode": "token",
        "api_server_url": kube.base_url,
        "credentials": {"token": kube.token},
    } | extra


# --- a private htpasswd registry whose password the test can change, and a cluster using it ---

PRIVATE_PASSWORD = "private-old-" + "pw-1"


@pytest.fixture
def private_registry() -> Iterator[Any]:
    """A real htpasswd registry (user `puller`) holding cpoder/vectis-server:1.0."""
    from tests.support.images import push_image
    from tests.support.registry_server import RegistryServer

    with RegistryServer(users={"puller": PRIVATE_PASSWORD}) as server:
        with httpx.Client(auth=("puller", PRIVATE_PASSWORD), trust_env=False) as http:
            push_image(server.url, "cpoder/vectis-server", "1.0", client=http)
        yield server


def deploy_private_cluster(
    api: TestClient, kube: Any, server: Any, *, replicas: int = 1
) -> dict[str, Any]:
    """Orchestrator (emulator) + registry `private` + cluster `prod` in namespace prod, deployed."""
    orchestrator = api.post("/api/v1/orchestrators", json=orchestrator_payload(kube)).json()
    registry = api.post(
        "/api/v1/registries",
        json={
            "name": "private",
            "kind": "generic",
            "url": server.host,
            "tls_mode": "http",
            "image_path": "cpoder/vectis-server",
            "default_tag": "1.0",
            "credentials": {"username": "puller", "password": PRIVATE_PASSWORD},
        },
    ).json()
    cluster = api.post(
        "/api/v1/clusters",
        json={
            "name": "prod",
            "orchestrator": orchestrator["id"],
            "namespace": "prod",
            "deployment_name": "vectis",
            "storage_host_path": "/srv/v",
            "registry": registry["id"],
            "replicas": replicas,
        },
    ).json()
    assert api.post(f"/api/v1/clusters/{cluster['id']}/deploy").json()["state"] == "DEPLOYED"
    return {"registry": registry, "cluster": cluster}


def add_emulator_orchestrator(run: Run, kube: Any, name: str = "lab") -> None:
    """`orchestrator add` (token mode) pointing at the Kubernetes emulator."""
    result = run(
        "orchestrator",
        "add",
        name,
        "--kind",
        "K3S",
        "--auth",
        "token",
        "--server",
        kube.base_url,
        "--token-stdin",
        input=kube.token,
    )
    assert result.exit_code == 0, result.output
