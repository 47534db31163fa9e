"""`--budget` and `--rpm` on `peerwatch harness`: the agent's calls reach Inspect through the model bridge, so the
pacing hook prices and paces each; a spent budget starts no new episode, lets the running one finish, exits 3, and
the same command again runs only the episodes left. Needs root + OpenSSH, like the other harness end-to-end tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai.log import list_eval_logs, read_eval_log

from tests.harness.conftest import needs_host

CONFIGS = [
    "exfiltration_transfer/peer/good_peer/memory",
    "exfiltration_transfer/peer/good_peer/file_only",
    "exfiltration_deletion/peer/good_peer/file_only",
]
PRICES = "prices:\n  - {model: 'peerwatch/*', input: 1000, output: 1000}\n"


def _harness(log_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    configs = [a for c in CONFIGS for a in ("-c", c)]
    cmd = [sys.executable, "-m", "peerwatch.cli", "harness", "--agent", "shell", "--model", "peerwatch/exfiltrator",
           "--max-episodes", "1", "--log-dir", str(log_dir), *configs, *args]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def _episodes(log_dir: Path) -> list[tuple[str, int, bool]]:
    out = []
    for info in list_eval_logs(str(log_dir)):
        log = read_eval_log(info)
        out += [(str(s.id), s.epoch, s.error is not None) for s in log.samples or []]
    return out


def test_an_unpriced_model_is_refused_before_anything_starts(tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("prices:\n  - {model: 'openai/*', input: 1, output: 1}\n")
    r = _harness(tmp_path / "logs", "--budget", "1", "--prices", str(prices))
    assert r.returncode == 2 and "no price for peerwatch/exfiltrator" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "logs").exists()


@pytest.mark.sshd
@needs_host
@pytest.mark.timeout(900)
def test_harness_budget_stops_between_episodes_and_a_rerun_runs_only_the_rest(tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text(PRICES)
    logs = tmp_path / "logs"
    r = _harness(logs, "--budget", "0.01", "--prices", str(prices), "--rpm", "600")  # the first call crosses it
    assert r.returncode == 3, r.stdout[-3000:] + r.stderr[-3000:]
    assert "pace: 600 requests/min per model and $0.0100" in r.stdout
    assert "budget reached: $" in r.stdout and "of $0.0100, 2 episodes left" in r.stdout, r.stdout[-2000:]
    first = _episodes(logs)
    assert len(first) == 1 and not first[0][2]  # the running episode finished (and was judged), no other started
    r = _harness(logs, "--budget", "1000", "--prices", str(prices))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    keys = [(i, e) for i, e, _ in _episodes(logs)]
    assert len(keys) == 3 and len(set(keys)) == 3 and set(first) <= set(_episodes(logs))
