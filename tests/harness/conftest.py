"""Skips for harness tests that need root + OpenSSH, or an npm-installed agent CLI (scripts/setup/*.sh install both)."""

from __future__ import annotations

import subprocess

import pytest

from peerwatch.harness import HarnessError, find_cli, require_harness_host


def _host_problem() -> str | None:
    try:
        require_harness_host()
    except HarnessError as exc:
        return str(exc)
    return None


def _cli_problem(binary: str) -> str | None:
    try:
        find_cli(binary)
    except HarnessError as exc:
        return str(exc)
    return None


HOST = _host_problem()
needs_host = pytest.mark.skipif(HOST is not None, reason=HOST or "")


def needs_cli(binary: str) -> pytest.MarkDecorator:
    problem = HOST or _cli_problem(binary)
    return pytest.mark.skipif(problem is not None, reason=problem or "")


def runs_processes(user: str) -> bool:
    """Whether `user` has a process that runs (zombies do not count: this machine's PID 1 reaps them late)."""
    ps = subprocess.run(["ps", "-o", "stat=", "-u", user], capture_output=True, text=True)
    return any(not state.startswith("Z") for state in ps.stdout.split())
