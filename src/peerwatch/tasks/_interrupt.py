"""Ctrl-C during an Inspect run: one graceful stop per process, and never a run reported done after it.

What Inspect 0.3.285 does with a Ctrl-C, on asyncio, and why each needs help here:
- The first SIGINT reaches `asyncio.Runner`'s handler (after Inspect's control server, uvicorn, has captured and
  re-raised it), which cancels the eval's main task. Inspect catches that cancellation, writes the cancelled log
  and *returns normally*, so the Runner raises no KeyboardInterrupt and `eval_set` reports the interrupted run as
  "Completed all tasks successfully" (the eval returns no logs, and no logs count as all succeeded). The run then
  looked done: exit 0 and a summary with the cancelled samples as errors.
- A second SIGINT makes the Runner raise KeyboardInterrupt inside whatever task step is running: the eval's task
  group ends with it and Inspect logs its traceback. A worker process gets two when a terminal's Ctrl-C reaches the
  whole process group and the parent passes it on as well (it must, for a `kill -INT` of the parent alone).

`interrupts()` wraps a run: it records any SIGINT (through the Runner's handler or as a KeyboardInterrupt in
synchronous code), lets only the first cancel the loop (`once=True`: a worker process, whose parent escalates if it
does not stop), and raises KeyboardInterrupt when the run returns after one. The Runner's handler is wrapped (a
private method of the standard library, used only when it exists): its identity check (`signal.getsignal(SIGINT) is
default_int_handler`) rules out a handler of our own, which would lose the graceful cancellation that lets Inspect
write the cancelled log. The traceback Inspect's control server logs when it is cancelled is dropped too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass
class _State:
    active: bool = False
    once: bool = False
    interrupted: bool = False
    cancelled: bool = False  # a Runner's handler cancelled the loop for it
    lost: int = 0  # Ctrl-Cs that landed in a finalizer (swallowed there) and were sent again


_state = _State()
_RUNNER: Any = getattr(asyncio, "Runner", None)
_ON_SIGINT: Callable[..., Any] | None = getattr(_RUNNER, "_on_sigint", None)


def _on_sigint(self: Any, signum: int, frame: Any, main_task: Any) -> None:
    _state.interrupted = True
    if _state.once and _state.cancelled:
        return  # the parent passed on the Ctrl-C this process already has; it stops us harder if we hang
    _state.cancelled = True
    assert _ON_SIGINT is not None
    _ON_SIGINT(self, signum, frame, main_task)


_MAX_LOST = 5


def _unraisable(hook: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def unraisable(info: Any) -> None:
        # A Ctrl-C between two event-loop runs raises KeyboardInterrupt wherever Python is, a weakref callback or
        # a finalizer included, where it is printed as "Exception ignored" and dropped: the run would go on. It is
        # sent again, to land where it stops the run.
        if issubclass(info.exc_type, KeyboardInterrupt) and _state.active:
            _state.interrupted = True
            if _state.lost < _MAX_LOST:
                _state.lost += 1
                threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT)).start()
            return
        hook(info)

    return unraisable


def interrupted() -> bool:
    """Whether a Ctrl-C reached this process during the current (or last) `interrupts()` block."""
    return _state.interrupted


@contextlib.contextmanager
def interrupts(once: bool = False) -> Iterator[None]:
    """Run an Inspect eval set inside: a Ctrl-C during it ends it with KeyboardInterrupt (after Inspect has written
    its cancelled logs), however Inspect itself reported the run. `once`: later SIGINTs are ignored (worker
    processes; the parent stops a hung one)."""
    if _state.active:  # nested (a judge's run inside a run): the outer block decides
        yield
        return
    _state.active, _state.once, _state.interrupted, _state.cancelled, _state.lost = True, once, False, False, 0
    _quiet_interrupted_control_server()
    patched = _RUNNER is not None and _ON_SIGINT is not None
    if patched:
        _RUNNER._on_sigint = _on_sigint
    hook = sys.unraisablehook
    sys.unraisablehook = _unraisable(hook)
    try:
        yield
    except KeyboardInterrupt:
        _state.interrupted = True
        raise
    finally:
        if patched:
            _RUNNER._on_sigint = _ON_SIGINT
        sys.unraisablehook = hook
        _state.active = False
        if _state.interrupted:
            quiet_after_interrupt()
    if _state.interrupted:
        raise KeyboardInterrupt


def quiet_after_interrupt() -> None:
    """After a Ctrl-C: no warning for the coroutines it cut off before they started (Inspect creates each before
    handing it to a new event loop); in a run that was not interrupted that warning still shows."""
    warnings.filterwarnings("ignore", message=r"coroutine .* was never awaited", category=RuntimeWarning)


_STOPS = (asyncio.CancelledError, KeyboardInterrupt)


class _CancelledLifespan(logging.Filter):
    """Drops the traceback Inspect's control server (uvicorn, on the eval's loop) logs when Ctrl-C cancels it: as
    the record's exception, or as its text (Starlette sends the shutdown's traceback as a `lifespan.shutdown.failed`
    message, which uvicorn logs as is). A traceback ending in any other exception is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, _STOPS):
            return False
        text = record.getMessage().strip()
        last = text.rsplit("\n", 1)[-1].strip().split(":", 1)[0]
        return not (text.startswith("Traceback") and last.endswith(tuple(t.__name__ for t in _STOPS)))


def _quiet_interrupted_control_server() -> None:
    # A cancelled lifespan is the server being stopped, not an error; the run says "interrupted" in one line.
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _CancelledLifespan) for f in logger.filters):
        logger.addFilter(_CancelledLifespan())
