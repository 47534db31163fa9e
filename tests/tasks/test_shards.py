"""Shards partition the plan deterministically; worker processes run them into one log dir's shard folders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from peerwatch.cli import app
from peerwatch.tasks._run import Selection, build_tasks
from peerwatch.tasks._tasks import parse_shard
from peerwatch.tasks._workers import shard_dir, worker_shards

runner = CliRunner()


def _ids(shard: str | None) -> list[str]:
    return [
        str(s.id) for t in build_tasks(Selection(task=["tampering", "misrep_finance"]), shard=shard) for s in t.dataset
    ]


def test_shards_partition_the_plan_and_workers_compose_with_machine_shards() -> None:
    whole = _ids(None)
    parts = [_ids(f"{i}/4") for i in range(1, 5)]
    assert sorted(i for part in parts for i in part) == sorted(whole)  # every configuration once
    assert all(parts) and max(map(len, parts)) - min(map(len, parts)) <= 2  # balanced, every shard has work
    assert _ids("2/4") == _ids("2/4")  # deterministic
    # two machines with two workers each run exactly the four shards of a 4-way split
    specs = worker_shards("1/2", 2) + worker_shards("2/2", 2)
    assert sorted(specs, key=lambda s: int(s.split("/")[0])) == ["1/4", "2/4", "3/4", "4/4"]
    assert worker_shards(None, 1) == [None] and shard_dir("logs", None) == "logs"
    assert shard_dir("logs", "3/4") == str(Path("logs") / "shard-3-of-4")


@pytest.mark.parametrize("bad", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_bad_shard_specs(bad: str) -> None:
    with pytest.raises(ValueError, match="--shard takes i/n"):
        parse_shard(bad)
    r = runner.invoke(app, ["run", "-m", "peerwatch/honest", "--shard", bad, "--dry-run"])
    assert r.exit_code == 2 and "--shard takes i/n" in r.output


def test_two_workers_run_the_planned_set_once_and_resume(tmp_path: Path) -> None:
    from peerwatch.analysis import read_samples

    args = ["run", "-m", "peerwatch/tamperer", "-t", "tampering", "--subject", "peer", "--condition", "good_peer"]
    args += ["--epochs", "1", "--workers", "2", "--log-dir", str(tmp_path)]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["shard-1-of-2", "shard-2-of-2"]
    samples, _ = read_samples([tmp_path])
    expected = _tampering_good_peer_ids()
    assert sorted(samples["config_id"]) == expected
    files = sorted(tmp_path.rglob("*.eval"))
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and sorted(tmp_path.rglob("*.eval")) == files  # nothing ran twice


def _tampering_good_peer_ids() -> list[str]:
    sel = Selection(task=["tampering"], subject=["peer"], condition=["good_peer"])
    return sorted(str(s.id) for t in build_tasks(sel) for s in t.dataset)


def test_default_workers_follow_the_layout_a_previous_run_left(tmp_path: Path) -> None:
    from peerwatch.tasks._workers import default_workers, resolve_workers

    assert resolve_workers(str(tmp_path), 3, None, 100) == 3  # asked for
    assert resolve_workers(str(tmp_path), None, None, 1) == 1  # no more workers than configurations
    assert resolve_workers(str(tmp_path), None, None, 100) == min(default_workers(), 100)
    (tmp_path / "shard-2-of-4").mkdir()
    assert resolve_workers(str(tmp_path), None, None, 100) == 4  # resume as it was split
    assert resolve_workers(str(tmp_path), None, "1/2", 100) == 2
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "x.eval").write_bytes(b"")
    assert resolve_workers(str(flat), None, None, 100) == 1


def test_the_dry_run_plans_exactly_what_the_tasks_run() -> None:
    from peerwatch.tasks._run import planned_factors

    sel = Selection(task=["tampering", "misrep_finance"])
    for limit, shard in [(None, None), (5, None), (None, "2/3"), (7, "1/2")]:
        planned = sorted(f.config_id for f in planned_factors(sel, limit, shard))
        run = sorted(str(s.id) for t in build_tasks(sel, limit=limit, shard=shard) for s in t.dataset)
        assert planned == run
    whole = runner.invoke(app, ["run", "-m", "peerwatch/honest", "-t", "tampering", "--epochs", "1", "--dry-run"])
    half = runner.invoke(app, ["run", "-m", "peerwatch/honest", "-t", "tampering", "--epochs", "1", "--dry-run",
                               "--shard", "1/2"])  # fmt: skip
    assert whole.exit_code == half.exit_code == 0
    row = r"peerwatch/honest\s*│\s*{}\s*│"  # the cost table's samples column
    assert re.search(row.format(111), whole.output) and re.search(row.format(56), half.output), half.output
