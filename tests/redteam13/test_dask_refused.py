"""Shard jobs that exit 2 on their workers (red team 13): seen with `dask worker`s started without the provider's key
in their environment - the command said "some tasks did not complete; run the same command again to resume" and
exited 1, although a re-run alone cannot help. Now: one line naming the shards and their error, exit 2."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import peerwatch.tasks
from peerwatch.cli import app
from peerwatch.tasks import ShardOutcome

NO_KEY = "error: model 'openai-api/loop/loop-1': ERROR: Unable to initialise loop client No LOOP_API_KEY defined"


def _fake_dask(codes):
    def run_on_dask(argv, log_dir, *, executor, scheduler, shards, shard=None, on_done=None, on_start=None):
        outs = [
            ShardOutcome(shard=f"{i + 1}/{len(codes)}", log_dir=f"{log_dir}/shard-{i + 1}-of-{len(codes)}",
                         returncode=c, host="w1", tail=f"inspect_ai v0.3.285\n{NO_KEY}\n" if c else "")
            for i, c in enumerate(codes)
        ]  # fmt: skip
        for o in outs:
            if on_done:
                on_done(o)
        return outs

    return run_on_dask


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("codes", "exit_code"), [([2, 2], 2), ([0, 2], 2), ([1, 2], 1)])
def test_shards_refused_on_workers(tmp_path, monkeypatch, codes, exit_code):
    monkeypatch.setattr(peerwatch.tasks, "run_on_dask", _fake_dask(codes))
    args = ["run", "-m", "peerwatch/reference", "-t", "tampering", "--limit", "1", "--epochs", "1",
            "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1", "--shards", str(len(codes)),
            "--log-dir", str(tmp_path / "logs")]  # fmt: skip
    res = CliRunner().invoke(app, args, catch_exceptions=False)
    assert res.exit_code == exit_code, res.stdout + (res.stderr or "")
    if exit_code == 2:
        last = res.stderr.strip().splitlines()[-1]
        assert last.startswith("error: shard job(s)") and "LOOP_API_KEY" in last, res.stderr
        assert "run the same command again to resume" not in res.stdout
