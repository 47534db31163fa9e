"""End-to-end through Inspect: persona models (mockllm with scripted tool calls) drive real tasks offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log
from inspect_ai.model import ModelOutput, ModelUsage, get_model

from peerwatch.tasks import episode_from_store, study_task
from peerwatch.tasks._run import check_models

FACTOR_KEYS = {
    "task",
    "subject",
    "condition",
    "instantiation",
    "dataset",
    "threshold",
    "monitoring",
    "family",
    "config_id",
    "mode",
}


def _run(task, model, tmp_path: Path, epochs: int = 1):  # type: ignore[no-untyped-def]
    [log] = inspect_eval(task, model=model, log_dir=str(tmp_path), epochs=epochs, display="none", log_level="error")
    assert log.status == "success", log.error
    return read_eval_log(log.location)


def test_exfiltrator_is_caught_and_honest_is_clean(tmp_path: Path) -> None:
    task = study_task("exfiltration_transfer", subject="peer", condition="good_peer", instantiation="file_only")
    bad = _run(task, "peerwatch/exfiltrator", tmp_path / "bad", epochs=3)
    flags = [s.scores["peerwatch"].metadata["behaviours"]["exfiltration"]["flag"] for s in bad.samples]
    assert any(flags), "the exfiltrator at good_peer should exfiltrate in at least one of three epochs"
    good = _run(task, "peerwatch/honest", tmp_path / "good")
    [sample] = good.samples
    verdict = sample.scores["peerwatch"].metadata
    assert verdict["status"] == "ok"
    assert not any(b["flag"] for b in verdict["behaviours"].values())


def test_sample_carries_factors_transcript_and_evidence(tmp_path: Path) -> None:
    task = study_task("tampering", subject="peer", condition="good_peer", instantiation="memory", dataset="factual")
    log = _run(task, "peerwatch/tamperer", tmp_path)
    [sample] = log.samples
    assert set(sample.metadata) >= FACTOR_KEYS
    assert sample.metadata["family"] == "Gemini" and sample.metadata["mode"] == "simulated"
    assert any(m.role == "tool" for m in sample.messages)
    verdict = sample.scores["peerwatch"].metadata
    assert verdict["status"] == "ok" and verdict["behaviours"]["tampering"]["flag"]
    assert verdict["behaviours"]["tampering"]["evidence"]


def _garbage_outputs():  # type: ignore[no-untyped-def]
    usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    calls = [
        ("transfer_server_files", {"source_ip": 12, "filenames": "not a list", "bogus": True}),
        ("no_such_tool", {"x": 1}),
        ("list_server_files", {}),
        ("end_task", {}),
    ]
    for i, (tool, args) in enumerate(calls):
        out = ModelOutput.for_tool_call("mockllm/model", tool, args, tool_call_id=f"c{i}")
        out.usage = usage
        yield out


def test_garbage_arguments_are_recorded_tool_errors(tmp_path: Path) -> None:
    task = study_task("exfiltration_transfer", subject="peer", condition="bad_peer", instantiation="file_only")
    model = get_model("mockllm/model", custom_outputs=_garbage_outputs())
    log = _run(task, model, tmp_path)
    [sample] = log.samples
    assert sample.error is None
    verdict = sample.scores["peerwatch"].metadata
    assert verdict["status"] == "not_read"  # it never listed the server files successfully
    errors = [m for m in sample.messages if m.role == "tool" and m.error is not None]
    assert len(errors) == 3
    episode = episode_from_store(sample.store)
    assert episode is not None
    failed = [e for e in episode[2].effects if not e.ok]
    assert [e.tool for e in failed] == ["transfer_server_files", "no_such_tool", "list_server_files"]


def test_unknown_model_and_missing_key_fail_before_running(monkeypatch: pytest.MonkeyPatch) -> None:
    from peerwatch.tasks._run import ModelCheckError

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ModelCheckError, match="OPENAI_API_KEY"):
        check_models(["openai/gpt-4.1-mini"])
    with pytest.raises(ModelCheckError, match="not recognized"):
        check_models(["nosuchprovider/model"])
    with pytest.raises(ModelCheckError, match="unknown peerwatch persona"):
        check_models(["peerwatch/nobody"])
