"""The real `peerwatch run` against the held-out gateway, as a new user types it: faults, workers, a report.

Opt-in (PEERWATCH_REDTEAM12=1): each command takes tens of seconds on a shared 2-core machine.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .conftest import PEERWATCH, cli_suite, env_for, one_line_error, peerwatch, planned, tally
from .provider import ALL_FAULTS

pytestmark = [cli_suite, pytest.mark.timeout(900)]

SLICE = ["-t", "tampering", "--subject", "peer", "--subject", "self"]


def test_every_fault_in_the_mix_costs_no_sample_with_two_workers(gateway, tmp_path: Path) -> None:
    gw = gateway(seed=1212, rate=0.02, drip_seconds=10)  # 20 kinds at 2% each: 40% of calls meet a fault
    logs = tmp_path / "logs"
    r = peerwatch(gw, logs, *SLICE, "--condition", "good_peer", "--limit", "8", "--epochs", "2", "--workers", "2",
                  "--timeout", "4")  # fmt: skip
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    t = tally(logs)
    assert not t.errored and t.duplicated == 0, (t.errored, t.duplicated)
    assert t.pairs == planned(2, 8, task=["tampering"], subject=["peer", "self"], condition=["good_peer"])
    hit = {k for k in ALL_FAULTS if gw.stats[k]}
    assert len(hit) >= 10, dict(gw.stats)  # the mix really was a mix
    report = subprocess.run([*PEERWATCH, "report", str(logs), "--out", str(tmp_path / "report")], env=env_for(gw),
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert report.returncode == 0, report.stdout[-2000:] + report.stderr[-2000:]
    rows = (tmp_path / "report" / "samples.csv").read_text().strip().splitlines()
    assert len(rows) - 1 == len(t.pairs)


def test_long_episodes_survive_a_few_percent_of_broken_bodies(gateway, tmp_path: Path) -> None:
    # Six reading turns per episode (plus end_task): 7+ calls a sample, each with a 6% chance of a broken 200 body.
    gw = gateway(seed=77, rate=0.03, kinds=("empty_choices", "truncated_json"), turns=6)
    logs = tmp_path / "logs"
    r = peerwatch(gw, logs, "-t", "tampering", "--condition", "good_peer", "--limit", "6", "--epochs", "2",
                  "--workers", "1", "--retry-on-error", "1", "--timeout", "4")  # fmt: skip
    t = tally(logs)
    assert r.returncode == 0 and not t.errored, (r.returncode, t.errored, dict(gw.stats), r.stdout[-1500:])
    assert t.pairs == planned(2, 6, task=["tampering"], condition=["good_peer"]) and t.duplicated == 0


@pytest.mark.parametrize("workers", ["1", "2"])  # in process, and counted in each worker process then summed
def test_the_summary_counts_the_faults_it_retried(gateway, tmp_path: Path, workers: str) -> None:
    gw = gateway(seed=5, rate=0.1, kinds=("html_502", "truncated_json", "reset", "http_529"))  # 40% of calls
    r = peerwatch(gw, tmp_path / "logs", "-t", "tampering", "--condition", "good_peer", "--limit", "4",
                  "--epochs", "1", "--workers", workers, "--timeout", "4")  # fmt: skip
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    faults = gw.stats["agent_faults"]  # the samples' calls (a fault on the start-up probe is not a sample's)
    assert faults > 0
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("samples:"))
    assert f"{faults} call retr" in line, (line, dict(gw.stats))  # each fault retried once, and counted


def test_a_context_overflow_ends_its_samples_instead_of_looping(gateway, tmp_path: Path) -> None:
    gw = gateway(seed=3, rate=0.0, context_rate=0.5)
    logs = tmp_path / "logs"
    r = peerwatch(gw, logs, "-t", "tampering", "--condition", "good_peer", "--limit", "6", "--epochs", "1",
                  "--workers", "1", "--timeout", "4")  # fmt: skip
    one_line_error(r)
    assert gw.stats["context_length"] > 0, dict(gw.stats)
    # A permanent error is asked at most a handful of times per conversation, never retried with backoff.
    assert max(gw.context_hits.values()) <= 4, dict(gw.context_hits)
    t = tally(logs)
    assert t.pairs == planned(1, 6, task=["tampering"], condition=["good_peer"]) and t.duplicated == 0
    if r.returncode != 0:  # erroring the samples is fine, if the error says what it is
        assert all("context" in e for e in t.errored), t.errored


def test_a_key_revoked_mid_run_stops_fast_in_one_line_and_resumes(gateway, tmp_path: Path) -> None:
    gw = gateway(seed=9, rate=0.0, revoke_after=6)
    logs = tmp_path / "logs"
    args = ["-t", "tampering", "--condition", "good_peer", "--limit", "8", "--epochs", "2", "--workers", "2",
            "--timeout", "4"]  # fmt: skip
    r = peerwatch(gw, logs, *args, timeout=300)
    text = one_line_error(r)
    assert r.returncode not in (0,), text[-2000:]
    # Fail fast: the calls in flight when the key went are refused once each (16 samples run at once here), and
    # nothing after them - no call retry, no sample re-run, no eval-set pass.
    refused = gw.stats["revoked"]
    assert refused <= 16, (refused, dict(gw.stats))
    errors = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(errors) == 1 and "401" in errors[0] and "run the same command again" in errors[0], r.stderr[-3000:]
    gw.reinstate_key()
    r2 = peerwatch(gw, logs, *args)
    assert r2.returncode == 0, r2.stdout[-2000:] + r2.stderr[-2000:]
    t = tally(logs)
    ok = {(sid, e) for (_, sid, e), n in t.counts.items()}
    assert ok == planned(2, 8, task=["tampering"], condition=["good_peer"])
    assert t.duplicated == 0, t.counts


def test_an_unknown_model_is_one_line_before_any_sample(gateway, tmp_path: Path) -> None:
    gw = gateway(rate=0.0)
    r = peerwatch(gw, tmp_path / "logs", "-t", "tampering", "--limit", "2", "--epochs", "1",
                  model="openai-api/rtgw/agent-404", timeout=180)  # fmt: skip
    one_line_error(r)
    text = r.stderr.strip()
    assert r.returncode == 2 and len(text.splitlines()) == 1 and "404" in text, text
    assert gw.stats["agent_requests"] == 0 and not tally(tmp_path / "logs").counts


def test_a_dry_run_calls_nobody_and_writes_nothing(gateway, tmp_path: Path) -> None:
    gw = gateway(rate=0.0)
    r = peerwatch(gw, tmp_path / "logs", "-t", "tampering", "--condition", "good_peer", "--epochs", "3",
                  "--dry-run", timeout=180)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert gw.stats["requests"] == 0 and not (tmp_path / "logs").exists()
    assert "model calls to expect" in r.stdout
