"""The summaries read straight from the zips give the very table Inspect's own reader gives, on real logs.

Real logs of every shape a study leaves: finished runs, a judge run, a log with errored and unscored samples (written
by Inspect's writer, so its summaries are Inspect's), a log whose process was killed mid-run (only the journal, no
header or summaries.json), guarded and harness-labelled samples, the same logs on an S3-compatible store, and layouts
the fast path must refuse (it then falls back to Inspect's reader, never returns other rows).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from peerwatch.analysis import read_samples
from peerwatch.analysis._summaries import read_eval_zip
from peerwatch.detect import BEHAVIOURS
from tests.s3_server import moto_s3

_KILLED_RUN = """
import sys
from inspect_ai import eval as inspect_eval
from peerwatch.scenarios import enumerate_factors
from peerwatch.tasks._run import build_tasks, check_models

factors = enumerate_factors(task=["tampering"], dataset=None, instantiation=["memory"])[:6]
inspect_eval(build_tasks(factors), model=check_models(["peerwatch/reference"]), log_dir=sys.argv[1], epochs=8,
             max_samples=1, log_buffer=1, display="none", log_level="error")
"""


def _journal_count(path: Path) -> int:
    try:
        with zipfile.ZipFile(path) as z:
            return sum(n.startswith("_journal/summaries/") for n in z.namelist())
    except (OSError, zipfile.BadZipFile):
        return 0  # being written


@pytest.fixture(scope="module")
def killed_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real started log: the run's process gets SIGKILL once two journal chunks of summaries are on disk."""
    from inspect_ai.log import read_eval_log_sample_summaries

    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path("src").resolve()), os.environ.get("PYTHONPATH", "")]))
    for _ in range(3):  # a kill that lands mid-flush leaves a zip no reader opens: try again
        out = tmp_path_factory.mktemp("killed")
        proc = subprocess.Popen([sys.executable, "-c", _KILLED_RUN, str(out)], env=env)
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and proc.poll() is None:
                logs = list(out.glob("*.eval"))
                if logs and _journal_count(logs[0]) >= 2:
                    break
                time.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        logs = list(out.glob("*.eval"))
        if not logs:
            continue
        with zipfile.ZipFile(logs[0]) as z:
            assert "header.json" not in z.namelist(), "the run finished before it was killed"
        try:
            if read_eval_log_sample_summaries(str(logs[0])):
                return out
        except Exception:  # unreadable by Inspect too: kill again
            continue
    pytest.fail("no readable killed log in 3 attempts")


@pytest.fixture(scope="module")
def errored_logs(run_logs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run logs rewritten by Inspect with an errored sample, an unscored one, a guard and a harness label."""
    from inspect_ai.log import EvalError, EvalRetryError, read_eval_log, write_eval_log

    out = tmp_path_factory.mktemp("errored")
    for n, src in enumerate(sorted(run_logs.glob("*.eval"))[:2]):
        log = read_eval_log(str(src))
        samples = log.samples or []
        samples[0].error = EvalError(message="provider fault", traceback="tb", traceback_ansi="tb")
        samples[1].scores = None
        samples[2].metadata = {**samples[2].metadata, "guard": "default"}
        samples[3].metadata = {**samples[3].metadata, "mode": "harness", "agent": "shell  agent"}
        samples[4].error_retries = [EvalRetryError(message="HTTP 503", traceback="tb", traceback_ansi="tb")] * 2
        write_eval_log(log, str(out / f"{n}-{src.name}"))
    return out


def _both(dirs: list[str | Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    for d in dirs:  # the fast path itself read them, not its fallback
        assert all(read_eval_zip(str(f)) is not None for f in Path(d).rglob("*.eval")) if isinstance(d, Path) else True
    fast, fast_infos = read_samples(dirs)
    slow, slow_infos = read_samples(dirs, inspect_reader=True)
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    assert list(fast.dtypes) == list(slow.dtypes)
    assert [i.model_dump() for i in fast_infos] == [i.model_dump() for i in slow_infos]
    return fast, slow


@pytest.mark.parametrize("workers", [1, 2])
def test_fast_reader_matches_inspect_on_run_and_judge_logs(run_logs: Path, judge_logs: Path, workers: int) -> None:
    fast, _ = _both([run_logs, judge_logs])
    assert len(fast) > 0 and (fast["status"] == "ok").all()
    assert fast["judge_model"].eq("mockllm/judge").any()
    again, _ = read_samples([run_logs, judge_logs], workers=workers)
    pd.testing.assert_frame_equal(fast, again, check_exact=True)


def test_fast_reader_matches_inspect_on_errored_guarded_and_harness_samples(errored_logs: Path) -> None:
    fast, _ = _both([errored_logs])
    assert (fast["status"] == "error").sum() == 4  # an errored and an unscored sample in each of two logs
    assert fast["model"].str.endswith("+guard").any() and fast["model"].str.contains("harness: shell agent").any()
    assert fast["retries"].sum() == 4 and (fast["retries"] == 2).sum() == 2  # two re-runs of one sample per log


def test_report_counts_the_re_runs_per_model_and_task(errored_logs: Path, tmp_path: Path) -> None:
    from peerwatch.analysis import build_report

    samples, infos = read_samples([errored_logs])
    html = build_report(samples, infos, tmp_path).read_text()
    assert "<th>re-runs</th>" in html
    assert int(samples["retries"].sum()) == 4
    table = html.split("<th>re-runs</th>", 1)[1].split("</table>", 1)[0]
    assert "<td>2</td><td>unknown</td></tr>" in table  # re-run twice; call retries: not counted outside a run


def test_fast_reader_matches_inspect_on_a_killed_run(killed_log: Path) -> None:
    fast, _ = _both([killed_log])
    _, infos = read_samples([killed_log])
    assert [i.status for i in infos] == ["started"] and len(fast) >= 2


def _rewrite(src: Path, dst: Path, edit: dict[str, bytes | None]) -> None:
    """A copy of a zip with some members replaced (bytes) or dropped (None)."""
    import inspect_ai.log  # noqa: F401 - zstd members

    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as w:
        for name in z.namelist():
            if name in edit:
                if edit[name] is not None:
                    w.writestr(name, edit[name])  # type: ignore[arg-type]
            else:
                w.writestr(name, z.read(name))


@pytest.mark.parametrize(
    "edit",
    [
        {"header.json": None, "summaries.json": None, "_journal/summaries/1.json": None},  # a journal gap: 2.. only
        {"summaries.json": b'[{"id": 1.5, "epoch": 1}]'},  # an id Inspect would coerce
        {"summaries.json": b'{"not": "a list"}'},  # Inspect raises: so must the table
        {"summaries.json": b'[{"id": "a", "epoch": 1, "input": "", "target": "", "scores": {"peerwatch": {}}}]'},
        {"summaries.json": b'[{"id": "a", "epoch": 1, "input": "", "target": "", "metadata": null}]'},
    ],
)
def test_unexpected_layouts_are_read_as_inspect_reads_them(run_logs: Path, tmp_path: Path, edit: dict) -> None:
    src = next(run_logs.glob("*.eval"))
    _rewrite(src, tmp_path / src.name, edit)
    try:
        expected = read_samples([tmp_path], inspect_reader=True)
    except Exception as e:  # whatever Inspect's reader says, the fast path says too
        with pytest.raises(type(e)):
            read_samples([tmp_path])
        return
    pd.testing.assert_frame_equal(read_samples([tmp_path])[0], expected[0], check_exact=True)


@pytest.fixture(scope="module")
def s3_logs(run_logs: Path, errored_logs: Path, killed_log: Path) -> Iterator[str]:
    """The logs on a moto S3 server (loopback); the environment points s3fs and Inspect at it."""
    pytest.importorskip("moto")
    import fsspec

    with moto_s3("logs") as url:
        fs = fsspec.filesystem("s3", skip_instance_cache=True)
        for d in (run_logs, errored_logs, killed_log):
            for f in d.glob("*.eval"):
                fs.put_file(str(f), f"logs/{d.name}/{f.name}")
        yield url


def test_fast_reader_matches_inspect_on_s3(
    s3_logs: str, run_logs: Path, errored_logs: Path, killed_log: Path, tmp_path: Path
) -> None:
    fast, _ = _both([s3_logs])
    for d in (run_logs, errored_logs, killed_log):
        shutil.copytree(d, tmp_path / d.name, ignore=shutil.ignore_patterns("*.json", ".*"))
    local, _ = read_samples([tmp_path])
    key = ["model", "config_id", "epoch", "status", *BEHAVIOURS]
    pd.testing.assert_frame_equal(fast[key], local[key], check_exact=True)
