"""Shards on a real Dask cluster into a real S3-compatible store, both started here on 127.0.0.1.

The store is moto's server mode (an HTTP S3 endpoint; s3fs talks to it over loopback exactly as to AWS), the cluster
a `distributed.LocalCluster` of worker processes. Runs go through the real `peerwatch` command.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from peerwatch.cli import app
from peerwatch.tasks._dask import forwarded_argv
from peerwatch.tasks._storage import is_url, join
from tests.s3_server import moto_s3

pytest.importorskip("moto")
pytest.importorskip("distributed")

PEERWATCH = [sys.executable, "-m", "peerwatch.cli"]
SLICE = ["-m", "peerwatch/reference", "-t", "tampering", "--subject", "peer", "--condition", "good_peer"]
runner = CliRunner()


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """A moto S3 server on a random loopback port, with a bucket; the environment points boto/s3fs at it (before
    the cluster starts: its worker processes inherit the environment)."""
    with moto_s3("study") as url:
        yield url


@pytest.fixture(scope="module")
def cluster(s3: str) -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as c:
        yield c.scheduler_address


def _run(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path("src").resolve()), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([*PEERWATCH, *args], env=env, capture_output=True, text=True, timeout=timeout)


def _eval_files(url: str) -> list[str]:
    import fsspec

    fs, path = fsspec.core.url_to_fs(url, use_listings_cache=False)
    return sorted(fs.glob(f"{path}/**/*.eval"))


def _report(log_dir: str, out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    r = runner.invoke(app, ["report", log_dir, "--out", str(out)])
    assert r.exit_code == 0, r.output
    samples = pd.read_csv(out / "samples.csv").drop(columns=["log", "created"])
    samples = samples.sort_values(["model", "config_id", "epoch"]).reset_index(drop=True)
    return samples, pd.read_csv(out / "results.csv")


def test_paths_keep_urls_whole() -> None:
    assert join("s3://b/p/", "shard-1-of-4") == "s3://b/p/shard-1-of-4"  # pathlib would give s3:/b/p/...
    assert join("logs", "x") == os.path.join("logs", "x")
    assert is_url("s3://b") and is_url("file:///tmp") and not is_url("logs/run") and not is_url("C:/logs")


def test_a_rerun_follows_the_shard_layout_left_on_shared_storage(s3: str) -> None:
    import fsspec

    from peerwatch.tasks._workers import resolve_workers, shard_dir

    fs, _ = fsspec.core.url_to_fs(s3, use_listings_cache=False)
    assert shard_dir(f"{s3}/layout", "2/4") == f"{s3}/layout/shard-2-of-4"
    assert resolve_workers(f"{s3}/layout", None, None, 1) == 1  # nothing there yet
    fs.pipe_file(f"{s3}/layout/shard-2-of-4/logs.json", b"{}")
    assert resolve_workers(f"{s3}/layout", None, None, 100) == 4
    assert resolve_workers(f"{s3}/layout", None, "1/2", 100) == 2


def test_a_cancelled_job_stops_its_process() -> None:
    from peerwatch.tasks._dask import wait_while_wanted

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    start = time.monotonic()
    calls = iter([True, False])
    code = wait_while_wanted(proc, lambda: next(calls), poll=0.2)
    assert time.monotonic() - start < 20 and proc.poll() is not None and code != 0
    done = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    assert wait_while_wanted(done, lambda: True, poll=0.2) == 3


def test_the_shard_jobs_get_every_option_the_user_set_and_nothing_the_executor_sets() -> None:
    import typer

    command = typer.main.get_command(app).commands["run"]  # type: ignore[attr-defined]
    values: dict[str, Any] = {p.name: p.default for p in command.params}
    values |= {"model": ["a/b", "c/d"], "epochs": 3, "model_arg": ["script=x.json"], "executor": "dask"}
    values |= {"shards": 4, "workers": 2, "log_dir": "s3://b/p", "scheduler": "tcp://h:1", "subject": []}
    argv = forwarded_argv(command.params, values)
    assert argv == ["--model", "a/b", "--model", "c/d", "--epochs", "3", "--model-arg", "script=x.json"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scheduler", "tcp://127.0.0.1:1"], "need --executor dask"),
        (["--executor", "dask"], "needs --scheduler"),
        (["--executor", "ray"], "--executor takes one of"),
        (["--executor", "dask-local", "--workers", "2"], "--workers is for the local executor"),
        (["--executor", "dask-local", "--guard", "default"], "--guard runs on one machine"),
        (["--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"], "cannot reach scheduler"),
    ],
)
def test_bad_executor_options_are_one_line_errors(args: list[str], message: str, tmp_path: Path) -> None:
    r = runner.invoke(app, ["run", *SLICE, "--epochs", "1", "--log-dir", str(tmp_path), *args])
    assert r.exit_code == 2 and message in r.output, r.output
    assert "Traceback" not in r.output


def test_an_unreachable_bucket_fails_before_any_sample(s3: str) -> None:
    r = runner.invoke(app, ["run", *SLICE, "--epochs", "1", "--log-dir", "s3://no-such-bucket/x"])
    assert r.exit_code == 2 and "not writable" in r.output, r.output
    r = runner.invoke(app, ["report", "s3://study/nothing-here"])
    assert r.exit_code == 2 and "log directory not found: s3://study/nothing-here" in r.output


@pytest.mark.timeout(1800)
def test_four_shards_on_a_cluster_into_s3_match_one_process(s3: str, cluster: str, tmp_path: Path) -> None:
    dist = f"{s3}/four-shards"
    start = time.monotonic()
    r = _run("run", *SLICE, "--epochs", "1", "--executor", "dask", "--scheduler", cluster, "--shards", "4",
             "--log-dir", dist)  # fmt: skip
    distributed_s = time.monotonic() - start
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert r.stdout.count(": ok in ") == 4 and "shards: 4/4 ok" in r.stdout and "samples: 9" in r.stdout
    files = _eval_files(dist)
    assert sorted({f.split("/")[-2] for f in files}) == [f"shard-{i}-of-4" for i in range(1, 5)]

    start = time.monotonic()
    one = _run("run", *SLICE, "--epochs", "1", "--workers", "1", "--log-dir", str(tmp_path / "one"))
    single_s = time.monotonic() - start
    assert one.returncode == 0, one.stdout[-3000:] + one.stderr[-3000:]
    print(f"\n4 shards on the Dask cluster: {distributed_s:.0f} s; one process: {single_s:.0f} s")

    merged_samples, merged_results = _report(dist, tmp_path / "merged")
    single_samples, single_results = _report(str(tmp_path / "one"), tmp_path / "single")
    assert len(merged_samples) == 9
    pd.testing.assert_frame_equal(merged_samples, single_samples)
    pd.testing.assert_frame_equal(merged_results, single_results)


@pytest.mark.timeout(1200)
def test_a_failed_shard_is_reported_the_others_kept_and_a_rerun_completes_it(s3: str, cluster: str) -> None:
    import fsspec

    dist = f"{s3}/one-fails"
    fs, _ = fsspec.core.url_to_fs(dist, use_listings_cache=False)
    fs.pipe_file(f"{dist}/shard-2-of-2/broken.eval", b"not a log")  # shard 2 refuses its log dir; shard 1 runs
    args = ["run", *SLICE, "--epochs", "1", "--limit", "2", "--executor", "dask", "--scheduler", cluster]
    r = _run(*args, "--shards", "2", "--log-dir", dist)
    assert r.returncode == 2, r.stdout[-3000:] + r.stderr[-3000:]  # the shard refused its input: one line, exit 2
    assert "shard 2/2 failed" in r.stderr and "not a readable Inspect log" in r.stderr
    assert "shards: 1/2 ok; failed: 2/2" in r.stdout
    kept = [f for f in _eval_files(dist) if not f.endswith("/broken.eval")]
    assert [f.split("/")[-2] for f in kept] == ["shard-1-of-2"]  # the shard that ran keeps its log

    fs.rm_file(f"{dist}/shard-2-of-2/broken.eval")
    again = _run(*args, "--shards", "2", "--log-dir", dist)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    after = _eval_files(dist)
    assert [f.split("/")[-2] for f in after] == ["shard-1-of-2", "shard-2-of-2"]
    assert [f for f in after if "/shard-1-of-2/" in f] == kept  # resumed: the finished shard did not run again
    assert "shards: 2/2 ok" in again.stdout
