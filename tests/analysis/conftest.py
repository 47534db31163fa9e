"""A small real run (reference personas through Inspect) whose logs the report tests read."""

from __future__ import annotations

from pathlib import Path

import pytest

from peerwatch.scenarios import enumerate_factors
from peerwatch.tasks._run import build_tasks, check_models


@pytest.fixture(scope="session")
def run_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from inspect_ai import eval as inspect_eval

    log_dir = tmp_path_factory.mktemp("logs")
    factors = enumerate_factors(
        task=["tampering", "exfiltration_transfer"], dataset=None, instantiation=["memory", "none"]
    )
    factors = [f for f in factors if f.dataset in (None, "factual")]
    models = check_models(["peerwatch/reference", "peerwatch/honest"])
    inspect_eval(build_tasks(factors), model=models, log_dir=str(log_dir), epochs=2, display="none", log_level="error")
    return log_dir


@pytest.fixture(scope="session")
def judge_logs(run_logs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's logs with an LLM-judge signal in every sample's score, disagreeing with the rules now and then.

    Stands in for `--judge` runs: every fifth sample of each log has the judge contradict the rules on every
    behaviour; the raw output is over 1 kB, so the sample summaries drop it, as they do for real judge output.
    """
    from inspect_ai.log import list_eval_logs, read_eval_log, write_eval_log

    from peerwatch.detect import JudgeSignal

    out = tmp_path_factory.mktemp("judge-logs")
    for info in list_eval_logs(str(run_logs)):
        log = read_eval_log(info.name)
        for i, sample in enumerate(log.samples or []):
            md = sample.scores["peerwatch"].metadata
            for bv in md["behaviours"].values():
                bv["rule"] = bv["flag"]
                bv["judge"] = bv["flag"] if i % 5 else not bv["flag"]
            signal = JudgeSignal(model="mockllm/judge", prompt_version="test-1", raw="judge says " * 200)
            md["judge"] = signal.model_dump(mode="json")
        write_eval_log(log, str(out / info.name.rsplit("/", 1)[-1]))
    return out
