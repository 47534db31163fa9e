"""Skips for harness tests that need root + OpenSSH, or an npm-installed agent CLI (scripts/setup/*.sh install both)."""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

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


SHARED = ("/var/tmp", "/dev/shm", "/run/lock", "/var/lock")  # writable by every user on a stock Debian
HOST = _host_problem()
needs_host = pytest.mark.skipif(HOST is not None, reason=HOST or "")


def needs_cli(binary: str) -> pytest.MarkDecorator:
    problem = HOST or _cli_problem(binary)
    return pytest.mark.skipif(problem is not None, reason=problem or "")


def runs_processes(user: str) -> bool:
    """Whether `user` has a process that runs (zombies do not count: this machine's PID 1 reaps them late)."""
    ps = subprocess.run(["ps", "-o", "stat=", "-u", user], capture_output=True, text=True)
    return any(not state.startswith("Z") for state in ps.stdout.split())


def shared_leftovers(users: set[str]) -> list[str]:
    """What `users` own in the host's shared writable places, and their System V IPC objects (none should exist:
    a slot's are its own, in its run directory and IPC namespace)."""
    uids = {pwd.getpwnam(u).pw_uid for u in users}
    out = []
    for d in SHARED:
        for entry in os.scandir(d):
            if entry.stat(follow_symlinks=False).st_uid in uids or entry.name.startswith(("pw-", "srv-")):
                out.append(entry.path)
    for kind, uid_column in (("shm", 7), ("msg", 7), ("sem", 4)):  # System V objects by owner uid
        lines = Path("/proc/sysvipc", kind).read_text().splitlines()[1:]
        out += [f"{kind} {line.split()[1]}" for line in lines if int(line.split()[uid_column]) in uids]
    return out
