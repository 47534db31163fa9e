"""Audit stores for the tests: SQLite in a temp dir, and a throwaway PostgreSQL cluster on 127.0.0.1."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from peerwatch.oversight import PostgresStore, SQLiteStore


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A PostgreSQL server on a free loopback port, run as the `postgres` user (or the current non-root user)."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        pytest.fail("PostgreSQL is not installed: run scripts/setup/postgres.sh")
    bindir = bins[-1]
    user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    data = Path(tempfile.mkdtemp(prefix="peerwatch-pg-"))
    port = _free_port()
    if os.geteuid() == 0:
        shutil.chown(data, user)

    def run(*cmd: str) -> None:
        full = ["runuser", "-u", user, "--", *cmd] if os.geteuid() == 0 else list(cmd)
        subprocess.run(full, check=True, capture_output=True, timeout=120)

    run(f"{bindir}/initdb", "-D", str(data), "-A", "trust", "-U", "peerwatch")
    run(
        f"{bindir}/pg_ctl",
        "-D",
        str(data),
        "-w",
        "-t",
        "60",
        "-l",
        str(data / "log"),
        "-o",
        f"-h 127.0.0.1 -p {port} -k {data}",
        "start",
    )
    try:
        yield f"postgresql://peerwatch@127.0.0.1:{port}/postgres"
    finally:
        run(f"{bindir}/pg_ctl", "-D", str(data), "-w", "-t", "60", "-m", "fast", "stop")
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Each audit backend in turn, empty."""
    if request.param == "sqlite":
        s = SQLiteStore(tmp_path / "audit.sqlite")
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        s = PostgresStore(dsn, table=f"audit_{abs(hash(request.node.name)) % 10**8}")
    yield s
    s.close()
