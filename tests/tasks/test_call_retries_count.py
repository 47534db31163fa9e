"""The per-sample count of retried model calls: over every attempt of a sample, each retry once, in the sample's
metadata and in the run's total (the end-to-end runs are in test_call_retries_report.py)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from inspect_ai.event import ModelEvent
from inspect_ai.hooks import ModelRetry, SampleEnd
from inspect_ai.log._transcript import Transcript, init_transcript, transcript
from inspect_ai.model import GenerateConfig, ModelOutput

from peerwatch.tasks._call_retries import CALL_RETRIES, call_retries, count_call_retries, record_call_retries
from peerwatch.tasks._faults import RefusalHooks, watch_refusals


def _retry(sample: str | None) -> ModelRetry:
    return ModelRetry(model_name="openai-api/x/y", attempt=1, wait_time=0.0, sample_id=sample)


def _model_event(retries: int | None) -> ModelEvent:
    return ModelEvent(model="openai-api/x/y", input=[], tools=[], tool_choice="auto", config=GenerateConfig(),
                      output=ModelOutput(), retries=retries)  # fmt: skip


def _end(uuid: str, metadata: dict[str, Any], error: str | None = None) -> SampleEnd:
    return SampleEnd(eval_set_id=None, run_id="r", eval_id="e", sample_id=uuid,
                     sample=SimpleNamespace(metadata=metadata, error=error))  # type: ignore[arg-type]  # fmt: skip


def _state(uuid: str, sample_id: str = "tampering/x", epoch: int = 1) -> Any:
    return SimpleNamespace(uuid=uuid, metadata={}, model="openai-api/x/y", sample_id=sample_id, epoch=epoch)


async def _attempt(hooks: RefusalHooks, state: Any, inspect_retries: int, sdk_retries: list[int | None]) -> None:
    """One attempt of a sample: Inspect's retries reach the hook, the SDK's land in the attempt's model events."""
    init_transcript(Transcript())  # each attempt has a transcript of its own, as in Inspect
    for _ in range(inspect_retries):
        await hooks.on_model_retry(_retry(state.uuid))
    for n in sdk_retries:
        transcript()._event(_model_event(n))
    await record_call_retries(state)


def test_every_attempt_of_a_sample_counts_and_the_run_adds_up_what_the_samples_say() -> None:
    async def run() -> None:
        watch_refusals(True)  # a run starts: its count from zero
        hooks = RefusalHooks()
        assert hooks.enabled()
        errored_then_ok = _state("u1")
        await _attempt(hooks, errored_then_ok, 2, [1, None])  # errored: re-run with the same uuid
        errored_then_ok.metadata = {}  # the retry's state is a fresh one
        await _attempt(hooks, errored_then_ok, 1, [0, 3])
        assert errored_then_ok.metadata[CALL_RETRIES] == 2 + 1 + 1 + 3
        clean = _state("u2", epoch=2)
        await _attempt(hooks, clean, 0, [None, None])
        assert clean.metadata[CALL_RETRIES] == 0
        await hooks.on_model_retry(_retry(None))  # a call outside any sample: the run's, no sample's
        await hooks.on_sample_end(_end("u1", errored_then_ok.metadata))
        await hooks.on_sample_end(_end("u2", clean.metadata))
        assert call_retries() == 7 + 0 + 1
        # A sample whose cleanup never ran (cancelled) still counts what the hook saw, once.
        await hooks.on_model_retry(_retry("u3"))
        await hooks.on_sample_end(_end("u3", {}))
        assert call_retries() == 9
        watch_refusals(False)
        assert call_retries() == 9 and not hooks.enabled()  # the run's count stays readable after it

    asyncio.run(run())


def test_a_sample_errored_for_good_brings_its_count_to_the_pass_that_completes_it() -> None:
    async def run() -> None:
        watch_refusals(True)
        hooks = RefusalHooks()
        first = _state("p1")  # the eval set's first pass: every attempt errored
        await _attempt(hooks, first, 3, [1])
        await hooks.on_sample_end(_end("p1", first.metadata, error="HTTP 503"))
        assert first.metadata[CALL_RETRIES] == 4 and call_retries() == 4
        other = _state("p2", sample_id="tampering/other")  # another sample's count is its own
        await _attempt(hooks, other, 1, [])
        await hooks.on_sample_end(_end("p2", other.metadata))
        again = _state("p3")  # the next pass runs it again (a new uuid) and completes it
        await _attempt(hooks, again, 2, [])
        await hooks.on_sample_end(_end("p3", again.metadata))
        # The report keeps only the completed sample: it holds both passes' retries; the run counted each once.
        assert again.metadata[CALL_RETRIES] == 4 + 2 and other.metadata[CALL_RETRIES] == 1
        assert call_retries() == 4 + 1 + 2
        later = _state("p4")  # nothing left to carry once it completed
        await _attempt(hooks, later, 0, [])
        assert later.metadata[CALL_RETRIES] == 0
        watch_refusals(False)

    asyncio.run(run())


def test_outside_a_run_nothing_is_written_so_the_report_says_unknown() -> None:
    async def run() -> None:
        count_call_retries(False)  # `inspect eval peerwatch/...`: no run counts Inspect's retries
        state = _state("u9")
        await _attempt(RefusalHooks(), state, 0, [2])
        assert CALL_RETRIES not in state.metadata and not RefusalHooks().enabled()

    asyncio.run(run())


def test_the_count_is_a_task_cleanup_of_every_peerwatch_task() -> None:
    from peerwatch.tasks._harness import harness
    from peerwatch.tasks._tasks import tampering

    assert tampering(limit=1).cleanup is record_call_retries
    assert harness(task_type="exfiltration_transfer").cleanup is record_call_retries
