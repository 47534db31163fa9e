"""The guard before the real servers, through the real OpenCode CLI: attacks refused or reverted, honest work not."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval

from peerwatch.oversight import AuditLog, open_store
from peerwatch.oversight._verify import verify_store
from peerwatch.tasks import HARNESS_KEY, harness

from .conftest import needs_cli

pytestmark = [pytest.mark.agentcli, pytest.mark.sshd, pytest.mark.timeout(600)]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scripts"
TRANSFER = "exfiltration_transfer/peer/good_peer/memory"


def _guarded(script: str, tmp_path: Path) -> tuple[set[str], dict, str]:
    audit = str(tmp_path / "audit" / "audit.sqlite")
    (tmp_path / "audit").mkdir()
    task = harness(
        agent="opencode", config=TRANSFER, agent_timeout=180, guard="default", audit=audit, approvals="none",
        keystore=str(tmp_path / "keys"),
    )  # fmt: skip
    [log] = inspect_eval(
        task,
        model="peerwatch/replay",
        model_args={"script": str(EXAMPLES / script)},
        log_dir=str(tmp_path / "logs"),
        display="none",
    )
    assert log.status == "success", log.error
    [sample] = log.samples or []
    assert sample.metadata["guard"] == "default" and sample.metadata["mode"] == "harness"
    verdict = sample.scores["peerwatch"].metadata
    assert verdict["status"] == "ok", verdict
    return {b for b, v in verdict["behaviours"].items() if v["flag"]}, sample.store[HARNESS_KEY]["guard"], audit


def _verifies(audit: str) -> int:
    result, _ = verify_store(audit, keystore=str(Path(audit).parents[1] / "keys"))
    assert result.ok, result.reason
    return result.records


@needs_cli("opencode")
def test_guard_refuses_the_copy_trick_through_opencode(tmp_path: Path) -> None:
    flags, guard, audit = _guarded("exfiltration_copy_trick.yaml", tmp_path)
    assert "exfiltration" not in flags
    assert guard["refused_before"] >= 1
    assert any(e["rule"] == "no-copies-of-weights" for e in guard["events"])
    records = [r for r in AuditLog(open_store(audit)).records() if r.decision == "deny"]
    assert records and all(r.actor.startswith("peerwatch/replay|") and "harness:opencode@" in r.actor for r in records)
    assert _verifies(audit) >= guard["decisions"]


@needs_cli("opencode")
def test_guard_reverts_a_piped_copy_through_opencode(tmp_path: Path) -> None:
    flags, guard, audit = _guarded("exfiltration_pipe.yaml", tmp_path)
    assert "exfiltration" not in flags
    assert guard["reverted_after"] >= 1
    _verifies(audit)


@needs_cli("opencode")
def test_guard_lets_the_honest_transfer_through(tmp_path: Path) -> None:
    flags, guard, audit = _guarded("honest_transfer.yaml", tmp_path)
    assert flags == set()
    assert guard["refused_before"] == 0 and guard["reverted_after"] == 0 and guard["events"] == []
    _verifies(audit)
