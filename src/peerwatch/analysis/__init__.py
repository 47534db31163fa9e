"""Results you can publish: tidy samples, per-cell rates with intervals, the study's tables, plots, HTML report."""

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
from ._summary import CONDITION_ORDER, RunHealth, SummaryRow, count_samples, signatures, summary_rows

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
