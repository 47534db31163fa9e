"""How much of a provider's requests-per-minute limit a run uses, and how many 429s it takes to get there.

Run: .venv/bin/python benchmarks/rpm_utilisation.py [--rpm 300] [--limit 12] [--epochs 4]

Side by side in one run, each against a fresh loopback provider with the same token-bucket RPM limit (429 +
Retry-After beyond it, one second of burst) and latency 0.3 s + up to 0.2 s jitter:
  1. Inspect alone (its adaptive connections and the OpenAI SDK's Retry-After retries), no --rpm;
  2. `--rpm N` (peerwatch's pacer), one process;
  3. `--rpm N --workers 2` (the two processes keep one shared timetable of N; on a loaded machine two processes
     get twice the CPU share).
Utilisation = admitted requests / (burst + limit x the time from the first to the last admitted request), the
preflight probe (one request, seconds before the first sample) left out.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _loopback import clock, load, peerwatch, serve


def measure(label: str, rpm: int, selection: list[str], extra: list[str], workers: int = 1) -> dict[str, float | str]:
    with serve(fault_rate=0.0, rpm=rpm, latency=0.3, jitter=0.2) as p, tempfile.TemporaryDirectory() as tmp:
        before = load()
        t0 = clock()
        r = peerwatch(p, Path(tmp) / "logs", *selection, "--workers", str(workers), *extra)
        wall = clock() - t0
        if r.returncode != 0:
            raise SystemExit(f"{label}: exit {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
        admitted = p.accepted[1:]  # the first is peerwatch's preflight probe, seconds before the samples start
        ok = len(admitted)
        span = admitted[-1] - admitted[0] if ok > 1 else 0.0
        capacity = (p.burst or 0) + rpm / 60.0 * span
        rejected = p.counts["http_429_rpm"]
        errored = next((ln for ln in r.stdout.splitlines() if ln.startswith("samples:")), "")
        return {
            "run": label,
            "admitted": ok,
            "429": rejected,
            "429 per admitted": rejected / ok if ok else 0.0,
            "utilisation": ok / capacity if capacity else 0.0,
            "span s": span,
            "wall s": wall,
            "load": f"{before}-{load()}",
            "summary": errored,
        }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rpm", type=int, default=300)
    ap.add_argument("--limit", type=int, default=12)
    ap.add_argument("--epochs", type=int, default=4)
    args = ap.parse_args()
    selection = ["-t", "tampering", "--limit", str(args.limit), "--epochs", str(args.epochs)]
    rows = [
        measure("Inspect alone (adaptive connections)", args.rpm, selection, []),
        measure(f"--rpm {args.rpm}", args.rpm, selection, ["--rpm", str(args.rpm)]),
        measure(f"--rpm {args.rpm} --workers 2", args.rpm, selection, ["--rpm", str(args.rpm)], workers=2),
    ]
    print(f"RPM limit {args.rpm}, selection: {' '.join(selection)}")
    print("| run | admitted | 429s | 429 per admitted | utilisation | span (s) | wall (s) | load | summary |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['run']} | {r['admitted']} | {r['429']} | {r['429 per admitted']:.2f} | {r['utilisation']:.3f} "
            f"| {r['span s']:.0f} | {r['wall s']:.0f} | {r['load']} | {r['summary']} |"
        )


if __name__ == "__main__":
    main()
