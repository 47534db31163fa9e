"""A Dask worker killed with -9 must not leave its shard's `peerwatch run` subprocess writing on (red team 13).

Seen before the fix: after `kill -9` of a `dask worker` process, its two shard subprocesses were re-parented to init
and kept writing `shard-2-of-4` and `shard-4-of-4` while Dask re-ran both jobs on the other worker: two writers per
eval set. The job starts its subprocess through `spawn_tied`, which the kernel stops when the starter dies.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

STARTER = """
import subprocess, sys, time
from peerwatch.tasks import spawn_tied
child = spawn_tied([sys.executable, "-c", "import time; time.sleep(300)"])
print(child.pid, flush=True)
time.sleep(300)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.timeout(60)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_shard_process_dies_with_a_killed_starter():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    starter = subprocess.Popen([sys.executable, "-c", STARTER], stdout=subprocess.PIPE, text=True, env=env)
    assert starter.stdout is not None
    child = int(starter.stdout.readline())
    time.sleep(1.0)  # the child has exec'd into its command
    assert _alive(child)
    os.kill(starter.pid, signal.SIGKILL)
    starter.wait()
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    try:
        assert not _alive(child), "the shard subprocess outlived its killed Dask worker"
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)
