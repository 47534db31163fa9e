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
