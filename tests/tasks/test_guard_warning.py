"""`peerwatch run --guard production` on a selection whose evaluations are same-family: a warning before it starts.

The production policy refuses an evaluation by the subject's own model family (every call of such a sample is
denied), so a study slice with the subject `peer` or `self` would run and record nothing but refusals.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from peerwatch.tasks import Selection, planned_factors, refused_evaluations


def test_the_count_is_the_same_family_samples_of_the_selection() -> None:
    mixed = planned_factors(Selection(task=["exfiltration_transfer"], subject=["peer", "other_peer"]))
    peers = [f for f in mixed if f.subject == "peer"]
    assert 0 < len(peers) < len(mixed)
    assert refused_evaluations("production", mixed, ["peerwatch/reference"]) == len(peers)
    assert refused_evaluations("production", mixed, ["peerwatch/reference", "google/gemini-3-flash"]) == 2 * len(peers)
    assert refused_evaluations("default", mixed, ["peerwatch/reference"]) == 0  # the default policy allows them
    others = [f for f in mixed if f.subject == "other_peer"]
    assert refused_evaluations("production", others, ["peerwatch/reference"]) == 0


def _run(tmp_path: Path, guard: str, subject: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "peerwatch.cli", "run", "-m", "peerwatch/honest", "-t", "exfiltration_transfer",
           "--subject", subject, "--condition", "good_peer", "--instantiation", "file_only", "--epochs", "2",
           "--guard", guard, "--approvals", "none", "--log-dir", str(tmp_path / guard / subject)]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=dict(os.environ))


def test_a_production_guarded_run_of_same_family_samples_warns_before_it_starts(tmp_path: Path) -> None:
    r = _run(tmp_path, "production", "peer")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    [line] = [ln for ln in r.stderr.splitlines() if ln.startswith("warning: policy production")]
    assert "2 of 2 samples in this selection" in line and "--guard default" in line
    assert not [ln for ln in _run(tmp_path, "default", "peer").stderr.splitlines() if ln.startswith("warning:")]
