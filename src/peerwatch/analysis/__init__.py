"""Results you can publish: tidy samples, per-cell rates with intervals, the study's tables, plots, HTML report."""

from ._logs import FACTORS, LogInfo, dedupe, read_samples
from ._report import build_report, markdown_table, write_report
from ._results import results_table
from ._stats import binom_greater, fisher_combine, holm, newcombe, stars, two_proportion_z, wilson
from ._study import table1, table2

__all__ = [
    "FACTORS",
    "LogInfo",
    "binom_greater",
    "build_report",
    "dedupe",
    "fisher_combine",
    "holm",
    "markdown_table",
    "newcombe",
    "read_samples",
    "results_table",
    "stars",
    "table1",
    "table2",
    "two_proportion_z",
    "wilson",
    "write_report",
]
