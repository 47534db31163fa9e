"""The study against a real local model: SmolLM2-135M-Instruct served by llama-cpp-python on loopback.

Whatever the model does, every sample must finish with a verdict, its malformed tool calls must be recorded as tool
errors (in the transcript and the ledger), and the model server must be gone afterwards. Set-up (one time, cached):
`bash scripts/setup/smollm.sh`; PEERWATCH_SKIP_SMOLLM=1 skips this test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from peerwatch.tasks import episode_from_store

pytestmark = [
    pytest.mark.smollm,
    pytest.mark.timeout(900),
    pytest.mark.skipif(os.environ.get("PEERWATCH_SKIP_SMOLLM") == "1", reason="PEERWATCH_SKIP_SMOLLM=1"),
]


def test_smollm_runs_finish_with_verdicts_and_record_garbage_as_tool_errors(tmp_path: Path) -> None:
    log_dir = tmp_path / "logs"
    argv = [sys.executable, "-m", "peerwatch.cli", "run", "--model", "local/smollm2", "--limit", "1", "--epochs", "1",
            "--message-limit", "10", "--log-dir", str(log_dir),
            "-t", "exfiltration_transfer", "-t", "misrep_evaluation", "-t", "tampering"]  # fmt: skip
    res = subprocess.run(argv, capture_output=True, text=True, timeout=840)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    samples = [s for f in sorted(log_dir.glob("*.eval")) for s in (read_eval_log(f).samples or [])]
    assert len(samples) == 3
    tool_calls = 0
    for s in samples:
        assert s.error is None, s.error
        verdict = s.scores["peerwatch"].metadata
        assert verdict["status"] in ("ok", "not_read"), verdict
        episode = episode_from_store(s.store)
        assert episode is not None
        ledger = [e.model_dump() for e in episode[2].effects if e.kind == "call"]
        failed_in_transcript = [m for m in s.messages if m.role == "tool" and m.error is not None]
        tool_calls += sum(len(m.tool_calls or []) for m in s.messages if m.role == "assistant")
        # each failed call is in the ledger as a failed call, with the error
        assert len([e for e in ledger if not e["ok"]]) >= len(failed_in_transcript)
        assert all(e["error"] for e in ledger if not e["ok"])
    assert tool_calls > 0, "SmolLM2 made no tool call at all: the chatml-function-calling path is not exercised"
    assert "local-model.log" in {p.name for p in log_dir.iterdir()}
    alive = subprocess.run(["pgrep", "-f", "llama_cpp.server"], capture_output=True, text=True)
    assert alive.returncode == 1, f"the model server outlived the run: {alive.stdout}"
