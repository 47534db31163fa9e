"""A run killed with kill -9 leaves its shared pacing dir behind: the next run's start removes it, never one whose
processes still live (a worker that outlived its killed parent keeps pacing through it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from peerwatch.tasks._pace import PaceOptions, configure
from peerwatch.tasks._pace_dir import shared_pace_dir

HOLD = """
import sys, time
from peerwatch.tasks._pace_dir import shared_pace_dir
with shared_pace_dir() as d:
    print(d, flush=True)
    time.sleep(600)
"""
WORKER = """
import sys, time
from peerwatch.tasks._pace import PaceOptions, configure
configure(PaceOptions(rpm=60, shared=sys.argv[1]))
print("held", flush=True)
time.sleep(600)
"""


def _python(code: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True, env=env)


@pytest.mark.timeout(120)
def test_a_killed_runs_dir_is_removed_by_the_next_run_but_not_while_a_worker_lives(tmp_path: Path) -> None:
    parents = [_python(HOLD) for _ in range(2)]
    worker = None
    try:
        dirs = [Path(p.stdout.readline().strip()) for p in parents]  # type: ignore[union-attr]
        assert all(d.is_dir() for d in dirs)
        worker = _python(WORKER, str(dirs[1]))  # a worker of the second run
        assert worker.stdout.readline().strip() == "held"  # type: ignore[union-attr]
        for p in parents:
            p.send_signal(signal.SIGKILL)
            p.wait(10)
        assert all(d.is_dir() for d in dirs), "kill -9 leaves the dirs (nothing could remove them)"
        with shared_pace_dir() as mine:
            assert not dirs[0].exists(), "the next run removes a dead run's dir"
            assert dirs[1].is_dir(), "but not the dir a live worker still paces through"
            assert Path(mine).is_dir() and Path(mine).parent == dirs[0].parent
        assert not Path(mine).exists()
        worker.kill()
        worker.wait(10)
        with shared_pace_dir():
            assert not dirs[1].exists(), "once its last process is gone, it goes too"
    finally:
        for p in [*parents, *([worker] if worker else [])]:
            if p.poll() is None:
                p.kill()
                p.wait(10)


def test_leftovers_do_not_accumulate_over_many_runs() -> None:
    with shared_pace_dir() as first:
        root = Path(first).parent
    before = {e.name for e in root.iterdir()}
    for _ in range(20):
        with shared_pace_dir() as d:
            configure(PaceOptions(rpm=60, shared=d))  # this process holds it as a worker does
            configure(None)
    assert {e.name for e in root.iterdir()} <= before


def test_a_dir_being_set_up_is_left_alone_until_it_is_old(tmp_path: Path) -> None:
    with shared_pace_dir() as d:
        root = Path(d).parent
    young, old = root / ".run-young", root / ".run-old"
    for s in (young, old):
        s.mkdir(exist_ok=True)
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    with shared_pace_dir():
        assert young.exists() and not old.exists()
    young.rmdir()
