"""One writer per eval-set dir, and no log left behind by a killed run once a re-run has superseded it (what a plan
runs beside the tasks a log dir already holds is `_overlap`'s).

A run killed with -9 leaves its task's log `started`; the re-run's eval set seeds a new log from it and completes
that one, but Inspect leaves the old one on disk: it cannot know that no other process still writes it. Every sample
of the killed attempt is then in two logs (a reader counting logs counts it twice; `inspect view` shows both).
peerwatch can know: a run holds an exclusive lock on its eval-set dir (a second run into the same dir is refused in
one line), so a `started` log there whose task has a newer, finished log is a dead attempt, and is removed after the
eval set returns. Shared storage (s3://...) has no lock: its stale logs stay (the report de-duplicates them).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator

from inspect_ai.log import list_eval_logs, read_eval_log

from ._storage import is_remote

LOCK_NAME = ".peerwatch-run.lock"


class LogDirBusy(RuntimeError):
    """Another peerwatch run is writing into this eval-set dir."""


@contextlib.contextmanager
def exclusive(log_dir: str) -> Iterator[bool]:
    """Hold this eval-set dir for the run (yields whether a lock is held: False on shared storage)."""
    if is_remote(log_dir):
        yield False
        return
    path = log_dir.removeprefix("file://")
    os.makedirs(path, exist_ok=True)
    fd = os.open(os.path.join(path, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LogDirBusy(
                f"another peerwatch run is writing into {log_dir}; wait for it to end or use another --log-dir"
            ) from None
        yield True
    finally:
        os.close(fd)  # closing the descriptor releases the lock (a kill -9 releases it too)


def remove_superseded(log_dir: str) -> int:
    """Remove the `started` logs of tasks that have a newer finished log in `log_dir`; returns how many.

    Call only while holding `exclusive(log_dir)` and after the eval set has returned: then no process writes them.
    """
    by_task: dict[str, list[tuple[float, str, str]]] = {}
    for info in list_eval_logs(log_dir, recursive=False):
        header = read_eval_log(info, header_only=True)
        by_task.setdefault(header.eval.task_id, []).append((info.mtime or 0.0, header.status, info.name))
    removed = 0
    for logs in by_task.values():
        logs.sort(reverse=True)
        newest_finished = next((mtime for mtime, status, _ in logs if status != "started"), None)
        if newest_finished is None:
            continue
        for mtime, status, name in logs:
            if status == "started" and mtime < newest_finished:
                path = name.removeprefix("file://")
                with contextlib.suppress(OSError):
                    os.remove(path)
                    removed += 1
    return removed
