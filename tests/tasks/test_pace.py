"""Pacing to a provider's RPM limit (`--rpm`) and stopping at a budget (`--budget`), against the loopback provider.

No timed assertions: the pacer is checked on a fake clock, the runs on counts (429s per admitted request, samples
by id and epoch, exit codes).
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest
from inspect_ai.log import list_eval_logs, read_eval_log

from peerwatch.tasks import _pace
from peerwatch.tasks._cost import PriceTable
from peerwatch.tasks._pace import PaceOptions, RateLimiter, Spend
from peerwatch.tasks._workers import share_pace
from tests.faulty_provider import FaultyProvider
from tests.tasks.test_faults import _run, _samples

PRICES = "prices:\n  - {model: 'openai-api/faulty/*', input: 100, output: 400}\n"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sent: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_pacer_holds_the_rate_without_bursts_or_drift(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(_pace.time, "monotonic", clock.monotonic)
    pacer = RateLimiter(rpm=120)
    interval = 60 / (120 * _pace.HEADROOM)
    sent: list[float] = []

    sleeps = 0

    async def late_sleep(seconds: float) -> None:
        nonlocal sleeps
        sleeps += 1  # a busy event loop wakes every sleeper 50 ms late, and one of them 2 s late
        clock.now += seconds + (2.0 if sleeps == 30 else 0.05)

    async def call(i: int) -> None:
        await pacer.acquire()
        sent.append(clock.now)
        if i == 20:
            clock.now += 3.0  # a stall between calls: the timetable restarts from now

    async def main() -> None:
        monkeypatch.setattr(_pace.anyio, "sleep", late_sleep)
        await asyncio.gather(*(call(i) for i in range(50)))

    asyncio.run(main())
    assert len(sent) == 50 and pacer.calls == 50
    for i, j in itertools.combinations(range(50), 2):  # never more than rate x elapsed + 1 calls in any window
        assert j - i <= (sent[j] - sent[i]) / interval + 1 + 1e-9
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert sum(g for g in gaps if g < 1.0) <= len(gaps) * interval + 0.1  # late wake-ups do not add up
    assert min(gaps) >= interval / 2 - 1e-9  # and a late wake-up never releases two calls together


def test_a_429_cuts_the_rate_once_per_cooldown_and_clean_calls_grow_it_back(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(_pace.time, "monotonic", clock.monotonic)
    pacer = RateLimiter(rpm=600)
    top = pacer.ceiling
    for _ in range(5):  # one rate-limit episode: several 429s, one cut
        pacer.rate_limited()
    assert pacer.cuts == 1 and pacer.rate == pytest.approx(top * _pace.CUT)
    pacer.succeeded()
    assert pacer.rate == pytest.approx(top * _pace.CUT)  # no growth inside the cooldown
    for _ in range(40):  # a long rate-limit storm never drives it under the floor
        clock.now += _pace.COOLDOWN
        pacer.rate_limited()
    assert pacer.rate >= top * _pace.FLOOR - 1e-9
    clock.now += _pace.COOLDOWN
    for _ in range(200):
        pacer.succeeded()
    assert pacer.rate == pytest.approx(top)  # back to, and never above, the ceiling


def test_spend_prices_calls_and_reports_the_crossing_once() -> None:
    table = PriceTable.model_validate({"prices": [{"model": "x/*", "input": 1.0, "output": 2.0}]})
    spend = Spend(budget=0.01, prices=table)
    assert not spend.add("x/a", 4000, 1000)  # $0.006
    assert spend.add("x/a", 4000, 1000)  # $0.012: crossed
    assert not spend.add("x/a", 4000, 1000) and spend.reached
    assert not spend.add("y/unpriced", 10**9, 10**9) and "y/unpriced" in spend.unpriced


def test_workers_keep_the_whole_rate_and_budget_together() -> None:
    share = share_pace(PaceOptions(rpm=300, budget=2.0), "/run/shared")
    assert share is not None and share.rpm == 300 and share.budget == 2.0 and share.shared == "/run/shared"
    learned = share_pace(None, "/run/shared")  # no --rpm: the files are there for a limit learned from 429s
    assert learned is not None and learned.rpm is None and learned.budget is None and learned.shared == "/run/shared"


@pytest.mark.parametrize("provider", [{"fault_rate": 0.0, "rpm": 240, "burst": 2, "latency": 0.05}], indirect=True)
def test_rpm_pacing_keeps_429s_rare(provider: FaultyProvider, tmp_path: Path) -> None:
    r = _run(provider, tmp_path / "logs", "-t", "tampering", "--limit", "4", "--epochs", "2", "--rpm", "240",
             "--workers", "1")  # fmt: skip
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    samples = _samples(tmp_path / "logs")
    assert len(samples) == 8 and not [s for s in samples if s[2]]
    admitted = len(provider.accepted)
    assert provider.counts["http_429_rpm"] <= 0.1 * admitted, provider.counts  # no storm of retries


@pytest.mark.parametrize("provider", [{"fault_rate": 0.0}], indirect=True)
def test_budget_stops_cleanly_and_a_rerun_resumes_exactly_the_rest(provider: FaultyProvider, tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text(PRICES)
    logs = tmp_path / "logs"
    cmd = ["-t", "tampering", "--limit", "6", "--epochs", "2", "--max-connections", "2", "--workers", "1",
           "--prices", str(prices)]  # fmt: skip
    r = _run(provider, logs, *cmd, "--budget", "0.3")
    assert r.returncode == 3, r.stdout[-2000:] + r.stderr[-2000:]
    assert "budget reached: $" in r.stdout and "of $0.3000" in r.stdout
    first = _samples(logs)
    assert 0 < len(first) < 12 and not [s for s in first if s[2]]  # stopped early, nothing errored
    for info in list_eval_logs(str(logs)):
        assert read_eval_log(info).status in ("success", "cancelled")  # a valid, finished log
    left = int(r.stdout.split("samples left")[0].rsplit(",", 1)[1].replace(",", "").strip())
    assert left == 12 - len(first)
    r = _run(provider, logs, *cmd, "--budget", "100")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    keys = [(i, e) for i, e, _ in _samples(logs)]
    assert len(keys) == 12 and len(set(keys)) == 12  # the planned set: nothing lost, nothing run twice
    assert set(first) <= set(_samples(logs))


def test_a_budget_for_a_model_without_a_price_is_a_one_line_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    prices = tmp_path / "prices.yaml"
    prices.write_text(PRICES)
    r = subprocess.run(
        [sys.executable, "-m", "peerwatch.cli", "run", "-m", "openai/gpt-unpriced", "-t", "tampering", "--limit", "1",
         "--budget", "1", "--prices", str(prices), "--log-dir", str(tmp_path / "logs")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 2 and "no price for openai/gpt-unpriced" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
