"""`--rpm` and `--budget` across shards: the whole run's, each shard keeping 1/n (by hand or as Dask jobs).

Shards on other machines share no lock file, so each keeps its share; the runs are checked on counts (429s per
admitted request, samples by id and epoch, exit codes), never on time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from peerwatch.tasks import pace_line, pace_options, shard_pace
from peerwatch.tasks._pace import PaceOptions
from tests.faulty_provider import FaultyProvider
from tests.tasks.test_faults import _run, _samples
from tests.tasks.test_pace import PRICES


def test_a_shard_keeps_its_share_of_the_rate_and_the_budget(tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text(PRICES)
    share = pace_options(120, 2.0, str(prices), ["openai-api/faulty/faulty"], "3/4")
    assert share is not None and share.rpm == 30 and share.budget == 0.5
    whole = pace_options(120, None, None, ["x/y"])
    assert whole is not None and whole.rpm == 120 and whole.budget is None
    assert pace_options(None, None, None, ["x/y"], "1/2") is None
    assert shard_pace(PaceOptions(budget=3.0), 3) == PaceOptions(budget=1.0)
    line = pace_line(share, 4, workers=2)
    assert line is not None and "--rpm 120 and --budget 2 divided over 4 shards" in line
    assert "30 requests/min" in line and "$0.5000" in line and "2 worker processes" in line
    assert pace_line(None, 4) is None


@pytest.mark.parametrize("provider", [{"fault_rate": 0.0, "rpm": 120, "latency": 0.05}], indirect=True)
def test_a_shard_run_by_hand_paces_to_its_share(provider: FaultyProvider, tmp_path: Path) -> None:
    # The provider allows 120/min; `--rpm 240` is the whole run's over two machines: this shard (and its two
    # worker processes, together) keeps 120. Keeping 240 would draw a 429 on about every other call.
    r = _run(provider, tmp_path / "logs", "-t", "tampering", "--limit", "4", "--epochs", "2", "--rpm", "240",
             "--shard", "1/2", "--workers", "2")  # fmt: skip
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "divided over 2 shards: this machine's shard keeps 120 requests/min per model" in r.stdout
    samples = _samples(tmp_path / "logs")
    assert len(samples) == 4 and not [s for s in samples if s[2]]
    admitted = len(provider.accepted)
    assert admitted >= 12, provider.counts
    assert provider.counts["http_429_rpm"] <= 0.05 * admitted, provider.counts


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("provider", [{"fault_rate": 0.0}], indirect=True)
def test_dask_shards_divide_the_budget_stop_with_exit_3_and_a_rerun_completes(
    provider: FaultyProvider, tmp_path: Path
) -> None:
    pytest.importorskip("distributed")
    prices = tmp_path / "prices.yaml"
    prices.write_text(PRICES)
    logs = tmp_path / "logs"
    cmd = ["-t", "tampering", "--limit", "6", "--epochs", "2", "--max-connections", "2", "--prices", str(prices),
           "--executor", "dask-local", "--shards", "2"]  # fmt: skip
    r = _run(provider, logs, *cmd, "--budget", "0.3", timeout=900)
    assert r.returncode == 3, r.stdout[-3000:] + r.stderr[-3000:]
    assert "--budget 0.30 divided over 2 shards" in r.stdout and "$0.1500" in r.stdout
    assert "stopped at their budget share" in r.stdout and "budget reached: $" in r.stdout
    first = _samples(logs)
    assert 0 < len(first) < 12 and not [s for s in first if s[2]]
    r = _run(provider, logs, *cmd, "--budget", "100", timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    keys = [(i, e) for i, e, _ in _samples(logs)]
    assert len(keys) == 12 and len(set(keys)) == 12  # the planned set: nothing lost, nothing run twice
