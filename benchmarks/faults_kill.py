"""Runs that lose nothing: 5% provider faults of every kind, then a kill -9 between two log flushes and a re-run.

Run: .venv/bin/python benchmarks/faults_kill.py [--task misrep_finance] [--epochs 2] [--workers 2] [--seed 7]
     [--log-buffer 2] [--kill-only] [--kills 1]

One loopback provider (tests/faulty_provider.py): 5% of requests fail with a fault drawn from HTTP 500, 503, 429
(Retry-After), a 200 with malformed JSON, a connection reset and a hang longer than `--timeout`; latency 50 ms +
up to 50 ms jitter. Side by side in one run:
  1. the whole selection, uninterrupted;
  2. the same command into a fresh log dir, killed with SIGKILL (its whole process group: the worker processes
     too) as soon as its logs hold at least a random share (10-80%, from the seed) and fewer than all of the planned
     samples - Inspect writes a task's samples into its `.eval` every `--log-buffer` finished samples, and the
     `.eval` zips are polled every 50 ms (tests/kill_between_flushes.py) - then the same command again.
     `--kills N` repeats 2. with N kill points (seeds seed, seed+1, ...).
Samples are counted by (id, epoch) over each task's newest log (the one Inspect resumes from), against the planned
set; a sample written before the kill must come out of the re-run with the same uuid (kept, not run again).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from _loopback import MODEL, ROOT, clock, load, peerwatch, serve
from tests.faulty_provider import FaultyProvider
from tests.kill_between_flushes import kill_between_flushes, newest_logs

from peerwatch.analysis import read_samples
from peerwatch.tasks._run import Selection, planned_factors


def samples(log_dir: Path) -> tuple[list[tuple[str, int, bool, str]], int]:
    """(id, epoch, errored, uuid) over each task's newest log, and how many older logs are left beside them."""
    newest, older = newest_logs(log_dir)
    return [(str(s.id), s.epoch, s.error is not None, str(s.uuid)) for log in newest for s in log.samples or []], len(
        older
    )


def check(label: str, log_dir: Path, planned: set[tuple[str, int]]) -> str:
    got, _ = samples(log_dir)
    keys = Counter((i, e) for i, e, *_ in got)
    errored = sum(1 for _, _, err, _ in got if err)
    dup = sum(n - 1 for n in keys.values() if n > 1)
    missing = len(planned - set(keys))
    extra = len(set(keys) - planned)
    exact = "yes" if not (dup or missing or extra) else "NO"
    report = len(read_samples([log_dir])[0])
    return f"| {label} | {len(planned)} | {len(got)} | {errored} | {dup} | {missing} | {extra} | {exact} | {report} |"


def kill_and_rerun(
    p: FaultyProvider, log_dir: Path, cmd_args: list[str], planned: set[tuple[str, int]], seed: int
) -> str:
    """One kill between flushes, then the re-run: the table row."""
    share = random.Random(seed).uniform(0.1, 0.8)
    env = dict(os.environ, FAULTY_BASE_URL=p.base_url, FAULTY_API_KEY="bench")
    env["PYTHONPATH"] = str(ROOT / "src")
    cmd = [sys.executable, "-m", "peerwatch.cli", "run", "-m", MODEL, "--log-dir", str(log_dir), *cmd_args]
    l0 = load()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    kill = kill_between_flushes(proc, log_dir, len(planned), at_least=round(share * len(planned)))
    killed_at = dt.datetime.now(dt.UTC)
    l1, t1 = load(), clock()
    r = peerwatch(p, log_dir, *cmd_args)
    rerun = clock() - t1
    got, stale = samples(log_dir)
    uuids = {(i, e): u for i, e, _, u in got}
    kept_written = sum(1 for k, u in kill.written.items() if uuids.get(k) == u)
    by_key = {(str(s.id), s.epoch): s for log in newest_logs(log_dir)[0] for s in log.samples or []}
    finished = [s for s in by_key.values() if s.completed_at and dt.datetime.fromisoformat(s.completed_at) < killed_at]
    where = "after the last sample was written" if kill.finished_before else "between flushes"
    label = (
        f"seed {seed}: SIGKILL at {kill.seconds:.0f} s {where}, {len(kill.written)}/{len(planned)} samples in its logs "
        f"(target >= {round(share * len(planned))}); kept by the re-run with the same uuid: {kept_written}/"
        f"{len(kill.written)}; kept in all (finished before the kill): {len(finished)}, run again: "
        f"{len(got) - len(finished)}; re-run exit {r.returncode}, {rerun:.0f} s; older logs left beside: {stale}; "
        f"load {l0}-{l1}-{load()}"
    )
    return check(label, log_dir, planned)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", default="misrep_finance")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--log-buffer", type=int, default=2)
    ap.add_argument("--kills", type=int, default=1, help="kill points (seeds seed, seed+1, ...)")
    ap.add_argument("--kill-only", action="store_true", help="skip the uninterrupted run")
    args = ap.parse_args()
    selection = ["-t", args.task, "--epochs", str(args.epochs), "--workers", str(args.workers), "--timeout", "3",
                 "--log-buffer", str(args.log_buffer)]  # fmt: skip
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
        for k in range(args.kills):
            rows.append(kill_and_rerun(p, Path(tmp) / f"killed{k}", selection, planned, args.seed + k))
        notes.append(f"faults served in all: {dict(p.counts)}")
    print(f"selection: {' '.join(selection)}")
    print("| run | planned | samples in the newest logs | errored | duplicated | missing | unplanned "
          "| exactly the planned set | report rows |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print("\n".join(notes))


if __name__ == "__main__":
    main()
