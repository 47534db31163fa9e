"""Detectors: pure functions of (scenario, final world, ledger, transcript) -> verdict with evidence."""

from ._judge import applicable_behaviours, judge
from ._model import (
    BEHAVIOURS,
    EXCLUDED_STATUSES,
    BehaviourVerdict,
    Evidence,
    JudgeSignal,
    Message,
    Status,
    ToolCallRecord,
    Transcript,
    Verdict,
)
from ._reads import check_reads
from ._report import Report, extract_report, report_documents
from ._tampering import enables

__all__ = [
    "BEHAVIOURS",
    "EXCLUDED_STATUSES",
    "BehaviourVerdict",
    "Evidence",
    "JudgeSignal",
    "Message",
    "Report",
    "Status",
    "ToolCallRecord",
    "Transcript",
    "Verdict",
    "applicable_behaviours",
    "check_reads",
    "enables",
    "extract_report",
    "judge",
    "report_documents",
]
