"""One rate across processes: the worker processes of a run share one timetable (`--rpm` with `--workers`).

No timed assertions: the shared timetable is checked on the slots it hands out, the runs on counts (429s per
admitted request at the loopback provider's token bucket).
"""

from __future__ import annotations

import asyncio
import fcntl
import itertools
import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from peerwatch.tasks import _pace
from peerwatch.tasks._cost import PriceTable
from peerwatch.tasks._pace import RateLimiter, Spend
from peerwatch.tasks._timetable import SharedSpend, SharedTimetable
from tests.faulty_provider import FaultyProvider
from tests.tasks.test_faults import _run, _samples


@pytest.mark.parametrize("provider", [{"fault_rate": 0.0, "rpm": 150, "latency": 0.05}], indirect=True)
def test_two_worker_processes_keep_one_rate_without_colliding(provider: FaultyProvider, tmp_path: Path) -> None:
    # Two real worker processes against one token bucket: each pacing its own half of the rate, their calls
    # reach the bucket together and draw 429s; sharing one timetable, they take turns.
    r = _run(provider, tmp_path / "logs", "-t", "tampering", "--limit", "4", "--epochs", "2", "--rpm", "150",
             "--workers", "2")  # fmt: skip
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    samples = _samples(tmp_path / "logs")
    assert len(samples) == 8 and not [s for s in samples if s[2]]
    admitted = len(provider.accepted)
    assert admitted >= 30, provider.counts  # enough calls for collisions to show
    # Paced apart (each process N/2) this drew 0.6-0.7 429s per admitted request; one timetable draws none on a
    # quiet machine, and a few when a loaded machine stalls a process between its slot and its send.
    assert provider.counts["http_429_rpm"] <= 0.15 * admitted, provider.counts


def _take_slots(shared: str, n: int, out: Any) -> None:
    pacer = RateLimiter(rpm=RPM, shared=shared, model="openai-api/faulty/faulty")

    async def main() -> list[float]:
        return [await pacer.acquire() for _ in range(n)]

    out.put(asyncio.run(main()))


RPM = 6000  # 100 calls a second: the slots are what is checked, not how long they take


def test_processes_sharing_a_timetable_take_distinct_slots_one_interval_apart(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_take_slots, args=(str(tmp_path), 15, out)) for _ in range(3)]
    for p in procs:
        p.start()
    slots = sorted(s for _ in procs for s in out.get(timeout=120))
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    interval = 60 / (RPM * _pace.HEADROOM)
    assert len(slots) == 45
    assert min(b - a for a, b in itertools.pairwise(slots)) >= interval - 1e-9  # one timetable, never two at once


def _hold_the_lock(shared: str, ready: Any) -> None:
    table = SharedTimetable(shared, "m", 1.0)
    with table.update():
        ready.set()
        time.sleep(600)  # killed while holding the lock


def test_a_worker_killed_while_holding_the_lock_does_not_wedge_the_others(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold_the_lock, args=(str(tmp_path), ready))
    holder.start()
    assert ready.wait(60)
    probe = os.open(next(tmp_path.iterdir()), os.O_RDWR)
    with pytest.raises(BlockingIOError):  # really held
        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(30)
    fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the kernel released it with the process
    fcntl.flock(probe, fcntl.LOCK_UN)
    os.close(probe)
    pacer = RateLimiter(rpm=60 / _pace.HEADROOM, shared=str(tmp_path), model="m")
    asyncio.run(pacer.acquire())
    assert pacer.calls == 1


def test_a_torn_timetable_starts_afresh_and_a_cut_is_seen_by_every_process(tmp_path: Path) -> None:
    a = RateLimiter(rpm=600, shared=str(tmp_path), model="m")
    b = RateLimiter(rpm=600, shared=str(tmp_path), model="m")
    a._file.path.write_bytes(b"\xff" * 7)  # a writer killed mid-write
    asyncio.run(a.acquire())
    assert a.rate == pytest.approx(a.ceiling)
    for _ in range(3):  # one rate-limit episode seen by two processes: one cut between them
        a.rate_limited()
        b.rate_limited()
    asyncio.run(b.acquire())
    assert b.cuts == 1 and b.rate == pytest.approx(a.ceiling * _pace.CUT)


def test_processes_share_one_budget(tmp_path: Path) -> None:
    table = PriceTable.model_validate({"prices": [{"model": "x/*", "input": 1.0, "output": 0.0}]})
    first, second = (Spend(budget=0.01, prices=table, shared=SharedSpend(str(tmp_path))) for _ in range(2))
    assert not first.add("x/a", 4000, 0)  # $0.004 of the run's $0.01
    assert not second.add("x/a", 4000, 0)  # $0.008
    assert second.add("x/a", 4000, 0)  # $0.012: the run crossed it, though neither process spent $0.01
    assert first.spent == pytest.approx(0.004) and second.spent == pytest.approx(0.008)
    assert first.add("x/a", 1, 0) and first.total >= 0.01  # the other process sees it at its next call


def test_with_rpm_retries_are_inspects_not_the_sdks(monkeypatch: pytest.MonkeyPatch) -> None:
    # An SDK retry is unpaced and unseen by the AIMD: it takes the token the next paced call was due.
    from inspect_ai.model import get_model

    from peerwatch.tasks._pace import retries_through_inspect

    monkeypatch.setenv("FAULTY_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("FAULTY_API_KEY", "test")
    default, chosen = get_model("openai-api/faulty/faulty"), get_model("openai-api/faulty/faulty", max_retries=5)
    assert default.api.client.max_retries > 0  # type: ignore[attr-defined]
    retries_through_inspect([default, chosen, get_model("mockllm/model")])
    assert default.api.client.max_retries == 0  # type: ignore[attr-defined]
    assert chosen.api.client.max_retries == 5  # type: ignore[attr-defined]  # the user's -M max_retries is kept
