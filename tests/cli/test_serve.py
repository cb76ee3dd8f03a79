"""`vectis-admin serve` as a new user runs it: zero configuration, password printed once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.net import free_port
from tests.support.payloads import registry_payload


@contextmanager
def serving(home: Path, port: int) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VECTIS_")}
    env["XDG_DATA_HOME"] = str(home)
    log = home / f"serve-{time.monotonic_ns()}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vectis_admin", "serve", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("console did not start:\n" + log.read_text())
        yield proc, log
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)


def test_serve_first_start_prints_password_once_and_persists(tmp_path: Path) -> None:
    port = free_port()
    payload = registry_payload("ghcr")
    with serving(tmp_path, port) as (_proc, log):
        text = log.read_text()
        assert f"http://127.0.0.1:{port}" in text
        password = text.split("generated password", 1)[1].split()[0]
        base = f"http://127.0.0.1:{port}/api/v1/registries"
        assert httpx.get(base).status_code == 401
        created = httpx.post(base, json=payload, auth=("admin", password))
        assert created.status_code == 201, created.text
    assert (tmp_path / "vectis-admin" / "vectis-admin.db").exists()
    with serving(tmp_path, port) as (_proc, log):
        second = log.read_text()
        assert "generated password" not in second
        listed = httpx.get(base, auth=("admin", password)).json()
        assert [r["name"] for r in listed["items"]] == [payload["name"]]
    assert payload["credentials"]["password"] not in text + second
