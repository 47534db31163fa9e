"""Without `--rpm`: pacing learns a provider's limit from its 429s (`_pace_learn`), on a fake clock against a
simulated token bucket, and for real against the loopback provider.

No timed assertions: counts (429s per admitted request, utilisation of the bucket on the fake clock, samples).
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import pytest

from peerwatch.tasks import _pace, _pace_learn
from peerwatch.tasks._pace import PaceHooks, RateLimiter
from tests.faulty_provider import FaultyProvider
from tests.tasks.test_faults import _run, _samples


class Bucket:
    """The loopback provider's token bucket, on the fake clock."""

    def __init__(self, clock: Any, rpm: float) -> None:
        self.clock, self.rate = clock, rpm / 60
        self.burst = self.tokens = max(1.0, self.rate)
        self.at = clock.now
        self.admitted: list[float] = []
        self.rejected = 0

    def call(self) -> float | None:
        """None: admitted; else the Retry-After."""
        now = self.clock.now
        self.tokens, self.at = min(self.burst, self.tokens + (now - self.at) * self.rate), now
        if self.tokens >= 1:
            self.tokens -= 1
            self.admitted.append(now)
            return None
        self.rejected += 1
        return (1 - self.tokens) / self.rate

    def utilisation(self) -> float:
        span = self.admitted[-1] - self.admitted[0]
        return len(self.admitted) / (self.burst + self.rate * span)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def _simulate(
    monkeypatch: pytest.MonkeyPatch, rpm: float, retry_after: float | None, seconds: float = 90, gap: float = 0.0,
    pacers: int = 1, shared: str | None = None,
) -> Bucket:
    """A storm of unpaced calls until the first 429, then demand above the limit through the learning pacer(s)
    (with `pacers` > 1, processes sharing one timetable take turns); `gap`: the client's own time per call.
    `retry_after`: what the first 429 says (default: the bucket's own, the time to its next token)."""
    clock = Clock()
    monkeypatch.setattr(_pace.time, "monotonic", clock.monotonic)
    monkeypatch.setattr(_pace.anyio, "sleep", clock.sleep)
    bucket = Bucket(clock, rpm)
    while (wait := bucket.call()) is None:
        clock.now += 0.01  # unpaced: 100 calls a second
    limiters = [RateLimiter(None, shared=shared, model="m") for _ in range(pacers)]
    for limiter in limiters:
        limiter.learn(wait if retry_after is None else retry_after or None, None)
    end = clock.now + seconds

    async def main() -> None:
        i = 0
        while clock.now < end:
            limiter = limiters[i % pacers]
            i += 1
            await limiter.acquire()
            clock.now += gap
            wait = bucket.call()
            if wait is None:
                limiter.succeeded()
            else:
                limiter.rate_limited(wait, None)

    asyncio.run(main())
    return bucket


@pytest.mark.parametrize("start", [None, 0, 0.5, 10.0], ids=["retry-after", "no-retry-after", "half", "10x-high"])
@pytest.mark.parametrize("rpm", [120, 300])
def test_the_learned_rate_holds_the_limit_whatever_it_starts_from(
    monkeypatch: pytest.MonkeyPatch, rpm: int, start: float | None
) -> None:
    # `start`: the rate the first Retry-After suggests, as a fraction of the limit (None: the bucket's own; 0: none)
    bucket = _simulate(monkeypatch, rpm, start and 60 / (start * rpm) if start else start)
    # Without a Retry-After the pacer starts at one call a second and doubles per window: the climb costs a little.
    used = bucket.utilisation()
    assert used >= (0.85 if start == 0 else 0.9), (used, bucket.rejected, len(bucket.admitted))
    assert bucket.rejected <= 0.1 * len(bucket.admitted), (bucket.rejected, len(bucket.admitted))


def test_processes_sharing_the_timetable_learn_one_rate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bucket = _simulate(monkeypatch, 150, None, pacers=2, shared=str(tmp_path))
    assert bucket.utilisation() >= 0.9 and bucket.rejected <= 0.1 * len(bucket.admitted), bucket.rejected


def test_a_stated_limit_is_kept_like_rpm(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(_pace.time, "monotonic", clock.monotonic)
    pacer = RateLimiter(None)
    pacer.learn(0.02, 120 / 60)  # the Retry-After suggests 50 calls/s; the header says 2
    assert pacer.rate == pytest.approx(2 * _pace_learn.HEADROOM)
    for _ in range(100):
        pacer.succeeded()
        clock.now += 0.5
    assert pacer.rate <= 2 * _pace_learn.HEADROOM + 1e-9  # never above the stated limit


def test_a_rate_that_drew_429s_caps_growth_until_the_memory_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(_pace.time, "monotonic", clock.monotonic)
    pacer = RateLimiter(None)
    pacer.learn(0.25, None)
    clock.now += _pace_learn.JOIN_GRACE + 0.1
    pacer.rate_limited(0.1, None)
    bad = pacer._table.bad
    assert bad == pytest.approx(4.0) and pacer.rate == pytest.approx(4.0 * _pace_learn.CUT) and pacer.cuts == 1
    top = bad * _pace_learn.BAD_MARGIN
    for _ in range(100):  # 25 s, within the memory
        clock.now += 0.25  # 4 calls/s admitted: the window does not cap below the bad rate
        pacer.succeeded()
        assert pacer.rate <= top + 1e-9
    assert pacer.rate == pytest.approx(top)
    clock.now += _pace_learn.BAD_MEMORY
    for _ in range(20):
        clock.now += 0.25
        pacer.succeeded()
    assert pacer.rate > top  # the memory ended: growth probes above it again


def test_429s_in_the_first_moment_of_pacing_cut_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # They answer calls the process sent before it paced: they hold the timetable but say nothing of the rate.
    clock = Clock()
    monkeypatch.setattr(_pace.time, "monotonic", clock.monotonic)
    pacer = RateLimiter(None)
    pacer.learn(0.5, None)
    for _ in range(20):
        pacer.rate_limited(0.5, None)
    assert pacer.cuts == 0 and pacer.rate == pytest.approx(2.0)
    assert pacer._table.slot >= clock.now + 0.5  # nobody goes before the Retry-After


def test_rate_headers_and_retry_after_are_read_from_the_sdk_exception() -> None:
    import httpx
    import openai

    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    headers = {"retry-after": "0.5", "x-ratelimit-limit-requests": "300", "x-ratelimit-remaining-requests": "0"}
    ex = openai.RateLimitError("rate", response=httpx.Response(429, headers=headers, request=request), body=None)
    assert _pace_learn.stated_limit(ex) == pytest.approx(5.0)
    from inspect_ai.model._openai import openai_classify_retry

    assert _pace_learn.rate_limit_signal(ex, openai_classify_retry(ex)) == (True, pytest.approx(0.5))
    bare = openai.RateLimitError("rate", response=httpx.Response(429, request=request), body=None)
    assert _pace_learn.stated_limit(bare) is None
    assert _pace_learn.rate_limit_signal(bare, openai_classify_retry(bare))[0]
    assert not _pace_learn.rate_limit_signal(ValueError("x"), None)[0]
    bad = httpx.Response(429, headers={"x-ratelimit-limit-requests": "inf"}, request=request)
    assert _pace_learn.stated_limit(openai.RateLimitError("rate", response=bad, body=None)) is None
    assert not math.isnan(_pace_learn.ceiling(_pace.Timetable(rate=1.0), 0.0))


def test_a_run_never_rate_limited_pays_nothing_per_call_and_the_first_429_starts_pacing(tmp_path: Path) -> None:
    import httpx
    import openai
    from inspect_ai.model import ModelOutput, ModelUsage, get_model

    _pace.configure(_pace.PaceOptions(shared=str(tmp_path)))  # a worker of a run without --rpm
    try:
        output = ModelOutput.from_content("mockllm/model", "hi")
        output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        model = get_model("mockllm/model", custom_outputs=[output] * 3)
        _pace.watch_rate_limits([model])
        asyncio.run(model.generate("hello"))
        # No 429 yet: the hook is disabled (Inspect skips it per call), no pacer, no timetable file (only the run
        # dir's `owner` file, held once at `configure`, see `_pace_dir`).
        files = lambda: [p.name for p in tmp_path.iterdir() if p.name != "owner"]  # noqa: E731
        assert not PaceHooks().enabled() and _pace.limiter(str(model)) is None and not files()
        request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
        ex = openai.RateLimitError("rate", response=httpx.Response(429, request=request), body=None)
        model.api.should_retry(ex)  # what Inspect asks on every failed attempt
        pacer = _pace.limiter(str(model))
        assert PaceHooks().enabled() and pacer is not None and pacer.rpm is None and files()
        _pace.watch_rate_limits([model])  # watched once, however often a run asks
        assert getattr(model.api.should_retry, "peerwatch_watched", False)
    finally:
        _pace.configure(None)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("provider", [{"fault_rate": 0.0, "rpm": 150, "latency": 0.05}], indirect=True)
def test_without_rpm_a_rate_limited_run_learns_the_limit(
    provider: FaultyProvider, tmp_path: Path, workers: int
) -> None:
    # Before: Inspect's adaptive connections and the SDK's Retry-After retries drew 1-2 429s per admitted request.
    r = _run(provider, tmp_path / "logs", "-t", "tampering", "--limit", "4", "--epochs", "3", "--workers", str(workers))
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    samples = _samples(tmp_path / "logs")
    assert len(samples) == 12 and not [s for s in samples if s[2]]
    admitted = len(provider.accepted)
    assert admitted >= 60, provider.counts
    # Before, the storm went on all run: 1-2 429s per admitted request. Now the first moment (every sample's first
    # call at once, unpaced) draws its 429s, and once the limit is learned they are rare.
    assert provider.counts["http_429_rpm"] <= 0.4 * admitted, provider.counts
    half = (provider.accepted[0] + provider.accepted[-1]) / 2
    late = sum(t >= half for t in provider.rejected), sum(t >= half for t in provider.accepted)
    assert late[0] <= 0.1 * late[1], (late, provider.counts)


def test_a_paced_models_429_is_retried_at_once_other_errors_back_off() -> None:
    import httpx
    import openai
    from inspect_ai.model import get_model

    _pace.configure(None)
    try:
        model = get_model("mockllm/model")
        _pace.watch_rate_limits([model])
        wait = model.api.retry_wait()
        request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
        limited = openai.RateLimitError("rate", response=httpx.Response(429, request=request), body=None)

        class State:  # what tenacity hands a wait: the attempt and its outcome
            attempt_number = 1

            def __init__(self, ex: BaseException) -> None:
                self.outcome = type("Outcome", (), {"failed": True, "exception": lambda _: ex})()

        assert wait(State(limited)) >= 3  # not paced yet: Inspect's own backoff
        model.api.should_retry(limited)  # the first 429: the model is paced from now on
        assert wait(State(limited)) == _pace.PACED_RETRY_WAIT  # the pacer spaces the retry
        assert wait(State(ConnectionError("reset"))) >= 3  # other errors keep the backoff
    finally:
        _pace.configure(None)
