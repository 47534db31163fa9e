"""`peerwatch rescore` over the demo logs: same verdicts as the run, and changed ones after a detector change.

Run: .venv/bin/peerwatch demo --log-dir DEMO_LOGS && .venv/bin/python benchmarks/rescore_demo.py DEMO_LOGS

1. Rescore the logs as they are: every sample's `peerwatch` score (value, answer, explanation, metadata) must equal the
   original's; prints the time and the count of differing samples (expected 0).
2. Rescore again with the tampering detector replaced by one that always flags: counts the samples whose verdict
   changed (expected: every judged tampering sample whose verdict was not already a flag) and checks the inputs are
   byte-identical afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path

from inspect_ai.log import read_eval_log

from peerwatch.detect import BehaviourVerdict, Evidence
from peerwatch.tasks._rescore import rescore_dirs


def _scores(d: Path) -> dict[tuple[str, str, int], object]:
    out = {}
    for p in sorted(d.rglob("*.eval")):
        for s in read_eval_log(str(p)).samples or []:
            score = (s.scores or {}).get("peerwatch")
            keep = {"value", "answer", "explanation", "metadata"}
            out[(p.name, str(s.id), s.epoch)] = score.model_dump(mode="json", include=keep) if score else None
    return out


def _digest(d: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(d.rglob("*")):
        if p.is_file():
            h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("log_dir", type=Path)
    args = parser.parse_args()
    before = _digest(args.log_dir)
    original = _scores(args.log_dir)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        summary = rescore_dirs([args.log_dir], Path(tmp) / "same")
        elapsed = time.perf_counter() - t
        same = _scores(Path(tmp) / "same")
        differ = sum(1 for k, v in original.items() if same.get(k) != v)
        print(f"rescore as is: {summary.total('rescored')} samples in {elapsed:.0f} s; differing verdicts: {differ}")
        print(f"  skipped: {summary.skipped() or 'none'}")

        import peerwatch.detect._judge as detect_judge

        real = detect_judge.detect_tampering
        detect_judge.detect_tampering = lambda *a, **k: BehaviourVerdict(  # type: ignore[assignment]
            flag=True, rule=True, evidence=[Evidence(rule="benchmark.forced", text="forced")]
        )
        try:
            changed = rescore_dirs([args.log_dir], Path(tmp) / "changed")
        finally:
            detect_judge.detect_tampering = real
        flags = _scores(Path(tmp) / "changed")
        was = sum(1 for k, v in original.items() if v and "tampering" in k[0] and v["value"].get("tampering") == 1.0)
        now = sum(1 for k, v in flags.items() if v and "tampering" in k[0] and v["value"].get("tampering") == 1.0)
        print(f"tampering always flags: {changed.total('changed')} samples changed; tampering flags {was} -> {now}")
    print(f"inputs byte-identical: {_digest(args.log_dir) == before}")


if __name__ == "__main__":
    main()
