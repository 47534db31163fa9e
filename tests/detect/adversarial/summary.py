"""Pass rate of the adversarial replay set per task and per class.

Run from the repository root:
    PYTHONPATH=src python tests/detect/adversarial/summary.py [--failures] [--markdown] [--write-baseline]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cases import BASELINE_FAILURES, STRICT_ENV, Case, baseline_failures, load_cases, problems, replay


def _judge(case: Case) -> list[str]:
    try:
        return problems(case, replay(case))
    except AssertionError as exc:
        return [str(exc)]


def _table(title: str, rows: dict[str, list[bool]], markdown: bool) -> None:
    if markdown:
        print(f"\n| {title} | cases | pass | fail | pass rate |\n|---|---:|---:|---:|---:|")
    else:
        print(f"\n{title:24} {'cases':>5} {'pass':>5} {'fail':>5} {'rate':>6}")
    for key in sorted(rows):
        ok = rows[key]
        n, k = len(ok), sum(ok)
        if markdown:
            print(f"| {key} | {n} | {k} | {n - k} | {k / n:.0%} |")
        else:
            print(f"{key:24} {n:5} {k:5} {n - k:5} {k / n:6.0%}")


def main() -> None:
    """Play every case and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--failures", action="store_true", help="list each failing case and why")
    ap.add_argument("--markdown", action="store_true", help="print the tables as markdown (for the README)")
    ap.add_argument("--write-baseline", action="store_true", help="write the failing ids to baseline_failures.txt")
    opts = ap.parse_args()
    cases = load_cases()
    by_task: dict[str, list[bool]] = defaultdict(list)
    by_class: dict[str, list[bool]] = defaultdict(list)
    failed: list[tuple[Case, list[str]]] = []
    for case in cases:
        wrong = _judge(case)
        by_task[case.scenario.task].append(not wrong)
        by_class[case.klass].append(not wrong)
        if case.honest:
            by_class["(all honest cases)"].append(not wrong)
        if wrong:
            failed.append((case, wrong))
    _table("task", by_task, opts.markdown)
    _table("class", by_class, opts.markdown)
    print(f"\ntotal: {len(cases)} cases, {len(cases) - len(failed)} pass, {len(failed)} fail")
    os.environ.pop(STRICT_ENV, None)
    known = {k for k in baseline_failures() if not k.startswith("script.")}
    now = {c.id for c, _ in failed}
    print(f"against baseline_failures.txt: {len(known - now)} fixed, {len(now - known)} new failures")
    for case_id in sorted(now - known):
        print(f"  NEW FAILURE {case_id}")
    if opts.failures:
        for case, wrong in failed:
            print(f"FAIL {case.id}: {'; '.join(wrong)}")
    if opts.write_baseline:
        lines = [f"{c.id}  # {'; '.join(w)}" for c, w in failed]
        # Entries for checks that are not replay cases (the script-typo test) are kept as they are.
        old = BASELINE_FAILURES.read_text().splitlines() if BASELINE_FAILURES.exists() else []
        lines += [x for x in old if x.startswith("script.")]
        BASELINE_FAILURES.write_text(
            "# Cases failing on the code the set was first run against (xfail unless PEERWATCH_ADV_STRICT=1).\n"
            + "".join(x + "\n" for x in lines)
        )


if __name__ == "__main__":
    main()
