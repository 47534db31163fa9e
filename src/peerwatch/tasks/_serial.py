"""One tool call at a time per sample world, from the guard's decision to the end of the tool's execution.

Inspect runs tools marked parallel concurrently: each call's approval would read the world before its siblings ran
(a decoy deleted in the same turn makes a blocked transfer look like a no-op). The approver takes the sample's lock
(`hold_world`) before it decides; the tool releases it after it has executed and saved the world
(`release_world`). Approval and execution run in the same asyncio task, so the holder is that task; if the tool
never runs (rejected, bad arguments, cancelled), the lock is released when the task ends.
"""

from __future__ import annotations

import asyncio
import weakref

from ._episode import current_sample

_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
_held: dict[asyncio.Task[object], asyncio.Lock] = {}


def _sample_key() -> str:
    sample = current_sample()
    return sample.uuid if sample is not None else "no-sample"


def _release_task(task: asyncio.Task[object]) -> None:
    lock = _held.pop(task, None)
    if lock is not None and lock.locked():
        lock.release()


async def hold_world() -> None:
    """Take the current sample's world lock for the current call (no-op if this call holds it already)."""
    task = asyncio.current_task()
    if task is None or task in _held:
        return
    key = _sample_key()
    lock = _locks.get(key)
    if lock is None:
        lock = asyncio.Lock()
        _locks[key] = lock
    await lock.acquire()
    _held[task] = lock
    task.add_done_callback(_release_task)


def holds_world() -> bool:
    """Whether the current call holds its sample's world lock (it was decided by the guard)."""
    task = asyncio.current_task()
    return task is not None and task in _held


def release_world() -> None:
    """Release the current call's world lock, if it holds one."""
    task = asyncio.current_task()
    if task is not None:
        _release_task(task)
