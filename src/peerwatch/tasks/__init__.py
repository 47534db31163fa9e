"""The Inspect face of peerwatch: tasks, tools, the agent loop, the scorer and the reference-agent models.

This is the only package that imports `inspect_ai`.
"""

from ._episode import current_scenario, load_episode, save_episode, scenario_for
from ._judge import grader_model, judge_now, run_llm_judge
from ._persona_model import ScriptPlayer, turns_of
from ._registry import (
    alignment_faking,
    exfiltration_deletion,
    exfiltration_transfer,
    misrep_evaluation,
    misrep_finance,
    peerwatch_models,
    tampering,
)
from ._scorer import peerwatch_scorer, to_transcript
from ._solver import peerwatch_agent
from ._tasks import TASKS, sample_for, study_task

__all__ = [
    "TASKS",
    "ScriptPlayer",
    "alignment_faking",
    "current_scenario",
    "exfiltration_deletion",
    "exfiltration_transfer",
    "grader_model",
    "judge_now",
    "load_episode",
    "misrep_evaluation",
    "misrep_finance",
    "peerwatch_agent",
    "peerwatch_models",
    "peerwatch_scorer",
    "run_llm_judge",
    "sample_for",
    "save_episode",
    "scenario_for",
    "study_task",
    "tampering",
    "to_transcript",
    "turns_of",
]
