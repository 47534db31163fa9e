"""Pacing model calls to a provider's requests-per-minute limit, and stopping a run at a spending budget.

Inspect already adapts *concurrency* to 429s (`adaptive_connections`, on unless `max_connections` is set), and the
OpenAI SDK waits the server's Retry-After before its own retries. Concurrency is the wrong knob for an RPM limit,
though: the rate a pool of connections produces is connections / latency, so with fast answers every connection
above the limit's share ends up waiting out a 429, and all the waiting requests come back together when the
Retry-After ends (a retry storm). `--rpm N` adds what is missing: a client-side pacer that spaces the calls of each
model to N per minute (minus a small headroom), and cuts its rate (AIMD) if the provider still answers 429 -
say when the limit is shared with another client - then grows back to N.

`--budget USD` prices every model call as it completes (Inspect's usage hook and the price table in
`prices.yaml`); once the budget is spent the run drains - no sample starts, running ones finish and are logged -
and the eval set records the samples it did not run, so the same command run again resumes exactly those.

Both live in an Inspect hook (`peerwatch_pace`), configured per process by `configure()`. The worker processes of
one machine (`--workers N`) keep one timetable per model and one running spend together, in small locked files
(`_timetable`): together they send at most the rate, with no two calls colliding at the provider, and stop at the
budget. Across machines (`--shard i/n`, Dask jobs) nothing is shared: each shard keeps 1/n of both (`shard_share`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
from inspect_ai.hooks import BeforeModelGenerate, Hooks, ModelUsageData, TaskStart, hooks
from inspect_ai.model import Model
from pydantic import BaseModel, Field
from tenacity import wait_exponential_jitter

from . import _pace_learn as learn
from ._cost import PriceTable, load_prices
from ._pace_dir import hold
from ._timetable import SharedSpend, SharedTimetable, Timetable

log = logging.getLogger(__name__)

HEADROOM = 0.97  # pace a little under the stated limit: the provider's clock and ours do not tick together
CUT = 0.8  # multiplicative decrease on a 429 the pacer did not prevent
COOLDOWN = 10.0  # seconds between two cuts: one rate-limit episode brings several 429s
GROWTH = 0.02  # additive increase (fraction of the limit) per clean call after a cut
FLOOR = 0.1  # never pace below this fraction of the limit
PACED_RETRY_WAIT = 0.2  # seconds before a paced model's 429 is retried (the pacer then spaces it)


class PaceOptions(BaseModel):
    """What one process keeps to (None: not limited)."""

    rpm: float | None = Field(default=None, gt=0, description="Requests per minute per model (with `shared`: of "
                              "every process pacing through that directory together).")
    budget: float | None = Field(default=None, ge=0, description="USD to spend (with `shared`: all processes).")
    prices: str | None = Field(default=None, description="Price table file (default: the bundled one).")
    shared: str | None = Field(default=None, description="Directory of the run's shared timetable and spend files.")


@dataclass
class RateLimiter:
    """Lets calls go one by one at the paced rate (a GCRA schedule), with AIMD on the rate.

    Callers queue on a lock; each takes the next slot on a timetable `1/rate` apart and sleeps until it. A caller
    woken late by a busy event loop does not push the timetable back by the small lateness (that would lose it on
    every call), but by no more than half an interval after a long stall; one that finds its slot past (nobody was
    waiting) goes at once and restarts the timetable from now. So at any moment the calls sent are at most
    `rate x elapsed + 1` and no two go closer than half an interval: the provider never sees a burst.

    `rpm` None: the limit is not known and is learned from the provider's 429s (`_pace_learn`; `learn` starts it).
    With `shared` (a directory) the timetable and the AIMD state live in a locked file there, so every process
    that paces the same model through the same directory keeps one rate together (see `_timetable`).
    """

    rpm: float | None
    shared: str | None = None
    model: str = ""
    calls: int = 0
    joined: float = 0.0  # when this process started learning (monotonic)
    _table: Timetable = field(init=False)
    _file: SharedTimetable | None = field(init=False, default=None)
    _lock: anyio.Lock | None = None
    _loop: object = None

    def __post_init__(self) -> None:
        top = self.ceiling if self.rpm is not None else math.inf
        self._table = Timetable(rate=top if self.rpm is not None else 1.0)
        if self.shared is not None:
            self._file = SharedTimetable(self.shared, self.model, top, start=self._table.rate)

    @property
    def ceiling(self) -> float:
        """The highest rate paced to, in calls per second (learning: as last seen)."""
        if self.rpm is None:
            return learn.ceiling(self._table, time.monotonic())
        return self.rpm * HEADROOM / 60.0

    @property
    def rate(self) -> float:
        """The rate paced to now (as last seen, when shared), in calls per second."""
        return self._table.rate

    @property
    def cuts(self) -> int:
        """How many times a 429 cut the rate."""
        return self._table.cuts

    @contextmanager
    def _update(self) -> Iterator[Timetable]:
        if self._file is None:
            yield self._table
            return
        with self._file.update() as table:
            yield table
            self._table = table

    async def acquire(self) -> float:
        """Wait for this call's slot (callers queue in order); returns the slot it took."""
        try:
            loop: object = asyncio.get_running_loop()
        except RuntimeError:  # another anyio backend (trio): one loop per run there
            loop = self._loop
        if self._lock is None or self._loop is not loop:  # an eval-set retry may run in a new event loop
            self._lock, self._loop = anyio.Lock(), loop
        async with self._lock:
            with self._update() as table:  # take the slot (never sleeping while the shared file is locked)
                interval = 1.0 / table.rate
                now = time.monotonic()
                mine = max(table.slot, now)
                table.slot = mine + interval
            if mine > now:
                await anyio.sleep(mine - now)
                woke = time.monotonic()
                with self._update() as table:
                    # Woken late: keep the timetable (no drift), but credit at most half an interval of the
                    # lateness, so after a long stall the next call goes half an interval after this one, never with it.
                    table.slot = max(table.slot, woke - interval / 2 + interval)
            self.calls += 1
            return mine

    def learn(self, retry_after: float | None, limit: float | None) -> None:
        """This process's first 429 for the model: start pacing it, or join the pacing another process started."""
        self.joined = now = time.monotonic()
        with self._update() as table:
            if table.window_start == 0:  # nobody on this machine paces the model yet
                learn.start(table, now, retry_after, limit)
            else:
                learn.rate_limited(table, now, retry_after, limit, counted=False)

    def rate_limited(self, retry_after: float | None = None, limit: float | None = None) -> None:
        """The provider answered 429 anyway: slow down (once per cooldown, for every process sharing the rate)."""
        now = time.monotonic()
        with self._update() as table:
            if self.rpm is None:
                learn.rate_limited(table, now, retry_after, limit, counted=now >= self.joined + learn.JOIN_GRACE)
                return
            if now < table.cooldown_until:
                return
            table.cooldown_until = now + COOLDOWN
            table.rate = max(self.ceiling * FLOOR, table.rate * CUT)
            table.cuts += 1

    def succeeded(self) -> None:
        """A clean call: grow back towards the ceiling (not during a cooldown)."""
        if self.rpm is None:
            with self._update() as table:  # learning: every call counts in the window (a file update)
                learn.succeeded(table, time.monotonic())
            return
        if self._table.rate >= self.ceiling:
            return  # the common case costs nothing (a cut by another process shows at the next acquire)
        with self._update() as table:
            if table.rate < self.ceiling and time.monotonic() >= table.cooldown_until:
                table.rate = min(self.ceiling, table.rate + self.ceiling * GROWTH)


@dataclass
class Spend:
    """Running cost of model calls against a budget: this process's, or (with `shared`) the whole run's."""

    budget: float
    prices: PriceTable
    shared: SharedSpend | None = None
    spent: float = 0.0  # by this process (the parent adds up its workers')
    total: float = 0.0  # by every process sharing the budget (this one alone when not shared)
    reached: bool = False
    unpriced: set[str] = field(default_factory=set)

    def add(self, model: str, input_tokens: int, output_tokens: int) -> bool:
        """Price one call; True the first time this process sees the budget reached."""
        price = self.prices.price(model)
        if price is None:
            if model not in self.unpriced:  # an unpriced model would spend without limit: say so once
                self.unpriced.add(model)
                log.warning("--budget: no price for %s in the price table; its calls count as $0", model)
            return False
        cost = (input_tokens * price.input + output_tokens * price.output) / 1e6
        self.spent += cost
        self.total = self.shared.add(cost) if self.shared is not None else self.spent
        if not self.reached and self.total >= self.budget:
            self.reached = True
            return True
        return False


@dataclass
class _State:
    limiters: dict[str, RateLimiter] = field(default_factory=dict)
    rpm: float | None = None
    shared: str | None = None
    spend: Spend | None = None
    evals: set[str] = field(default_factory=set)
    learning: bool = False  # a model drew a 429 without --rpm: the hook paces it from now on
    owner: int | None = None  # this process's hold on the shared dir (`shared_pace_dir`)


_state = _State()


def configure(options: PaceOptions | None) -> None:
    """Set this process's pacing and budget for the runs that follow (None: neither)."""
    global _state
    options = options or PaceOptions()
    spend = None
    if options.budget is not None:
        shared = SharedSpend(options.shared) if options.shared else None
        spend = Spend(budget=options.budget, prices=load_prices(options.prices), shared=shared)
    if _state.owner is not None:
        os.close(_state.owner)
    owner = hold(options.shared) if options.shared else None  # this run's dir stays while this process lives
    _state = _State(rpm=options.rpm, spend=spend, shared=options.shared, owner=owner)


def retries_through_inspect(models: list[Model]) -> None:
    """Let Inspect make every retry of a call, not the provider's SDK behind its back.

    The OpenAI and Anthropic SDKs retry a 429 themselves (twice, after its Retry-After), so the retry is neither paced
    nor seen by the pacer; it lands on the token the next paced call was due, which then draws a 429 of its own -
    one stall of a loaded machine became a cascade of 30 429s in 43 calls - and without `--rpm` the first 429s
    stayed hidden from the pacer that would learn the limit from them. Inspect retries the same errors itself (with
    its own backoff), each attempt through the pacing hook. A user's own `-M max_retries=N` is kept.
    """
    for model in models:
        api = model.api
        if "max_retries" in (getattr(api, "model_args", None) or {}):
            continue
        client = getattr(api, "client", None)
        if isinstance(getattr(client, "max_retries", None), int):
            client.max_retries = 0  # type: ignore[union-attr]


def watch_rate_limits(models: list[Model]) -> None:
    """Every run: retries through Inspect, and each model's 429s reach the pacer (`--rpm`: its AIMD; without it,
    the first 429 starts pacing that model at a learned rate, `_pace_learn`).

    The provider's retry classifier is wrapped - it runs on failed calls only, so a run the provider never
    rate-limits pays nothing per call - because Inspect's retry hook carries neither the response headers nor
    (0.3.285) the model name the other hooks use.
    """
    retries_through_inspect(models)
    for model in models:
        api = model.api
        classify = api.should_retry
        if getattr(classify, "peerwatch_watched", False):
            continue
        name = str(model)

        def should_retry(ex: BaseException, classify: Any = classify, name: str = name) -> Any:
            decision = classify(ex)
            try:
                limited, retry_after = learn.rate_limit_signal(ex, decision)
                if limited:
                    _rate_limited(name, retry_after, learn.stated_limit(ex))
            except Exception as exc:  # pacing must never turn a retry into a failure
                log.warning("pacing: could not note a rate limit of %s: %s", name, exc)
            return decision

        should_retry.peerwatch_watched = True  # type: ignore[attr-defined]
        api.should_retry = should_retry  # type: ignore[method-assign]
        api.retry_wait = _paced_retry_wait(api.retry_wait(), name)  # type: ignore[method-assign]


# Inspect's own backoff when a provider sets none (`inspect_ai/model/_retry.py`: 3 s doubling, jitter 3 s, 30 min cap).
_INSPECT_BACKOFF = wait_exponential_jitter(initial=3, max=30 * 60, jitter=3)


def _paced_retry_wait(default: Any, model: str) -> Any:
    # Inspect waits 3 s, 6 s, ... before retrying a 429 (its default backoff). Once the model is paced the pacer
    # spaces every attempt, retries included, so a retried call only needs to rejoin its queue: a run's first wave
    # of 429s no longer idles every sample for seconds while the limit sits unused. Other errors keep the default.
    def wait(state: Any) -> float:
        outcome = getattr(state, "outcome", None)
        ex = outcome.exception() if outcome is not None and outcome.failed else None
        if ex is not None and model in _state.limiters and learn.rate_limit_signal(ex, None)[0]:
            return PACED_RETRY_WAIT
        return float((default or _INSPECT_BACKOFF)(state))

    return lambda: wait


def _rate_limited(model: str, retry_after: float | None, limit: float | None) -> None:
    pacer = _state.limiters.get(model)
    if pacer is None:
        pacer = RateLimiter(_state.rpm, shared=_state.shared, model=model)
        _state.limiters[model] = pacer
        if _state.rpm is None:
            _state.learning = True
            pacer.learn(retry_after, limit)
            log.info("pacing %s from its 429s: starting at %.1f requests/min", model, pacer.rate * 60)
            return
    pacer.rate_limited(retry_after, limit)


def budget_reached() -> bool:
    """Whether this process's run stopped at its budget."""
    return bool(_state.spend and _state.spend.reached)


def spent() -> float:
    """USD spent by this process's model calls so far (0 without a budget)."""
    return _state.spend.spent if _state.spend else 0.0


def limiter(model: str) -> RateLimiter | None:
    """The pacer of one model in this process (None when not paced or not called yet)."""
    return _state.limiters.get(model)


def _drain(eval_id: str) -> None:
    # Inspect's own graceful stop (`inspect ctl task drain`): queued samples are abandoned and left out of the log,
    # running ones finish, and the log records how many samples it resolved so the eval set re-runs the rest.
    # Inspect 0.3.285 offers it only through its control channel, so it is called in-process here.
    from inspect_ai._control.cancel import drain_task
    from inspect_ai._control.eval_state import stable_task_id_for_eval

    drain_task(stable_task_id_for_eval(eval_id))


def _drain_all() -> None:
    for eval_id in list(_state.evals):
        try:
            _drain(eval_id)
        except Exception as exc:  # a drain that cannot land must not crash the sample that crossed the budget
            log.warning("--budget: could not drain task %s: %s", eval_id, exc)


@hooks(name="peerwatch_pace", description="peerwatch: pace model calls to --rpm and stop at --budget.")
class PaceHooks(Hooks):
    """Paces every model call (`--rpm`) and drains the run's tasks when the budget is spent (`--budget`)."""

    def enabled(self) -> bool:
        """Only with a rate, a budget, or once a model drew a 429 (until then a run pays nothing per call)."""
        return _state.rpm is not None or _state.spend is not None or _state.learning

    async def on_task_start(self, data: TaskStart) -> None:
        """Track the task so a budget stop can drain it; one that starts after the budget is spent drains now."""
        _state.evals.add(data.eval_id)
        if budget_reached():
            _drain(data.eval_id)

    async def on_before_model_generate(self, data: BeforeModelGenerate) -> None:
        """Wait for the call's slot (fires for every attempt, so Inspect's own retries are paced too)."""
        pacer = _state.limiters.get(data.model_name)
        if pacer is None:
            if _state.rpm is None:
                return  # learning: only the models that drew a 429 are paced
            pacer = RateLimiter(_state.rpm, shared=_state.shared, model=data.model_name)
            _state.limiters[data.model_name] = pacer
        await pacer.acquire()

    async def on_model_usage(self, data: ModelUsageData) -> None:
        """Price the call; the call that crosses the budget drains every task of this process."""
        pacer = _state.limiters.get(data.model_name)
        if pacer is not None:
            pacer.succeeded()
        spend = _state.spend
        if spend is None:
            return
        usage = data.usage
        inputs = usage.input_tokens + (usage.input_tokens_cache_read or 0) + (usage.input_tokens_cache_write or 0)
        if spend.add(data.model_name, inputs, usage.output_tokens):
            log.warning("--budget reached: $%.4f of $%.4f; no new samples start", spend.total, spend.budget)
            _drain_all()
