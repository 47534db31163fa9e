"""`--workers 2` against one worker process, same selection, side by side in one run.

Run: .venv/bin/python benchmarks/workers_ratio.py [--task misrep_evaluation] [--epochs 1] [--order 1 2]

The offline reference agent answers at once, so each run is bound by Inspect's per-sample CPU on this machine -
what `--workers` is for. `--order 1 2 2 1` alternates the runs to spread a change of load over both; the ratio is
the sum of the one-worker walls over the sum of the two-worker walls. CPU seconds are the children's user + sys.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(workers: int, log_dir: Path, args: argparse.Namespace) -> tuple[float, float, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    cmd = [sys.executable, "-m", "peerwatch.cli", "run", "-m", args.model, "-t", args.task,
           "--epochs", str(args.epochs), "--workers", str(workers), "--log-dir", str(log_dir)]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load0 = os.getloadavg()[0]
    t0 = time.monotonic()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise SystemExit(f"--workers {workers}: exit {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, f"{load0:.1f}-{os.getloadavg()[0]:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", default="misrep_evaluation")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--model", default="peerwatch/reference")
    ap.add_argument("--order", type=int, nargs="+", default=[1, 2], help="worker counts, run in this order")
    args = ap.parse_args()
    walls: dict[int, list[float]] = {1: [], 2: []}
    print("| workers | wall (s) | CPU (s) | load during |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for i, workers in enumerate(args.order):
            wall, cpu, load = run(workers, Path(tmp) / f"run{i}", args)
            walls[workers].append(wall)
            print(f"| {workers} | {wall:.1f} | {cpu:.1f} | {load} |", flush=True)
    print(f"speed-up of --workers 2: {sum(walls[1]) / sum(walls[2]):.2f}x ({args.model}, -t {args.task}, "
          f"--epochs {args.epochs}, {os.cpu_count()} cores)")  # fmt: skip


if __name__ == "__main__":
    main()
