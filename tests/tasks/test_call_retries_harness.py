"""Harness mode: the agent CLI's calls reach the provider through the model bridge and Inspect; the retried ones are
counted in each episode's log, and `peerwatch report` gives what the provider served. Needs root + OpenSSH, like the
other harness end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.faulty_provider import FaultyProvider
from tests.harness.conftest import needs_host

CONFIGS = ["exfiltration_transfer/peer/good_peer/memory", "exfiltration_transfer/peer/good_peer/file_only"]


@pytest.mark.sshd
@needs_host
@pytest.mark.timeout(900)
@pytest.mark.parametrize("provider", [{"fault_rate": 0.4, "seed": 7, "hang_seconds": 4}], indirect=True)
def test_harness_episodes_carry_their_call_retries(provider: FaultyProvider, tmp_path: Path) -> None:
    env = dict(os.environ, FAULTY_BASE_URL=provider.base_url, FAULTY_API_KEY="test", COLUMNS="200")
    logs = tmp_path / "logs"
    cmd = [sys.executable, "-m", "peerwatch.cli", "harness", "--agent", "shell", "--model", "openai-api/faulty/faulty",
           "--epochs", "2", "--log-dir", str(logs), *[a for c in CONFIGS for a in ("-c", c)]]  # fmt: skip
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=800)
    assert r.returncode in (0, 1), r.stdout[-3000:] + r.stderr[-3000:]
    faults = provider.counts["agent_faults"]
    assert faults > 0, provider.counts
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("samples:"))
    assert f"{faults} call retr" in line, (line, provider.counts)  # the run's summary, from the logs
    out = tmp_path / "report"
    rep = subprocess.run([sys.executable, "-m", "peerwatch.cli", "report", str(logs), "--out", str(out)], env=env,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert rep.returncode == 0, rep.stdout[-2000:] + rep.stderr[-2000:]
    samples = pd.read_csv(out / "samples.csv")
    assert samples["model"].str.contains("harness: shell").all() and len(samples) == 4
    assert samples["call_retries"].notna().all() and int(samples["call_retries"].sum()) == faults, provider.counts
