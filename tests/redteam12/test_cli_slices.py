"""Slices, epochs and kill -9 into one log dir, as a new user would: the logs hold exactly the planned set, once.

Opt-in (PEERWATCH_REDTEAM12=1).
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest

from .conftest import cli_suite, one_line_error, peerwatch, planned, start_peerwatch, tally

pytestmark = [cli_suite, pytest.mark.timeout(1200)]

# Three configurations per condition (one per dataset): small slices that still differ.
BASE = ["-t", "tampering", "--subject", "peer", "--instantiation", "file_only"]
MIX = {"rate": 0.01, "drip_seconds": 8}


def _sel(*conditions: str) -> dict[str, list[str]]:
    return {"task": ["tampering"], "subject": ["peer"], "instantiation": ["file_only"], "condition": list(conditions)}


def _cond(*conditions: str) -> list[str]:
    return [a for c in conditions for a in ("--condition", c)]


def test_two_slices_then_their_union_then_a_rerun(gateway, tmp_path: Path) -> None:
    gw = gateway(seed=21, **MIX)
    logs = tmp_path / "logs"
    common = ["--epochs", "2", "--workers", "2", "--timeout", "4"]
    for cond in ("good_peer", "neutral_peer"):
        r = peerwatch(gw, logs, *BASE, *_cond(cond), *common)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    t = tally(logs)
    assert t.pairs == planned(2, **_sel("good_peer", "neutral_peer")) and t.duplicated == 0
    before = gw.stats["agent_requests"]
    union = peerwatch(gw, logs, *BASE, *_cond("good_peer", "neutral_peer"), *common)
    t = tally(logs)
    assert t.duplicated == 0, f"the union re-ran {t.duplicated} finished samples (exit {union.returncode})"
    assert union.returncode in (0, 2), union.stdout[-2000:]
    assert t.pairs == planned(2, **_sel("good_peer", "neutral_peer"))
    again = peerwatch(gw, logs, *BASE, *_cond("good_peer"), *common)
    assert again.returncode == 0 and tally(logs).duplicated == 0
    if union.returncode == 0:
        assert gw.stats["agent_requests"] == before, "a re-run of finished slices called the model again"


def test_changing_epochs_into_the_same_dir_is_an_error_or_runs_the_difference(gateway, tmp_path: Path) -> None:
    gw = gateway(seed=22, **MIX)
    logs = tmp_path / "logs"
    r = peerwatch(gw, logs, *BASE, *_cond("good_peer"), "--epochs", "1", "--workers", "1", "--timeout", "4")
    assert r.returncode == 0, r.stdout[-2000:]
    calls = gw.stats["agent_requests"]
    r2 = peerwatch(gw, logs, *BASE, *_cond("good_peer"), "--epochs", "2", "--workers", "1", "--timeout", "4")
    t = tally(logs)
    assert t.duplicated == 0, f"--epochs 2 re-ran epoch 1 ({t.duplicated} duplicates, exit {r2.returncode})"
    if r2.returncode == 2:  # refused: one line, nothing ran
        text = one_line_error(r2)
        assert len(text.splitlines()) == 1 and "epoch" in text, text
        assert gw.stats["agent_requests"] == calls
    else:  # ran the difference
        assert r2.returncode == 0 and t.pairs == planned(2, **_sel("good_peer")), r2.stdout[-2000:]
        assert gw.stats["agent_requests"] > calls, "--epochs 2 after --epochs 1 was a silent no-op"


def test_kill_9_at_random_moments_then_a_rerun_leaves_the_planned_set(gateway, tmp_path: Path) -> None:
    gw = gateway(seed=23, **MIX)
    logs = tmp_path / "logs"
    args = [*BASE, *_cond("good_peer", "neutral_peer"), "--epochs", "2", "--workers", "2", "--timeout", "4"]
    rng = random.Random(1223)
    for _ in range(2):
        proc = start_peerwatch(gw, logs, *args)
        start = gw.stats["agent_requests"]
        deadline = time.monotonic() + 240
        # Kill once the agents are talking (past start-up), at a random point of the run.
        while gw.stats["agent_requests"] < start + rng.randint(2, 14) and time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        time.sleep(rng.random() * 2)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    r = peerwatch(gw, logs, *args)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    t = tally(logs)
    assert t.duplicated == 0 and not t.errored, (t.duplicated, t.errored)
    assert t.pairs == planned(2, **_sel("good_peer", "neutral_peer"))


def test_a_second_run_into_a_busy_log_dir_is_one_line(gateway, tmp_path: Path) -> None:
    gw = gateway(seed=24, rate=0.0, latency=0.3)  # slow answers: the first run is still going
    logs = tmp_path / "logs"
    args = [*BASE, *_cond("good_peer"), "--epochs", "2", "--workers", "1", "--timeout", "4"]
    first = start_peerwatch(gw, logs, *args)
    try:
        deadline = time.monotonic() + 240
        while gw.stats["agent_requests"] < 2 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.05)
        second = peerwatch(gw, logs, *args, timeout=300)
        if first.poll() is None:  # the first run was still writing: the second must have been refused
            assert second.returncode == 2 and "another peerwatch run" in second.stderr, second.stderr[-2000:]
            assert len(second.stderr.strip().splitlines()) == 1
    finally:
        if first.poll() is None:
            first.wait(timeout=600)
    assert first.returncode == 0
    assert peerwatch(gw, logs, *args).returncode == 0
    t = tally(logs)
    assert t.duplicated == 0 and not t.errored and t.pairs == planned(2, **_sel("good_peer"))
