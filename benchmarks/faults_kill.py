"""Runs that lose nothing: 5% provider faults of every kind, then a kill -9 at a random moment and a re-run.

Run: .venv/bin/python benchmarks/faults_kill.py [--task misrep_finance] [--epochs 2] [--workers 2] [--seed 7]

One loopback provider (tests/faulty_provider.py): 5% of requests fail with a fault drawn from HTTP 500, 503, 429
(Retry-After), a 200 with malformed JSON, a connection reset and a hang longer than `--timeout`; latency 50 ms +
up to 50 ms jitter. Side by side in one run:
  1. the whole selection, uninterrupted;
  2. the same command into a fresh log dir, killed with SIGKILL (its whole process group: the worker processes
     too) at a random moment once its logs hold between 20% and 70% of the planned samples (so the kill lands
     mid-run with samples already logged), then the same command again.
Samples are counted by (id, epoch) over every log the log dir holds, against the planned set.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from _loopback import MODEL, ROOT, clock, load, peerwatch, serve
from inspect_ai.log import list_eval_logs, read_eval_log

from peerwatch.tasks._run import Selection, planned_factors

UNREADABLE: list[str] = []


def samples(log_dir: Path) -> list[tuple[str, int, bool]]:
    out = []
    for info in list_eval_logs(str(log_dir), recursive=True):
        try:
            log = read_eval_log(info)
        except Exception as exc:  # a log cut off by the kill: counted, not fatal
            UNREADABLE.append(f"{info.name.rsplit('/', 1)[-1]}: {type(exc).__name__}")
            continue
        out += [(str(s.id), s.epoch, s.error is not None) for s in log.samples or []]
    return out


def check(label: str, log_dir: Path, planned: set[tuple[str, int]]) -> str:
    got = samples(log_dir)
    keys = Counter((i, e) for i, e, _ in got)
    errored = sum(1 for *_, err in got if err)
    dup = sum(n - 1 for n in keys.values() if n > 1)
    missing = len(planned - set(keys))
    extra = len(set(keys) - planned)
    exact = "yes" if not (dup or missing or extra) else "NO"
    return (
        f"| {label} | {len(planned)} | {len(got)} | {errored} | {dup} | {missing} | {extra} | {exact} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", default="misrep_finance")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--kill-only", action="store_true", help="skip the uninterrupted run")
    args = ap.parse_args()
    selection = ["-t", args.task, "--epochs", str(args.epochs), "--workers", str(args.workers), "--timeout", "3"]
    planned = {
        (f.config_id, e) for f in planned_factors(Selection(task=[args.task])) for e in range(1, args.epochs + 1)
    }
    rows, notes = [], []
    faulty = {"fault_rate": 0.05, "seed": args.seed, "latency": 0.05, "jitter": 0.05, "hang_seconds": 10}
    with tempfile.TemporaryDirectory() as tmp, serve(**faulty) as p:
        if not args.kill_only:
            l0, t0 = load(), clock()
            r = peerwatch(p, Path(tmp) / "whole", *selection)
            wall = clock() - t0
            summary = next((ln for ln in r.stdout.splitlines() if ln.startswith("samples:")), "")
            faults = {k: v for k, v in p.counts.items() if k not in ("requests", "ok", "agent_turns")}
            notes.append(f"run 1: exit {r.returncode}, {wall:.0f} s, load {l0}-{load()}; {summary}; faults {faults}")
            rows.append(check("uninterrupted, 5% faults", Path(tmp) / "whole", planned))

        share = random.Random(args.seed).uniform(0.2, 0.7)
        env = dict(os.environ, FAULTY_BASE_URL=p.base_url, FAULTY_API_KEY="bench")
        env["PYTHONPATH"] = str(ROOT / "src")
        cmd = [sys.executable, "-m", "peerwatch.cli", "run", "-m", MODEL, "--log-dir", str(Path(tmp) / "killed"),
               *selection]  # fmt: skip
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        k0 = clock()
        while proc.poll() is None and len(samples(Path(tmp) / "killed")) < share * len(planned):
            time.sleep(1.0)
        UNREADABLE.clear()
        at = clock() - k0
        with contextlib.suppress(ProcessLookupError):  # it may have finished first: then nothing was cut off
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        before = len(samples(Path(tmp) / "killed"))
        UNREADABLE.clear()
        l1, t1 = load(), clock()
        r = peerwatch(p, Path(tmp) / "killed", *selection)
        summary = next((ln for ln in r.stdout.splitlines() if ln.startswith("samples:")), "")
        notes.append(
            f"run 2: SIGKILL at {at:.0f} s ({before} samples in its logs then); re-run exit {r.returncode}, "
            f"faults so far {dict(p.counts)}, "
            f"{clock() - t1:.0f} s, load {l1}-{load()}; {summary}"
        )
        rows.append(check("kill -9 at a random moment, then re-run", Path(tmp) / "killed", planned))
    print(f"selection: {' '.join(selection)}")
    print("| run | planned | samples in logs | errored | duplicated | missing | unplanned | exactly the planned set |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print("\n".join(notes))
    print(f"unreadable logs after the re-run: {UNREADABLE or 'none'}")


if __name__ == "__main__":
    main()
