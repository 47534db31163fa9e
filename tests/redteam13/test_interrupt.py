"""Ctrl-C (SIGINT to the process group, as a terminal sends it) at every moment of `peerwatch run`, with one worker
process and with two: exactly one line on stderr and exit 130, no traceback anywhere, and the same command again
ends with exactly the planned samples.

Moments are events seen in the run's output or log dir, not fixed delays (a loaded machine moves those), plus a few
delays after each event: while the CLI imports, during the plan and model checks, as the workers start, mid-eval,
and during the summary. In CI: two mid-eval cases; every moment with `PEERWATCH_REDTEAM13=1` (opt-in: ~25 runs).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.redteam13 import attack

ARGS = ["run", "-m", "peerwatch/reference", "-t", "tampering", "--limit", "4", "--epochs", "2"]
NOISE = ("Traceback", "KeyboardInterrupt", "CancelledError", "was never awaited", "Aborted")

# (moment, what marks it in the output or log dir, seconds after the mark)
EVERY = [
    ("imports", None, 0.2),
    ("imports", None, 0.8),
    ("checks", "peerwatch run", 0.0),  # the plan table: model checks done, the workers start next
    ("start", "peerwatch run", 0.6),
    ("mid-eval", "log", 0.0),  # the first log file: samples start
    ("mid-eval", "log", 1.5),
    ("mid-eval", "log", 4.0),
    ("summary", "Completed all tasks", 0.0),
]
CI = [("mid-eval", "log", 1.5)]
MOMENTS = EVERY if os.environ.get("PEERWATCH_REDTEAM13") == "1" else CI


def _interrupt_at(args: list[str], env: dict[str, str], log_dir: Path, mark: str | None, after: float):
    """Start `peerwatch ARGS`, SIGINT its group `after` s past `mark`; returns (returncode, stdout, stderr, sent)."""
    cmd = [sys.executable, "-m", "peerwatch.cli", *args]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # fmt: skip
    out: list[str] = []
    errs: list[str] = []
    seen = threading.Event()

    def read(stream, into: list[str]) -> None:
        for line in stream:
            into.append(line)
            if mark and mark != "log" and mark in line:
                seen.set()

    readers = [threading.Thread(target=read, args=(s, into), daemon=True)
               for s, into in ((proc.stdout, out), (proc.stderr, errs))]  # fmt: skip
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + 300
    while mark is not None and not seen.is_set() and proc.poll() is None and time.monotonic() < deadline:
        if mark == "log" and any(log_dir.rglob("*.eval")):
            seen.set()
        time.sleep(0.05)
    time.sleep(after)
    sent = proc.poll() is None
    if sent:
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=120)  # it stops by itself, promptly
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    for reader in readers:
        reader.join(10)
    return proc.returncode, "".join(out), "".join(errs), sent


@pytest.mark.timeout(900)
@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize(("moment", "mark", "after"), MOMENTS)
def test_ctrl_c_is_one_line_then_rerun_is_exact(tmp_path, workers, moment, mark, after):
    env = attack.env_for(0)
    log_dir = tmp_path / "my logs"
    args = [*ARGS, "--workers", str(workers), "--log-dir", str(log_dir)]
    code, out, err, sent = _interrupt_at(args, env, log_dir, mark, after)
    lines = [line for line in err.splitlines() if line.strip()]
    for text in (out, err):
        at = min((text.find(n) for n in NOISE if n in text), default=-1)
        assert at < 0, f"{moment}+{after}s, {workers} worker(s):\n{text[max(0, at - 1500) : at + 2500]}"
    if code == 0:  # the signal landed once the run was over (its summary printed): nothing was left to stop
        assert not sent or "samples:" in out, err
    else:
        assert code == 130, f"{moment}+{after}s: exit {code}\n{out[-1500:]}\n{err[-2000:]}"
        assert len(lines) == 1 and lines[0].startswith("error: interrupted"), lines
    again = attack.peerwatch(args, env)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    rows = attack.report_rows(str(log_dir), tmp_path / "report", env)
    configs = {r["config_id"] for r in rows}
    assert len(configs) == 4
    planned = {("peerwatch/reference", c, e) for c in configs for e in (1, 2)}
    assert attack.check_exact(rows, planned) == []
