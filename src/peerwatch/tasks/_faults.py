"""Which provider faults a model call retries, and which stop the run: Inspect's classification, plus the broken
bodies it leaves to the sample and the refusals (a key revoked mid-run) it leaves to every sample in turn.

Inspect retries a call on 5xx, 429, connection errors and attempt timeouts, but a 200 answer whose body is not what
a chat completion must be - a JSON body cut short, an empty `choices` list - raises straight out of the call (or
surfaces later as an IndexError in the agent loop). The sample-level retry (`retry_on_error`) then re-plays the whole
episode, which does not scale: an episode makes 8-150 calls, so a fault rate of a few percent per call errors most long
episodes on every attempt. Such a body is a transient fault of one call, and is retried as one here, with Inspect's
backoff and within its `max_retries`.

A refusal - HTTP 401/403 (the key was revoked, access withdrawn) or 404 (the model is gone) - is the opposite: no
retry fixes it, yet each sample would meet it in turn, be re-run `retry_on_error` times, and every eval-set pass
would start over (hundreds of refused calls, a screen of errors). The first refusal of a model in this process
stops the run instead: its later calls fail at once without reaching the provider, the tasks drain (no new sample
starts, running ones end), and the run reports one line (`refusal()`). The samples it cost are errored in the log,
so running the same command again, with the key fixed, completes them.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from inspect_ai.hooks import Hooks, ModelRetry, SampleEnd, TaskStart, hooks
from inspect_ai.model import Model, ModelOutput, RetryDecision

from ._call_retries import count_call_retries, counting, note_retry, note_sample_end
from ._pace import _drain as drain_task  # Inspect's graceful stop, one place for its private API

log = logging.getLogger(__name__)

# Scripted and mock models answer in this process: their errors are bugs, never provider faults.
LOCAL_PROVIDERS = ("peerwatch/", "mockllm/")
_HARDENED = "_peerwatch_retries"
# Providers' HTTP statuses that no retry can fix: bad or revoked key, no access, unknown model.
PERMANENT_STATUS = {401, 403, 404}


class _Refusals:
    """This process's refusals (model -> one line) and the tasks a refusal drains."""

    def __init__(self) -> None:
        self.lines: dict[str, str] = {}
        self.evals: set[str] = set()
        self.active = False  # a run is under way in this process (a preflight probe's refusal is not the run's)


_refusals = _Refusals()


class MalformedAnswer(RuntimeError):
    """A provider's 200 answer that holds no completion (no choices)."""


class ProviderRefused(RuntimeError):
    """A call not sent: the provider already refused this model in this run (never retried)."""


def status_of(ex: BaseException) -> int | None:
    """The HTTP status an SDK exception carries (None for a transport error)."""
    status = getattr(ex, "status_code", None) or getattr(getattr(ex, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def refusal() -> str | None:
    """The one line of the first refusal that stopped this process's run (None: none)."""
    return next(iter(_refusals.lines.values()), None)


def watch_refusals(on: bool) -> None:
    """Start (forgetting any earlier refusal and retry count) or stop watching for refusals: only a run's calls
    stop the run."""
    if on:
        _refusals.lines.clear()
        _refusals.evals.clear()
    count_call_retries(on)  # each sample's retried calls, into its log too (`_call_retries`)
    _refusals.active = on


def clear_refusals() -> None:
    """Forget the refusals and stop watching."""
    watch_refusals(True)
    watch_refusals(False)


def _refuse(model: str, ex: BaseException, status: int) -> None:
    if model in _refusals.lines or not _refusals.active:
        return
    reason = " ".join(str(ex).split())[:240]
    _refusals.lines[model] = (
        f"model '{model}': the provider refused a call mid-run (HTTP {status}): {reason}; the run stopped - fix the "
        "key or model and run the same command again to resume"
    )
    for eval_id in list(_refusals.evals):
        try:
            drain_task(eval_id)
        except Exception as exc:  # a drain that cannot land must not mask the refusal itself
            log.warning("could not drain task %s: %s", eval_id, exc)


@hooks(
    name="peerwatch_faults",
    description="peerwatch: stop a run whose provider refuses its key or model; count the call retries.",
)
class RefusalHooks(Hooks):
    """Tracks the running tasks so that a refusal can drain them; a task starting after one drains at once."""

    def enabled(self) -> bool:
        """Only while a run is under way in this process: refusals stop it, retried calls are counted."""
        return _refusals.active or counting()

    async def on_task_start(self, data: TaskStart) -> None:
        """Track the task (and drain it now if a refusal already stopped the run)."""
        _refusals.evals.add(data.eval_id)
        if _refusals.lines:
            drain_task(data.eval_id)

    async def on_model_retry(self, data: ModelRetry) -> None:
        """Count a retry of Inspect's own retry loop for its sample (`_call_retries`)."""
        note_retry(data)

    async def on_sample_end(self, data: SampleEnd) -> None:
        """Add the sample's own retried calls to the run's count (an errored one's kept for the next pass)."""
        note_sample_end(data)


def _malformed(ex: BaseException) -> bool:
    # The SDK parses the body with `json`; a body cut mid-way (a matching Content-Length, a proxy's truncation)
    # or in another encoding raises these, with no HTTP status to classify.
    return isinstance(ex, MalformedAnswer | json.JSONDecodeError | UnicodeDecodeError)


def harden_retries(model: Model) -> Model:
    """Make a remote model's calls retry broken 200 bodies as transient faults, and stop the run at a refusal
    (idempotent; local models untouched).

    Wraps the instance's `api.generate` (an answer with no choices becomes `MalformedAnswer`; a 401/403/404 stops
    the run) and `api.should_retry` (which Inspect's retry loop asks about every failed attempt).
    """
    api = model.api
    if str(model).startswith(LOCAL_PROVIDERS) or getattr(api, _HARDENED, False):
        return model
    generate, should_retry = api.generate, api.should_retry

    name = str(model)

    async def checked_generate(*args: Any, **kwargs: Any) -> Any:
        if _refusals.active and name in _refusals.lines:
            raise ProviderRefused(_refusals.lines[name])
        try:
            result = await generate(*args, **kwargs)
        except Exception as ex:
            status = status_of(ex)
            if status in PERMANENT_STATUS:
                _refuse(name, ex, status)
            raise
        output = result[0] if isinstance(result, tuple) else result
        if isinstance(output, Exception) and status_of(output) in PERMANENT_STATUS:
            _refuse(name, output, status_of(output) or 0)
        if isinstance(output, ModelOutput) and not output.choices:
            raise MalformedAnswer(f"{model}: the provider's answer holds no choices")
        return result

    def classify(ex: BaseException) -> bool | RetryDecision:
        decision = should_retry(ex)  # type: ignore[arg-type]
        if not decision and _malformed(ex):
            return RetryDecision.transient()
        return decision

    api.generate = checked_generate  # type: ignore[method-assign]
    api.should_retry = classify  # type: ignore[method-assign]
    setattr(api, _HARDENED, True)
    return model
