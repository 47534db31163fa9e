"""How long a full-study report takes: ~223k samples (7 models x 473 configurations x 67 epochs) to index.html.

Run: .venv/bin/python benchmarks/analysis_scale.py [--samples 223000] [--logs DIR]

Stage 1 builds the tidy samples table synthetically (what `read_samples` returns); stage 2 is the report from rows
(results table, Table 1 and 2, plots, HTML, CSVs). With --logs DIR it also times reading real Inspect logs and
reports the per-sample rate, so the logs -> rows stage for 223k samples can be extrapolated.
Prints measured seconds and the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=223_000)
    ap.add_argument("--logs", default=None)
    args = ap.parse_args()
    t0 = time.perf_counter()
    df = synthetic(args.samples)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        build_report(df, [], out)
    t2 = time.perf_counter()
    print(f"samples: {len(df):,}")
    print(f"synthesise rows: {t1 - t0:.1f} s")
    print(f"rows -> finished report: {t2 - t1:.1f} s")
    if args.logs:
        t3 = time.perf_counter()
        real, _ = read_samples([args.logs])
        t4 = time.perf_counter()
        rate = len(real) / (t4 - t3)
        print(
            f"logs -> rows: {len(real):,} samples in {t4 - t3:.1f} s ({rate:,.0f} samples/s; "
            f"{len(df) / rate:.0f} s extrapolated for {len(df):,})"
        )
    print(f"peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
