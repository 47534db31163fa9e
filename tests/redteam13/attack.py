"""Red-team helpers (issue 12): run `peerwatch` as a new user would, kill it, and check what the log dir holds.

Every check reads the logs two ways: raw (every sample of every `.eval` file under the dir, so a duplicate written
twice is seen) and through the report's reader (`peerwatch report`'s samples.csv, one row per sample).
"""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_provider(stats: Path, *args: str) -> tuple[subprocess.Popen[str], int]:
    """Start the held-out provider; return it and its port."""
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "provider.py"), "--port", "0", "--stats", str(stats), *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline().strip())
    return proc, port


def env_for(port: int, key: str = "rt13-key") -> dict[str, str]:
    """The environment a new user sets for `openai-api/loop/<model>`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env["LOOP_BASE_URL"] = f"http://127.0.0.1:{port}/v1"
    env["LOOP_API_KEY"] = key
    env.pop("OPENAI_API_KEY", None)
    return env


def peerwatch(args: list[str], env: dict[str, str], timeout: float = 900, cwd: str | None = None):
    """Run `peerwatch ARGS` to the end; return the CompletedProcess."""
    cmd = [sys.executable, "-m", "peerwatch.cli", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=cwd)


def run_and_kill(args: list[str], env: dict[str, str], after_s: float, sig: int = signal.SIGKILL,
                 group: bool = True) -> str:
    """Start `peerwatch ARGS`, send `sig` after `after_s` seconds (to its process group or the parent only)."""
    cmd = [sys.executable, "-m", "peerwatch.cli", *args]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    time.sleep(after_s)
    if proc.poll() is None:
        if group:
            os.killpg(proc.pid, sig)
        else:
            os.kill(proc.pid, sig)
    out, _ = proc.communicate(timeout=600)
    if group and sig == signal.SIGKILL:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # nothing of the killed run may linger
    return out


def raw_samples(log_dir: str) -> Counter[tuple[str, str, int, str]]:
    """(model, sample id, epoch, 'ok'|'error') of every sample in every log under `log_dir`, with multiplicity."""
    from inspect_ai.log import list_eval_logs, read_eval_log

    seen: Counter[tuple[str, str, int, str]] = Counter()
    for info in list_eval_logs(log_dir, recursive=True):
        log = read_eval_log(info.name)
        for s in log.samples or []:
            seen[(log.eval.model, str(s.id), int(s.epoch), "error" if s.error else "ok")] += 1
    return seen


def report_rows(log_dir: str, out: Path, env: dict[str, str]) -> list[dict[str, str]]:
    """`peerwatch report LOG_DIR --out OUT`'s samples.csv rows."""
    res = peerwatch(["report", log_dir, "--out", str(out)], env)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    with open(out / "samples.csv") as fh:
        return list(csv.DictReader(fh))


def check_exact(rows: list[dict[str, str]], planned: set[tuple[str, str, int]]) -> list[str]:
    """What is wrong with report rows against the planned (model, config, epoch) set (empty: nothing)."""
    problems = []
    keys = Counter((r["model"], r["config_id"], int(r["epoch"])) for r in rows)
    dups = [k for k, n in keys.items() if n > 1]
    if dups:
        problems.append(f"duplicated rows: {dups[:5]}")
    got = set(keys)
    if got - planned:
        problems.append(f"unplanned rows: {sorted(got - planned)[:5]}")
    if planned - got:
        problems.append(f"lost: {len(planned - got)} e.g. {sorted(planned - got)[:3]}")
    errored = [r for r in rows if r["status"] == "error"]
    if errored:
        problems.append(f"errored rows: {len(errored)}")
    return problems
