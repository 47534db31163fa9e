"""A running episode keeps its world and ledger as live objects and writes them to the sample store once, at its end.

What must hold: the log's store has the final world and ledger (as JSON, as `peerwatch rescore` reads them) and
nothing of the live holder, also when the sample dies mid-episode or hits a message limit; the transcript does not
carry one store change per tool call any more; and the scorer, the guard and rejected calls see the live state.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from inspect_ai import eval as inspect_eval
from inspect_ai.event import SpanBeginEvent, StoreEvent
from inspect_ai.log import EvalSample, read_eval_log
from inspect_ai.model import ModelOutput, ModelUsage, get_model

from peerwatch.tasks import study_task
from peerwatch.tasks._episode import episode_from_store, live_episode
from peerwatch.world import Ledger, World

USAGE = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
CALLS = [
    ("list_drive_files", {}),
    ("list_server_files", {"ip": "10.0.12.45"}),
    ("list_server_files", {"ip": "10.0.12.46"}),
    ("delete_server_file", {"ip": "10.0.12.45", "filename": "no_such_file"}),  # fails: rolled back, recorded
    ("transfer_server_files", {"source_ip": 12}),  # Inspect refuses the arguments: recorded by the solver
]


def _outputs(calls: list[tuple[str, dict[str, object]]], then: str) -> Iterator[ModelOutput]:
    for i, (tool, args) in enumerate(calls):
        out = ModelOutput.for_tool_call("mockllm/model", tool, args, tool_call_id=f"c{i}")
        out.usage = USAGE
        yield out
    if then == "raise":
        raise RuntimeError("the provider died mid-episode")
    out = ModelOutput.for_tool_call("mockllm/model", "end_task", {}, tool_call_id="end")
    out.usage = USAGE
    yield out


def _sample(tmp_path: Path, then: str, **eval_args: object) -> EvalSample:
    task = study_task("exfiltration_deletion", subject="peer", condition="good_peer", instantiation="file_only")
    model = get_model("mockllm/model", custom_outputs=_outputs(CALLS, then))
    [log] = inspect_eval(task, model=model, log_dir=str(tmp_path), display="none", log_level="error", **eval_args)
    [sample] = read_eval_log(log.location).samples or []
    return sample


def _episode(sample: EvalSample) -> tuple[World, Ledger]:
    episode = episode_from_store(sample.store)
    assert episode is not None
    return episode[1], episode[2]


def _calls(sample: EvalSample) -> list[tuple[str, bool]]:
    return [(e.tool, e.ok) for e in _episode(sample)[1].effects if e.kind == "call"]


def test_the_log_holds_the_final_world_and_ledger_and_no_live_holder(tmp_path: Path) -> None:
    sample = _sample(tmp_path, then="end")
    assert sample.error is None
    assert "peerwatch:live" not in sample.store
    assert _calls(sample) == [
        ("list_drive_files", True),
        ("list_server_files", True),
        ("list_server_files", True),
        ("delete_server_file", False),
        ("transfer_server_files", False),
        ("end_task", True),
    ]
    episode = episode_from_store(sample.store)
    assert episode is not None
    _, world, ledger = episode
    assert world.ended and isinstance(world, World) and isinstance(ledger, Ledger)
    assert sample.scores and sample.scores["peerwatch"].metadata["status"] == "ok"


def test_store_changes_are_not_logged_per_tool_call(tmp_path: Path) -> None:
    sample = _sample(tmp_path, then="end")
    span_types = {e.id: e.type for e in sample.events if isinstance(e, SpanBeginEvent)}
    changes = [e for e in sample.events if isinstance(e, StoreEvent)]
    assert sum(1 for m in sample.messages if m.role == "tool") == 6
    # One change set for the whole episode (Inspect repeats it for each enclosing solver span), none per tool call.
    assert changes and all(span_types.get(e.span_id) != "tool" for e in changes)
    assert len(changes) <= 2, [c.changes for c in changes]


def test_a_sample_that_dies_mid_episode_still_logs_the_world_as_far_as_it_went(tmp_path: Path) -> None:
    sample = _sample(tmp_path, then="raise")
    assert sample.error is not None and "died mid-episode" in sample.error.message
    assert "peerwatch:live" not in sample.store
    assert [t for t, _ in _calls(sample)] == [t for t, _ in CALLS]


def test_a_message_limit_still_logs_the_world(tmp_path: Path) -> None:
    sample = _sample(tmp_path, then="end", message_limit=5)  # system, user, then 1.5 turns
    assert "peerwatch:live" not in sample.store
    assert _calls(sample)[:1] == [("list_drive_files", True)]
    assert not _episode(sample)[0].ended


def test_outside_a_sample_there_is_no_live_episode() -> None:
    assert live_episode() is None
