"""Benchmark: list 10,000 registries through the REST API on SQLite, and create one.

Runs the real console (uvicorn on 127.0.0.1, a free port) on a temp SQLite database, seeds
10,000 registries, then times HTTP requests from a client on the same machine and prints
p50/p95/max per scenario. Usage: .venv/bin/python bench/api_list.py [--registries N] [--runs N]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import uvicorn

from vectis_admin.domain.registries import RegistryKind
from vectis_admin.runtime import open_runtime
from vectis_admin.services.ports import RegistryRecord
from vectis_admin.settings import Settings
from vectis_admin.web.app import create_app


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def report(label: str, samples: list[float]) -> None:
    ms = [s * 1000 for s in samples]
    print(
        f"{label:44} n={len(ms):4}  p50={statistics.median(ms):7.2f} ms  "
        f"p95={percentile(ms, 95):7.2f} ms  max={max(ms):7.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--registries", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), admin_password="bench-password-123")  # type: ignore[arg-type]
        runtime = open_runtime(settings)
        runtime.accounts.ensure_admin(username="admin", password="bench-password-123")
        token = runtime.accounts.create_token(
            username="admin", name="bench", ttl_days=None, actor="bench"
        ).token

        started = time.perf_counter()
        store = runtime.store  # seeding in bulk: one transaction, through the same repository
        cipher = runtime.keyring.box()
        now = runtime.clock.now()
        secret = cipher.encrypt('{"password": "bench"}')
        with store.transaction() as tx:
            for i in range(args.registries):
                tx.registries.add(
                    RegistryRecord(
                        id=str(uuid.uuid4()),
                        name=f"registry-{i:05d}",
                        kind=RegistryKind.GENERIC,
                        url=f"reg{i}.example.com",
                        image_path="cpoder/vectis-server",
                        default_tag="latest",
                        requires_auth=True,
                        is_default=False,
                        enabled=i % 10 != 0,
                        description="",
                        public_credentials={"username": "u"},
                        secret_ciphertext=secret,
                        secret_field_names=["password"],
                        created_at=now,
                        updated_at=now,
                        credential_changed_at=now,
                        version=1,
                    )
                )
        print(f"seeded {args.registries} registries in {time.perf_counter() - started:.1f} s")

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)

        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:

            def timed(method: str, url: str, **kw: object) -> list[float]:
                samples = []
                for i in range(args.runs):
                    t0 = time.perf_counter()
                    response = client.request(method, url.format(i=i), **kw)  # type: ignore[arg-type]
                    samples.append(time.perf_counter() - t0)
                    response.raise_for_status()
                return samples

            timed("GET", "/api/v1/registries")  # warm-up
            report("GET /registries (first page, 50)", timed("GET", "/api/v1/registries"))
            report(
                "GET /registries?offset=9950 (last page, 50)",
                timed("GET", f"/api/v1/registries?offset={args.registries - 50}"),
            )
            report(
                "GET /registries?enabled=false&kind=generic",
                timed("GET", "/api/v1/registries?enabled=false&kind=generic"),
            )
            report(
                "GET /registries?limit=500 (largest page)",
                timed("GET", "/api/v1/registries?limit=500"),
            )
            samples = []
            for i in range(args.runs):
                body = {
                    "name": f"bench-new-{i}",
                    "kind": "ghcr",
                    "image_path": "cpoder/vectis-server",
                    "credentials": {"username": "octo", "password": "bench-password"},
                }
                t0 = time.perf_counter()
                client.post("/api/v1/registries", json=body).raise_for_status()
                samples.append(time.perf_counter() - t0)
            report("POST /registries (create one)", samples)
        server.should_exit = True
        thread.join()
        runtime.close()


if __name__ == "__main__":
    main()
