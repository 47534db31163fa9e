"""Which provider faults a model call retries: Inspect's classification, plus the broken bodies it leaves to the sample.

Inspect retries a call on 5xx, 429, connection errors and attempt timeouts, but a 200 answer whose body is not what
a chat completion must be - a JSON body cut short, an empty `choices` list - raises straight out of the call (or
surfaces later as an IndexError in the agent loop). The sample-level retry (`retry_on_error`) then re-plays the whole
episode, which does not scale: an episode makes 8-150 calls, so a fault rate of a few percent per call errors most long
episodes on every attempt. Such a body is a transient fault of one call, and is retried as one here, with Inspect's
backoff and within its `max_retries`.
"""

from __future__ import annotations

import json
from typing import Any

from inspect_ai.model import Model, ModelOutput, RetryDecision

# Scripted and mock models answer in this process: their errors are bugs, never provider faults.
LOCAL_PROVIDERS = ("peerwatch/", "mockllm/")
_HARDENED = "_peerwatch_retries"


class MalformedAnswer(RuntimeError):
    """A provider's 200 answer that holds no completion (no choices)."""


def _malformed(ex: BaseException) -> bool:
    # The SDK parses the body with `json`; a body cut mid-way (a matching Content-Length, a proxy's truncation)
    # or in another encoding raises these, with no HTTP status to classify.
    return isinstance(ex, MalformedAnswer | json.JSONDecodeError | UnicodeDecodeError)


def harden_retries(model: Model) -> Model:
    """Make a remote model's calls retry broken 200 bodies as transient faults (idempotent; local models untouched).

    Wraps the instance's `api.generate` (an answer with no choices becomes `MalformedAnswer`) and `api.should_retry`
    (which Inspect's retry loop asks about every failed attempt).
    """
    api = model.api
    if str(model).startswith(LOCAL_PROVIDERS) or getattr(api, _HARDENED, False):
        return model
    generate, should_retry = api.generate, api.should_retry

    async def checked_generate(*args: Any, **kwargs: Any) -> Any:
        result = await generate(*args, **kwargs)
        output = result[0] if isinstance(result, tuple) else result
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
