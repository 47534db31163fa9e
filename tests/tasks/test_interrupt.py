"""`interrupts()`: a Ctrl-C that Inspect swallows (its eval catches the cancellation and returns) still ends the run
with KeyboardInterrupt; a worker's second SIGINT does not tear its loop; the control server's cancelled-shutdown
traceback is dropped, any other traceback kept."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import pytest

from peerwatch.tasks._interrupt import _CancelledLifespan, interrupted, interrupts


async def _swallows(signals: int) -> str:
    # as Inspect's eval does: the cancellation is caught and a result returned
    try:
        for _ in range(signals):  # all at once: the terminal's copy and the parent's land together
            os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(5)
        return "finished"
    except asyncio.CancelledError:
        await asyncio.sleep(0.05)  # writing the cancelled log
        return "cancelled"


def test_a_swallowed_ctrl_c_still_ends_the_run() -> None:
    results = []
    with pytest.raises(KeyboardInterrupt), interrupts():
        results.append(asyncio.run(_swallows(1)))
    assert results == ["cancelled"] and interrupted()


def test_a_worker_ignores_the_second_sigint_and_stops_once() -> None:
    results = []
    with pytest.raises(KeyboardInterrupt), interrupts(once=True):
        results.append(asyncio.run(_swallows(3)))  # the terminal's and the parent's copies, and one more
    assert results == ["cancelled"]


def test_without_a_ctrl_c_nothing_changes() -> None:
    with interrupts():
        assert asyncio.run(asyncio.sleep(0, "ok")) == "ok"
    assert not interrupted()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _record(msg: str, exc: BaseException | None = None) -> logging.LogRecord:
    info = (type(exc), exc, None) if exc is not None else None
    return logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, msg, None, info)


@pytest.mark.parametrize(
    ("message", "exc", "kept"),
    [
        ("Traceback (most recent call last):\n  File ...\nasyncio.exceptions.CancelledError\n", None, False),
        ("Traceback (most recent call last):\n  File ...\nKeyboardInterrupt\n", None, False),
        ("Exception in 'lifespan' protocol\n", asyncio.CancelledError(), False),
        ("Traceback (most recent call last):\n  File ...\nValueError: a real error\n", None, True),
        ("Exception in 'lifespan' protocol\n", RuntimeError("real"), True),
        ("Control server did not shut down cleanly", None, True),
    ],
)
def test_only_the_interrupts_tracebacks_are_dropped(message: str, exc: BaseException | None, kept: bool) -> None:
    assert _CancelledLifespan().filter(_record(message, exc)) is kept


class _Finalized:
    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # the Ctrl-C lands while a finalizer runs


def test_a_ctrl_c_swallowed_by_a_finalizer_is_sent_again(capsys: pytest.CaptureFixture[str]) -> None:
    import time

    with pytest.raises(KeyboardInterrupt), interrupts():
        _Finalized()  # dropped at once: KeyboardInterrupt raised in __del__ is "ignored" by Python
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            time.sleep(0.01)
        pytest.fail("the swallowed Ctrl-C was not sent again")
    assert "Exception ignored" not in capsys.readouterr().err
