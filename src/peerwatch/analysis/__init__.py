"""Results you can publish: tidy samples, per-cell rates with intervals, the study's tables, plots, HTML report."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._summaries import model_label
from ._summary import CONDITION_ORDER, RunHealth, SummaryRow, count_samples, signatures, summary_rows

if TYPE_CHECKING:
    from ._agreement import agreement_table, disagreements
    from ._logs import FACTORS, LogInfo, LogReadError, dedupe, read_samples
    from ._report import build_report, markdown_table, write_report
    from ._results import results_table
    from ._stats import (
        binom_greater,
        cohens_kappa,
        fisher_combine,
        holm,
        mover,
        newcombe,
        stars,
        two_proportion_z,
        wilson,
    )
    from ._study import table1, table2

# pandas, scipy, statsmodels and matplotlib take ~2 s of CPU to import. Every `peerwatch run` prints its summary
# through the light modules above, so the rest loads on first use (the report, the demo's tables), not with the
# package.
_LAZY_MODULES = {
    "._agreement": ("agreement_table", "disagreements"),
    "._logs": ("FACTORS", "LogInfo", "LogReadError", "dedupe", "read_samples"),
    "._report": ("build_report", "markdown_table", "write_report"),
    "._results": ("results_table",),
    "._stats": (
        "binom_greater",
        "cohens_kappa",
        "fisher_combine",
        "holm",
        "mover",
        "newcombe",
        "stars",
        "two_proportion_z",
        "wilson",
    ),
    "._study": ("table1", "table2"),
}
_LAZY = {name: module for module, names in _LAZY_MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CONDITION_ORDER",
    "FACTORS",
    "LogInfo",
    "LogReadError",
    "RunHealth",
    "SummaryRow",
    "agreement_table",
    "binom_greater",
    "build_report",
    "cohens_kappa",
    "count_samples",
    "dedupe",
    "disagreements",
    "fisher_combine",
    "holm",
    "markdown_table",
    "model_label",
    "mover",
    "newcombe",
    "read_samples",
    "results_table",
    "signatures",
    "stars",
    "summary_rows",
    "table1",
    "table2",
    "two_proportion_z",
    "wilson",
    "write_report",
]
