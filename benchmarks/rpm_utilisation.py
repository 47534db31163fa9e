"""How much of a provider's requests-per-minute limit a run uses, and how many 429s it takes to get there.

Run: .venv/bin/python benchmarks/rpm_utilisation.py [--rpm 300] [--limit 12] [--epochs 4] [--only no-rpm|rpm]
     [--before SRC] [--headers]

Side by side in one run, each against a fresh loopback provider with the same token-bucket RPM limit (429 +
Retry-After beyond it, one second of burst, no x-ratelimit-* headers unless `--headers`):
  1. no `--rpm` (before issue 12's learned pacing: Inspect's adaptive connections and the OpenAI SDK's Retry-After
     retries; after it: peerwatch paces a model once the provider answers 429, at a rate it learns), one and two
     worker processes, fast answers (0.05 s + up to 0.03 s jitter) and slow ones (0.3 s + up to 0.2 s);
  2. `--rpm N` (the limit given: peerwatch's pacer from the first call), one and two processes, slow answers.
With `--before SRC` (the `src` of another checkout, e.g. `git archive` of the commit before a change) every row is
also run with that code, next to the current one, in the same run. `--headers`: one more row, no `--rpm`, against a
provider that also states its limit in x-ratelimit-* headers.
Utilisation = admitted requests / (burst + limit x the time from the first to the last admitted request), the
preflight probe (one request, seconds before the first sample) left out.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _loopback import MODEL, ROOT, clock, load, serve


def peerwatch(p: object, log_dir: Path, *args: str, src: str) -> subprocess.CompletedProcess[str]:
    """`peerwatch run` against the provider with the code in `src`."""
    env = dict(os.environ, FAULTY_BASE_URL=p.base_url, FAULTY_API_KEY="bench")  # type: ignore[attr-defined]
    env["PYTHONPATH"] = src + os.pathsep + str(ROOT)  # the provider's `tests` package from this checkout
    cmd = [sys.executable, "-m", "peerwatch.cli", "run", "-m", MODEL, "--log-dir", str(log_dir), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)


def measure(
    label: str, rpm: int, selection: list[str], extra: list[str], workers: int, latency: float, headers: bool,
    src: str, code: str,
) -> dict[str, float | str]:
    jitter = latency * 2 / 3
    provider = {"fault_rate": 0.0, "rpm": rpm, "latency": latency, "jitter": jitter, "rate_headers": headers}
    with serve(**provider) as p, tempfile.TemporaryDirectory() as tmp:
        before = load()
        t0 = clock()
        r = peerwatch(p, Path(tmp) / "logs", *selection, "--workers", str(workers), *extra, src=src)
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
            "run": f"{code}: {label}, {workers} worker{'s' if workers > 1 else ''}, latency {latency:g} s"
            + (", x-ratelimit headers" if headers else ""),
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
    ap.add_argument("--only", choices=["no-rpm", "rpm"], default=None)
    ap.add_argument("--headers", action="store_true", help="a row whose provider also sends x-ratelimit-* headers")
    ap.add_argument("--before", default=None, help="src dir of the code to compare with (each row runs with both)")
    args = ap.parse_args()
    selection = ["-t", "tampering", "--limit", str(args.limit), "--epochs", str(args.epochs)]
    plan: list[tuple[str, list[str], int, float]] = []
    if args.only != "rpm":
        plan += [("no --rpm", [], w, lat) for lat in (0.05, 0.3) for w in (1, 2)]
    if args.only != "no-rpm":
        plan += [(f"--rpm {args.rpm}", ["--rpm", str(args.rpm)], w, 0.3) for w in (1, 2)]
    codes = [("before", args.before), ("after", str(ROOT / "src"))] if args.before else [("now", str(ROOT / "src"))]
    rows = []
    for label, extra, w, lat in plan:
        for code, src in codes:  # side by side: the same row with each code, one after the other
            rows.append(measure(label, args.rpm, selection, extra, w, lat, False, src, code))
    if args.headers:
        rows.append(measure("no --rpm", args.rpm, selection, [], 2, 0.05, True, codes[-1][1], codes[-1][0]))
    print(f"RPM limit {args.rpm}, selection: {' '.join(selection)}")
    print("| run | admitted | 429s | 429 per admitted | utilisation | span (s) | wall (s) | load | summary |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['run']} | {r['admitted']} | {r['429']} | {r['429 per admitted']:.2f} | {r['utilisation']:.3f} "
            f"| {r['span s']:.0f} | {r['wall s']:.0f} | {r['load']} | {r['summary']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
