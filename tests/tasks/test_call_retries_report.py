"""Provider call retries counted from the logs alone: `peerwatch report` gives the number the run's summary printed.

Every run here goes through the misbehaving loopback provider (tests/faulty_provider.py: 5xx, 429, malformed bodies,
resets, hangs) with the real `peerwatch` command. Each fault costs exactly one retried call attempt (by the provider's
SDK or by Inspect), so the provider's own count of faults on the samples' calls is the ground truth; the run's live
count (`provider faults retried: N call retries`) and the report's (samples.csv `call_retries`, the status table)
must both equal it - for one run with worker processes, for two `--shard` runs into one dir, for a guarded run with
an LLM judge, for a killed run and its resume, and for the same logs read from an S3-compatible store.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.faulty_provider import FaultyProvider
from tests.kill_between_flushes import kill_between_flushes

PEERWATCH = [sys.executable, "-m", "peerwatch.cli"]
SLICE = ["-t", "tampering", "--condition", "good_peer", "--subject", "peer"]
FAULTY = {"fault_rate": 0.2, "seed": 14, "hang_seconds": 4, "latency": 0.01, "jitter": 0.02}

pytestmark = pytest.mark.timeout(600)


def _env(provider: FaultyProvider) -> dict[str, str]:
    return dict(os.environ, FAULTY_BASE_URL=provider.base_url, FAULTY_API_KEY="test", COLUMNS="200", NO_COLOR="1")


def _run(provider: FaultyProvider, log_dir: Path, *args: str) -> tuple[int, str]:
    """`peerwatch run` as a user types it; returns (exit code, the live count of call retries it printed)."""
    cmd = [*PEERWATCH, "run", "-m", "openai-api/faulty/faulty", "--timeout", "2", "--log-dir", str(log_dir), *args]
    r = subprocess.run(cmd, env=_env(provider), capture_output=True, text=True, timeout=500)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("samples:"))
    found = re.search(r"([\d,]+) call retr", line)
    assert found, line
    return r.returncode, found.group(1).replace(",", "")


def _report(log_dir: str | Path, out: Path, env: dict[str, str] | None = None) -> tuple[pd.DataFrame, str]:
    r = subprocess.run([*PEERWATCH, "report", str(log_dir), "--out", str(out)], env=env or dict(os.environ),
                       capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return pd.read_csv(out / "samples.csv"), r.stdout


def _total(samples: pd.DataFrame) -> int:
    assert "call_retries" in samples.columns, list(samples.columns)
    assert samples["call_retries"].notna().all(), samples["call_retries"]  # every sample of a new log is known
    return int(samples["call_retries"].sum())


@pytest.mark.parametrize("provider", [FAULTY], indirect=True)
def test_the_report_counts_what_the_run_summary_counted_and_the_provider_served(
    provider: FaultyProvider, tmp_path: Path
) -> None:
    logs = tmp_path / "logs"
    _, live = _run(provider, logs, *SLICE, "--limit", "3", "--epochs", "2", "--workers", "2")
    faults = provider.counts["agent_faults"]
    assert faults >= 3, provider.counts  # the run really went through faults
    assert int(live) == faults, (live, provider.counts)
    samples, stdout = _report(logs, tmp_path / "report")
    assert len(samples) == 6 and _total(samples) == faults
    # Per model and task, in the report's status table (terminal and page).
    row = next(ln.split() for ln in stdout.splitlines() if "openai-api/faulty/faulty" in ln and "tampering" in ln)
    assert row[-1] == str(faults), row
    html = (tmp_path / "report" / "index.html").read_text()
    assert "call retries" in html and f"<td>{faults}</td>" in html.split("<h2>Excluded samples</h2>", 1)[1]

    # The same logs on an S3-compatible store (moto's server): the same count.
    from tests.s3_server import moto_s3

    with moto_s3("retries") as url:
        import fsspec

        fs = fsspec.filesystem("s3")
        for f in logs.rglob("*.eval"):
            fs.put_file(str(f), f"{url}/logs/{f.relative_to(logs)}")
        on_s3, _ = _report(f"{url}/logs", tmp_path / "s3-report", dict(os.environ))
    assert _total(on_s3) == faults


@pytest.mark.parametrize(
    "provider",
    [
        {**FAULTY, "fault_rate": 0.3, "faults": ("malformed_json", "hang")},  # retried by Inspect's loop (the hook)
        {**FAULTY, "fault_rate": 0.3, "faults": ("http_500", "http_503", "http_429", "reset")},  # by the SDK, hidden
    ],
    indirect=True,
    ids=["inspect-retries", "sdk-retries"],
)
def test_each_path_of_a_retry_is_counted_once(provider: FaultyProvider, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    _, live = _run(provider, logs, *SLICE, "--limit", "2", "--epochs", "2", "--workers", "1")
    samples, _ = _report(logs, tmp_path / "report")
    faults = provider.counts["agent_faults"]
    assert faults > 0 and _total(samples) == int(live) == faults, (live, provider.counts)
    assert not (samples["status"] == "error").any()


@pytest.mark.parametrize("provider", [FAULTY], indirect=True)
def test_two_shards_into_one_dir_sum_to_both_runs(provider: FaultyProvider, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    counts = []
    for shard in ("1/2", "2/2"):
        _, live = _run(provider, logs, *SLICE, "--limit", "4", "--epochs", "1", "--workers", "1", "--shard", shard)
        counts.append(int(live))
    samples, _ = _report(logs, tmp_path / "report")
    assert len(samples) == 4 and _total(samples) == sum(counts) == provider.counts["agent_faults"], provider.counts


@pytest.mark.parametrize("provider", [FAULTY], indirect=True)
def test_a_guarded_run_with_a_judge_counts_the_judges_retries_too(provider: FaultyProvider, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    _, live = _run(provider, logs, *SLICE, "--limit", "2", "--epochs", "2", "--guard", "default",
                   "--judge", "openai-api/faulty/faulty")  # fmt: skip
    samples, _ = _report(logs, tmp_path / "report")
    assert samples["model"].str.endswith("+guard").all()
    # The judge's calls (no tools) meet faults too: counted in the sample they judge, as the run counted them.
    assert _total(samples) == int(live) >= provider.counts["agent_faults"] > 0, (live, provider.counts)


@pytest.mark.parametrize("provider", [{**FAULTY, "fault_rate": 0.15, "latency": 0.15, "jitter": 0.1}], indirect=True)
def test_a_killed_run_and_its_resume_count_each_kept_sample_once(provider: FaultyProvider, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    selection = [*SLICE, "--limit", "4", "--epochs", "3", "--workers", "1", "--max-connections", "2",
                 "--log-buffer", "2"]  # fmt: skip
    cmd = [*PEERWATCH, "run", "-m", "openai-api/faulty/faulty", "--timeout", "2", "--log-dir", str(logs), *selection]
    proc = subprocess.Popen(cmd, env=_env(provider), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    kill = kill_between_flushes(proc, logs, 12, at_least=3)
    assert not kill.finished_before and 1 <= len(kill.written) < 12, kill.written
    _, live = _run(provider, logs, *selection)
    samples, _ = _report(logs, tmp_path / "report")
    assert len(samples) == 12
    # The samples kept from the killed run bring their own count; those it lost in flight were re-run (and counted)
    # by the resume, so the report lies between what the resume counted and every fault the provider served.
    assert int(live) <= _total(samples) <= provider.counts["agent_faults"], (live, provider.counts)


def test_logs_written_before_the_count_existed_read_as_unknown(tmp_path: Path) -> None:
    from inspect_ai import eval as inspect_eval
    from inspect_ai.log import read_eval_log, write_eval_log

    from peerwatch.scenarios import enumerate_factors
    from peerwatch.tasks._call_retries import count_call_retries
    from peerwatch.tasks._run import build_tasks, check_models

    logs = tmp_path / "logs"
    factors = enumerate_factors(task=["tampering"], dataset=None, instantiation=["memory"])[:3]
    count_call_retries(True)  # as a run does
    try:
        inspect_eval(build_tasks(factors), model=check_models(["peerwatch/reference"]), log_dir=str(logs), epochs=2,
                     display="none", log_level="error")  # fmt: skip
    finally:
        count_call_retries(False)
    [path] = list(logs.glob("*.eval"))
    log = read_eval_log(str(path))
    assert all(s.metadata.get("call_retries") == 0 for s in log.samples or [])  # a local model never retries
    for s in (log.samples or [])[:2]:  # as peerwatch wrote them before this field existed
        s.metadata.pop("call_retries")
    shutil.move(str(path), str(tmp_path / "new.eval"))
    write_eval_log(log, str(path))
    samples, stdout = _report(logs, tmp_path / "report")
    assert samples["call_retries"].isna().sum() == 2 and samples["call_retries"].sum() == 0
    assert "unknown" in stdout and "unknown" in (tmp_path / "report" / "index.html").read_text()
