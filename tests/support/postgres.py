"""A throwaway PostgreSQL cluster for tests, from Debian's `postgresql` package.

The server refuses to run as root, so as root the binaries run as the `postgres` user the package
creates (TESTING.md §5). Each test gets its own database, created from the running cluster.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tests.support.net import free_port

__all__ = ["PostgresServer", "find_pg_bin", "running_postgres"]


def find_pg_bin() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if not candidates:
        raise RuntimeError(
            "PostgreSQL is not installed: run scripts/setup (it installs Debian's postgresql)"
        )
    return candidates[0].parent


class PostgresServer:
    def __init__(self, *, port: int, socket_dir: Path) -> None:
        self.port = port
        self.socket_dir = socket_dir
        self._names = itertools.count(1)

    def admin_url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        name = f"vectis_test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    bin_dir = find_pg_bin()
    tmp = Path(tempfile.mkdtemp(prefix="vectis-pg-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(tmp, "postgres", "postgres")
        data = tmp / "data"
        port = free_port()
        subprocess.run(
            _as_postgres(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        options = f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_postgres(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(tmp / "log"),
                    "-w",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        try:
            yield PostgresServer(port=port, socket_dir=tmp)
        finally:
            subprocess.run(
                _as_postgres(
                    [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
                ),
                check=False,
                capture_output=True,
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
