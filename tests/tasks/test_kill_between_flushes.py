"""kill -9 between two flushes of the log, then the same command again: exactly the planned samples, none twice,
none errored, and none of those the logs already held run again.

`--log-buffer 2` makes Inspect write the log every two finished samples, so the kill (the whole process group,
SIGKILL) lands while the logs hold some but not all of the samples.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from peerwatch.analysis import read_samples
from tests.faulty_provider import FaultyProvider
from tests.kill_between_flushes import kill_between_flushes, newest_logs

SELECTION = ["-t", "tampering", "--condition", "good_peer", "--limit", "4", "--epochs", "3"]
PLANNED = 12  # 4 configurations x 3 epochs


def _cmd(provider: FaultyProvider, log_dir: Path) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ, FAULTY_BASE_URL=provider.base_url, FAULTY_API_KEY="test")
    cmd = [sys.executable, "-m", "peerwatch.cli", "run", "-m", "openai-api/faulty/faulty", "--timeout", "5",
           "--log-dir", str(log_dir), "--workers", "1", "--max-connections", "2", "--log-buffer", "2",
           *SELECTION]  # fmt: skip
    return cmd, env


@pytest.mark.timeout(600)
@pytest.mark.parametrize("provider", [{"fault_rate": 0.0, "latency": 0.15, "jitter": 0.1}], indirect=True)
def test_kill_9_between_flushes_then_rerun_gives_the_planned_set(provider: FaultyProvider, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    cmd, env = _cmd(provider, logs)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    kill = kill_between_flushes(proc, logs, PLANNED, at_least=3)
    killed_at = dt.datetime.now(dt.UTC)
    assert not kill.finished_before, "the run finished before the kill point: slow the provider down"
    assert 1 <= len(kill.written) < PLANNED, kill.written  # between flushes: some samples written, not all

    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=400)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]

    newest, stale = newest_logs(logs)
    samples = [s for log in newest for s in log.samples or []]
    assert all(log.eval.config.log_buffer == 2 for log in newest + stale)  # --log-buffer reached Inspect
    keys = Counter((str(s.id), s.epoch) for s in samples)
    assert len(keys) == PLANNED and sum(keys.values()) == PLANNED, keys  # the planned set, nothing twice
    assert not [s.id for s in samples if s.error is not None]
    uuids = {(str(s.id), s.epoch): s.uuid for s in samples}
    for key, uuid in kill.written.items():  # written before the kill: kept, not run again
        assert uuids[key] == uuid, f"{key} was run again after the kill"
    # The killed run's own log stays beside (Inspect never removes a `started` log another run wrote): it holds
    # nothing the newest log lacks, and the report, which reads every log, counts each sample once.
    for log in stale:
        assert log.status == "started"
        assert all(uuids[(str(s.id), s.epoch)] == s.uuid for s in log.samples or [])
    assert len(read_samples([logs])[0]) == PLANNED
    # Inspect may also keep samples finished but not yet flushed (from its sample buffer): never fewer.
    kept = [s for s in samples if s.completed_at and dt.datetime.fromisoformat(s.completed_at) < killed_at]
    assert len(kept) >= len(kill.written)
