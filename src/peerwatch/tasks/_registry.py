"""Entry point for Inspect (`[project.entry-points.inspect_ai]`): registers peerwatch's tasks and models."""

from ._harness import harness
from ._persona_model import peerwatch_models
from ._tasks import (
    alignment_faking,
    exfiltration_deletion,
    exfiltration_transfer,
    family_task,
    misrep_evaluation,
    misrep_finance,
    tampering,
)

__all__ = [
    "alignment_faking",
    "exfiltration_deletion",
    "exfiltration_transfer",
    "family_task",
    "harness",
    "misrep_evaluation",
    "misrep_finance",
    "peerwatch_models",
    "tampering",
]
