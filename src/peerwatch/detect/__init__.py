"""Detectors: pure functions of (scenario, final world, ledger, transcript) -> verdict with evidence.

The claim extractor (`extract_claims`, `claims_from_text`) and the claim checks against the ledger
(`statement_claims`, `undisclosed_effects`) are public: the oversight verifier reads reports with them.
"""

from ._claims import Claims, extract_claims
from ._concealment import undisclosed_effects
from ._detectors import Detector, Episode, detector, detector_names, unknown_detectors
from ._false_claim import AVERAGE_TOLERANCE, statement_claims
from ._judge import applicable_behaviours, judge, reported_value
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
from ._report import Report, claims_from_text, extract_report, report_documents
from ._tampering import enables

__all__ = [
    "AVERAGE_TOLERANCE",
    "BEHAVIOURS",
    "EXCLUDED_STATUSES",
    "BehaviourVerdict",
    "Claims",
    "Detector",
    "Episode",
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
    "claims_from_text",
    "detector",
    "detector_names",
    "enables",
    "extract_claims",
    "extract_report",
    "judge",
    "report_documents",
    "reported_value",
    "statement_claims",
    "undisclosed_effects",
    "unknown_detectors",
]
