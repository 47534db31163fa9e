"""Kill a run at a moment its logs hold some but not all of its samples, and read what they held (tests, benchmarks).

Inspect writes a task's finished samples into its `.eval` zip at flush points (every `log_buffer` samples), and
writes the zip atomically (a temporary file, then a rename), so the zip on disk is always whole and its
`samples/*.json` entries are exactly the samples flushed so far.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import zipfile
from pathlib import Path

from inspect_ai.log import EvalLog, list_eval_logs, read_eval_log
from pydantic import BaseModel

Key = tuple[str, int]  # (sample id, epoch)


def newest_logs(log_dir: Path) -> tuple[list[EvalLog], list[EvalLog]]:
    """Each task's newest log (what the eval set holds: Inspect resumes from it) and the older ones left beside it."""
    by_task: dict[str, list[tuple[float, EvalLog]]] = {}
    for info in list_eval_logs(str(log_dir), recursive=True):
        log = read_eval_log(info)
        by_task.setdefault(log.eval.task_id, []).append((info.mtime or 0, log))
    newest: list[EvalLog] = []
    older: list[EvalLog] = []
    for logs in by_task.values():
        ordered = [log for _, log in sorted(logs, key=lambda t: t[0], reverse=True)]
        newest.append(ordered[0])
        older += ordered[1:]
    return newest, older


class KillPoint(BaseModel):
    """What the logs held when the run was killed."""

    seconds: float  # since the run started
    written: dict[Key, str]  # (id, epoch) -> the sample's uuid, from the zips at the kill
    finished_before: bool  # the run ended on its own before the kill point was reached


def flushed_count(log_dir: Path) -> int:
    """Samples written so far into the `.eval` logs under `log_dir` (zip entries; a zip being renamed is skipped)."""
    n = 0
    for path in log_dir.rglob("*.eval"):
        with contextlib.suppress(OSError, zipfile.BadZipFile, KeyError), zipfile.ZipFile(path) as z:
            n += sum(1 for name in z.namelist() if name.startswith("samples/") and name.endswith(".json"))
    return n


def flushed_samples(log_dir: Path) -> dict[Key, str]:
    """Every sample written into the logs under `log_dir`: (id, epoch) -> uuid."""
    out: dict[Key, str] = {}
    for path in sorted(log_dir.rglob("*.eval")):
        with contextlib.suppress(OSError, zipfile.BadZipFile, KeyError), zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.startswith("samples/") and name.endswith(".json"):
                    s = json.loads(z.read(name))
                    out[(str(s["id"]), int(s["epoch"]))] = str(s.get("uuid"))
    return out


def kill_between_flushes(
    proc: subprocess.Popen[bytes], log_dir: Path, planned: int, at_least: int = 1, poll: float = 0.05
) -> KillPoint:
    """SIGKILL `proc`'s process group (it must lead one) once its logs hold >= `at_least` and < `planned` samples.

    If the run finishes (or writes its last sample) first, that is reported rather than hidden: `finished_before`.
    """
    start = time.monotonic()
    at_least = max(1, at_least)
    while proc.poll() is None:
        n = flushed_count(log_dir)
        if n >= planned:
            break
        if n >= at_least:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return KillPoint(
                seconds=time.monotonic() - start, written=flushed_samples(log_dir), finished_before=False
            )
        time.sleep(poll)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return KillPoint(seconds=time.monotonic() - start, written=flushed_samples(log_dir), finished_before=True)
