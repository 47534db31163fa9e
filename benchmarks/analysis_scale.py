"""How long a full-study report takes: ~222k samples (7 models x 473 configurations x 67 epochs) to index.html.

Run: .venv/bin/python benchmarks/analysis_scale.py [--samples 222000] [--logs DIR] [--make-logs DIR]

Stage 1 builds the tidy samples table synthetically (what `read_samples` returns); stage 2 is the report from rows
(results table, Table 1 and 2, plots, HTML, CSVs).

`--make-logs DIR [--seed-logs SEED]` writes a study-sized directory of real Inspect `.eval` logs (see
`_study_logs.py`) from a seed run's logs (default: a fresh `peerwatch demo --epochs 2` into a temporary directory);
keep it under /tmp. `--logs DIR` then times logs -> rows (in a fresh interpreter, imports excluded) and
`peerwatch report DIR` end to end (the console script, as a user runs it), with wall and CPU seconds (children
included); `--before SRC` times another tree's `src` the same way, alternating (`git archive COMMIT src | tar -x -C
/tmp/before`), `--rounds N` repeats, and `--compare` also reads the directory through Inspect's own reader
(`read_samples(..., inspect_reader=True)`) and checks the two tables are identical.
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


# logs -> rows in a fresh interpreter (imports excluded), so a `--before SRC` tree runs the same way as this one.
_ROWS = """
import resource, sys, time
from peerwatch.analysis import read_samples
def cpu():
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
t, c = time.perf_counter(), cpu()
df, _ = read_samples([sys.argv[1]])
print(len(df), time.perf_counter() - t, cpu() - c)
"""
HERE = Path(__file__).resolve().parents[1] / "src"


def _env(src: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]))


def _rows(src: Path, logs: str, label: str) -> None:
    out = subprocess.run([sys.executable, "-c", _ROWS, logs], env=_env(src), check=True, capture_output=True, text=True)
    n, wall, cpu = out.stdout.split()[-3:]
    print(f"logs -> rows ({label}): {float(wall):.1f} s wall, {float(cpu):.1f} s CPU, {int(n):,} samples")


def _report(src: Path, logs: str, label: str) -> None:
    script = Path(sys.executable).with_name("peerwatch")  # the console script a user runs
    with tempfile.TemporaryDirectory() as out:
        cli = [str(script)] if script.exists() else [sys.executable, "-m", "peerwatch.cli"]
        run = [*cli, "report", logs, "--out", out]
        _timed(
            f"logs -> finished report ({label}: peerwatch report)",
            lambda: subprocess.run(run, env=_env(src), check=True, capture_output=True),
        )


def time_logs(logs: str, compare: bool, before: str | None, rounds: int) -> None:
    """Time the stages side by side: this tree and, with `before`, another tree's `src` (alternating)."""
    trees = [(Path(before).resolve(), "before"), (HERE, "after")] if before else [(HERE, "this tree")]
    print(_load())
    for _ in range(rounds):
        for src, label in trees:
            _rows(src, logs, label)
            _report(src, logs, label)
        print(_load())
    if compare:  # the same table through Inspect's own reader
        fast, _ = read_samples([logs])
        slow, _ = _timed(
            "logs -> rows (Inspect's reader, in process)", lambda: read_samples([logs], inspect_reader=True)
        )  # type: ignore[misc]
        pd.testing.assert_frame_equal(fast, slow, check_exact=True)
        print(f"  {len(fast):,} samples; tables identical")
        print(_load())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=222_000)
    ap.add_argument("--logs", default=None, help="time reading this log directory (and the report from it)")
    ap.add_argument("--compare", action="store_true", help="with --logs: also time Inspect's reader (same table)")
    ap.add_argument("--before", default=None, help="with --logs: also time this `src` tree (e.g. a git archive)")
    ap.add_argument("--rounds", type=int, default=1, help="with --logs: repeat the side-by-side timings")
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
        time_logs(args.logs, args.compare, args.before, args.rounds)
    print(f"peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
