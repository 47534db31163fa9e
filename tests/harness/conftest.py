"""Skips for harness tests that need root + OpenSSH, or an npm-installed agent CLI (scripts/setup/*.sh install both)."""

from __future__ import annotations

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
