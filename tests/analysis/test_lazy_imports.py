"""`peerwatch.analysis` loads pandas, scipy, statsmodels and matplotlib on first use: a run's summary needs none."""

from __future__ import annotations

import subprocess
import sys

import pytest

import peerwatch.analysis as analysis

HEAVY = ("pandas", "scipy", "statsmodels", "matplotlib")


def test_the_run_summary_path_imports_no_table_stack() -> None:
    # What `peerwatch run` uses after its tasks (cli/_output.py), plus the tasks package a run has loaded anyway.
    code = (
        "import sys, peerwatch.tasks; "
        "from peerwatch.analysis import CONDITION_ORDER, RunHealth, count_samples, model_label, summary_rows; "
        f"print(sorted(m.split('.')[0] for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_every_exported_name_resolves() -> None:
    assert [n for n in analysis.__all__ if getattr(analysis, n, None) is None] == []


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        analysis.no_such_name  # noqa: B018
