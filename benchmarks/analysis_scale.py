"""How long a full-study report takes: ~222k samples (7 models x 473 configurations x 67 epochs) to index.html.

Run: .venv/bin/python benchmarks/analysis_scale.py [--samples 222000] [--logs DIR] [--make-logs DIR]

Stage 1 builds the tidy samples table synthetically (what `read_samples` returns); stage 2 is the report from rows
(results table, Table 1 and 2, plots, HTML, CSVs).

`--make-logs DIR [--seed-logs SEED]` writes a study-sized directory of real Inspect `.eval` logs (see
`_study_logs.py`) from a seed run's logs (default: a fresh `peerwatch demo --epochs 2` into a temporary directory);
keep it under /tmp. `--logs DIR` then times, side by side, logs -> rows through Inspect's own reader and through
peerwatch's (the summaries read straight from the zips; the two tables must be identical), and
`peerwatch report DIR` end to end (the CLI, as a user runs it), with wall and CPU seconds.
Prints measured seconds, the load average before and after, and the process's peak resident memory.
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

import numpy as np
import pandas as pd

from peerwatch.analysis import build_report, read_samples
from peerwatch.analysis._logs import SAMPLE_COLUMNS
from peerwatch.detect import BEHAVIOURS, applicable_behaviours
from peerwatch.scenarios import enumerate_factors

MODELS = [
    "openai/gpt-5.2",
    "google/gemini-3-flash",
    "google/gemini-3-pro",
    "anthropic/claude-haiku-4.5",
    "openai-api/zhipu/glm-4.7",
    "openai-api/moonshot/kimi-k2.5",
    "openai-api/deepseek/deepseek-v3.1",
]
P = {"good_peer": 0.6, "neutral_peer": 0.3, "bad_peer": 0.1, "no_peer": 0.03, "non_shutdown": 0.02}


def synthetic(samples: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    factors = enumerate_factors()
    epochs = max(1, round(samples / (len(MODELS) * len(factors))))
    rows = []
    for m in MODELS:
        for f in factors:
            applicable = set(applicable_behaviours(f.task))
            base = {
                "model": m,
                **f.model_dump(),
                "family": "x",
                "mode": "simulated",
                "config_id": f.config_id,
                "log": f"{m}.eval",
                "created": "2026-11-24",
            }
            status = rng.choice(["ok", "not_read", "error"], size=epochs, p=[0.96, 0.03, 0.01])
            flags = rng.random((epochs, len(BEHAVIOURS))) < P[f.condition]
            for e in range(epochs):
                row = {**base, "epoch": e + 1, "status": status[e]}
                for j, b in enumerate(BEHAVIOURS):
                    row[b] = float(flags[e, j]) if status[e] == "ok" and b in applicable else np.nan
                rows.append(row)
    return pd.DataFrame(rows, columns=SAMPLE_COLUMNS)


def _cpu() -> float:
    """CPU seconds of this process and its finished children (worker processes, the CLI)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(label: str, fn: object) -> object:
    t, c = time.perf_counter(), _cpu()
    out = fn()  # type: ignore[operator]
    print(f"{label}: {time.perf_counter() - t:.1f} s wall, {_cpu() - c:.1f} s CPU")
    return out


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def make_logs(out: str, seed: str | None, samples: int) -> None:
    from _study_logs import build_study_logs

    with tempfile.TemporaryDirectory() as tmp:
        if seed is None:
            seed = str(Path(tmp) / "seed")
            cli = [sys.executable, "-m", "peerwatch.cli", "demo", "--log-dir", seed, "--report-dir", f"{tmp}/r"]
            subprocess.run(cli, check=True, stdout=subprocess.DEVNULL)
        n = _timed("build logs", lambda: build_study_logs(seed, out, MODELS, samples, os.cpu_count() or 1))
    print(f"wrote {n:,} samples under {out}")


def time_logs(logs: str, compare: bool) -> None:
    print(_load())
    fast, _ = _timed("logs -> rows (peerwatch reader)", lambda: read_samples([logs]))  # type: ignore[misc]
    print(f"  {len(fast):,} samples")
    if compare:
        slow, _ = _timed("logs -> rows (Inspect's reader)", lambda: read_samples([logs], inspect_reader=True))  # type: ignore[misc]
        pd.testing.assert_frame_equal(fast, slow, check_exact=True)
        print("  tables identical")
    with tempfile.TemporaryDirectory() as out:
        script = Path(sys.executable).with_name("peerwatch")  # the console script a user runs
        cli = (
            [str(script), "report", logs, "--out", out]
            if script.exists()
            else [sys.executable, "-m", "peerwatch.cli", "report", logs, "--out", out]
        )
        _timed(
            "logs -> finished report (peerwatch report)", lambda: subprocess.run(cli, check=True, capture_output=True)
        )
    print(_load())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=222_000)
    ap.add_argument("--logs", default=None, help="time reading this log directory (and the report from it)")
    ap.add_argument("--compare", action="store_true", help="with --logs: also time Inspect's reader")
    ap.add_argument("--make-logs", default=None, help="write a study-sized log directory here (under /tmp)")
    ap.add_argument("--seed-logs", default=None, help="with --make-logs: the run whose logs are the templates")
    ap.add_argument("--skip-rows", action="store_true", help="skip the synthetic rows -> report stage")
    args = ap.parse_args()
    if args.make_logs:
        make_logs(args.make_logs, args.seed_logs, args.samples)
        return
    if not args.skip_rows:
        print(_load())
        df = synthetic(args.samples)
        print(f"samples: {len(df):,}")
        with tempfile.TemporaryDirectory() as out:
            _timed("rows -> finished report", lambda: build_report(df, [], out))
    if args.logs:
        time_logs(args.logs, args.compare)
    print(f"peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
