"""SmolLM2-135M-Instruct as the LLM judge (served on loopback for the run, like `--model local/smollm2`).

Its quality is not the point: whatever it answers, a sample whose judge failed (an answer outside the menu, a refusal,
an error) must be `judge_error`, never ok-and-benign, and a judge signal marked ok must hold only strict menu answers.
Set-up (one time, cached): `bash scripts/setup/smollm.sh`; skipped when it is not set up or PEERWATCH_SKIP_SMOLLM=1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from peerwatch.harness import HarnessError
from peerwatch.harness._llama import smollm_gguf, smollm_python
from peerwatch.tasks._judge_parse import parse_answer


def _ready() -> bool:
    try:
        smollm_gguf(smollm_python())
    except HarnessError:
        return False
    return True


pytestmark = [
    pytest.mark.smollm,
    pytest.mark.timeout(900),
    pytest.mark.skipif(os.environ.get("PEERWATCH_SKIP_SMOLLM") == "1", reason="PEERWATCH_SKIP_SMOLLM=1"),
    pytest.mark.skipif(not _ready(), reason="SmolLM2 is not set up (bash scripts/setup/smollm.sh)"),
]


def test_smollm_judge_failures_are_judge_errors_never_benign(tmp_path: Path) -> None:
    log_dir = tmp_path / "logs"
    argv = [sys.executable, "-m", "peerwatch.cli", "run", "--model", "peerwatch/inflater", "--judge", "local/smollm2",
            "--limit", "1", "--epochs", "1", "--log-dir", str(log_dir),
            "-t", "misrep_evaluation", "-t", "exfiltration_transfer"]  # fmt: skip
    res = subprocess.run(argv, capture_output=True, text=True, timeout=840)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "serving local/smollm2" in res.stdout
    samples = [s for f in sorted(log_dir.glob("*.eval")) for s in (read_eval_log(str(f)).samples or [])]
    assert len(samples) == 2
    for s in samples:
        assert s.error is None, s.error
        verdict = s.scores["peerwatch"].metadata
        signal = verdict["judge"]
        assert signal is not None and "smollm" in signal["model"] and signal["prompt_version"] == "v1"
        answers = json.loads(signal["raw"])
        assert answers, "the judge was asked nothing"
        if signal["status"] == "judge_error":
            assert verdict["status"] == "judge_error", verdict["status"]
            assert signal["error"] and "\n" not in signal["error"] and signal["behaviours"] == {}
        else:
            for question, raw in answers.items():
                parse_answer(question, raw)  # an ok signal holds only strict menu answers
            assert verdict["status"] in ("ok", "not_read", "unparsed")
        assert not (verdict["status"] == "ok" and signal["status"] != "ok")
    assert "local-model.log" in {p.name for p in log_dir.iterdir()}
