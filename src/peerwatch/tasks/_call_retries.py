"""Each sample's retried model calls, written into the sample itself, so the report counts them from the logs alone.

A sample's count is every model-call attempt that was retried while it ran - its agent's calls and its judge's, over
all its attempts (`--retry-on-error`): the retries Inspect's own retry loop makes (each one reaches the
`on_model_retry` hook, which says which sample it belongs to) plus those the provider's SDK makes behind Inspect's
back (only the call's `ModelEvent.retries` holds them). It is written as the sample's metadata key `call_retries`
by the task's `cleanup`, which Inspect runs once per attempt - finished, errored or limited - after scoring and
before it logs the sample: sample metadata survives into the log's summaries (an int is never thinned), which is
all the report reads. Scores would not do: an errored sample has none.

A sample that errors for good (after its re-runs) is run again by the eval set's next pass (or the next run) as a
new sample; within this process its count so far is carried into that one (by model, sample id and epoch), since
the report keeps only the completed sample. The run's summary (`call_retries()`) adds up each sample's own retries
as it ends, so the report's total for a run's logs is the number the run printed.

The cost is per sample (a pass over its events at the end), never per call: the hook methods live on `_faults`'
hook, which a run enables anyway, since Inspect hands every sample event to every enabled hook. Outside a peerwatch
run (`inspect eval peerwatch/...`) nothing counts Inspect's retries, so nothing is written: the report says unknown
rather than a number that misses them.
"""

from __future__ import annotations

from collections import Counter

from inspect_ai.event import ModelEvent
from inspect_ai.hooks import ModelRetry, SampleEnd
from inspect_ai.log import transcript
from inspect_ai.solver import TaskState

# The sample metadata key (and the samples table's column): retried model-call attempts.
CALL_RETRIES = "call_retries"


class _Counts:
    """This process's counts: per running sample (by its uuid, shared by its attempts) and the run's total."""

    def __init__(self) -> None:
        self.on = False  # a run (`peerwatch run`, a harness run) is counting
        self.inspect: Counter[str] = Counter()  # Inspect's retries so far, per sample uuid
        self.sdk: Counter[str] = Counter()  # the SDK's retries of the sample's attempts cleaned up so far
        self.keys: dict[str, tuple[str, str, int]] = {}  # running sample uuid -> (model, sample id, epoch)
        self.carried: dict[tuple[str, str, int], int] = {}  # a sample that errored for good: its count so far
        self.total = 0  # the run's: ended samples' counts, plus retries made outside any sample


_counts = _Counts()


def call_retries() -> int:
    """How many model-call attempts this process's last (or current) run retried (5xx, 429, timeouts, broken
    bodies)."""
    return _counts.total


def counting() -> bool:
    """Whether a run in this process counts retried calls (the hook must see them)."""
    return _counts.on


def count_call_retries(on: bool) -> None:
    """Start a run's count (from zero) or stop counting (the total stays readable)."""
    if on:
        _counts.total = 0
        _counts.inspect.clear()
        _counts.sdk.clear()
        _counts.keys.clear()
        _counts.carried.clear()
    _counts.on = on


def _sdk_retries() -> int:
    return sum(e.retries or 0 for e in transcript().events if isinstance(e, ModelEvent))


async def record_call_retries(state: TaskState) -> None:
    """A task's `cleanup`: write the sample's retried call attempts so far into its metadata (see the module)."""
    if not _counts.on:
        return
    uuid = state.uuid
    key = _counts.keys[uuid] = (str(state.model), str(state.sample_id), state.epoch)
    _counts.sdk[uuid] += _sdk_retries()
    own = _counts.inspect[uuid] + _counts.sdk[uuid]
    state.metadata[CALL_RETRIES] = _counts.carried.get(key, 0) + own


def note_retry(data: ModelRetry) -> None:
    """One retry of Inspect's retry loop (its model event does not record those: only the SDK's land there)."""
    if data.sample_id is None:
        _counts.total += 1  # a call outside any sample (none in a study run): the run's, no sample's
    else:
        _counts.inspect[data.sample_id] += 1


def note_sample_end(data: SampleEnd) -> None:
    """Add the sample's own retries to the run's count; keep its count for a later pass if it errored for good."""
    uuid = data.sample_id
    _counts.total += _counts.inspect.pop(uuid, 0) + _counts.sdk.pop(uuid, 0)
    key = _counts.keys.pop(uuid, None)
    if key is None:
        return
    written = (data.sample.metadata or {}).get(CALL_RETRIES)
    if data.sample.error is not None and isinstance(written, int):
        _counts.carried[key] = written
    else:
        _counts.carried.pop(key, None)
