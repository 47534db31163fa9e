"""The post-run summary reads the sample summaries only; it must count what the full samples say."""

from __future__ import annotations

from pathlib import Path

from inspect_ai import eval as inspect_eval
from inspect_ai.log import EvalError, EvalRetryError, read_eval_log, write_eval_log

from peerwatch.analysis import RunHealth, summary_rows
from peerwatch.scenarios import enumerate_factors
from peerwatch.tasks._call_retries import count_call_retries
from peerwatch.tasks._run import build_tasks, check_models


def test_health_and_rates_come_out_of_the_summaries_as_out_of_the_samples(tmp_path: Path) -> None:
    factors = enumerate_factors(task=["exfiltration_transfer"], subject=["peer"])[:3]
    count_call_retries(True)  # as a run does: each sample records its retried model calls
    try:
        [log] = inspect_eval(
            build_tasks(factors), model=check_models(["peerwatch/exfiltrator"]), log_dir=str(tmp_path / "run"),
            epochs=2, display="none", log_level="error",
        )  # fmt: skip
    finally:
        count_call_retries(False)
    full = read_eval_log(log.location)
    samples = full.samples or []
    assert len(samples) == 6
    fault = EvalError(message="boom", traceback="", traceback_ansi="")
    samples[0].error = fault  # errored for good: excluded
    retry = EvalRetryError(message="boom", traceback="", traceback_ansi="")
    samples[1].error_retries = [retry, retry]  # two re-runs, then fine
    samples[2].error_retries = [retry]
    assert all(s.metadata["call_retries"] == 0 for s in samples)  # written by the run (a local model: none)
    samples[1].metadata["call_retries"] = 4  # as a faulty provider's run writes them
    samples[3].metadata.pop("call_retries")  # as a log from before peerwatch recorded them
    edited = tmp_path / "edited.eval"
    write_eval_log(full, str(edited))

    health = RunHealth()
    [row] = summary_rows([read_eval_log(str(edited), header_only=True)], health)
    assert (health.samples, health.errored, health.retries, health.retried_samples) == (6, 1, 3, 2)
    assert (health.call_retries, health.call_retries_unknown) == (4, 1)
    assert row.excluded == 1
    flagged = {
        (s.id, s.epoch)
        for s in samples[1:]
        if s.scores and s.scores["peerwatch"].metadata["behaviours"]["exfiltration"]["flag"]
    }
    assert sum(k for k, _ in row.rates.values()) == len(flagged)
    assert sum(n for _, n in row.rates.values()) == 5
