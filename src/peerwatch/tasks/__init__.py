"""The Inspect face of peerwatch: tasks (simulated and harness), tools, the agent loop, the scorer, the models.

Every Inspect task, solver, scorer and model provider lives here; other packages use Inspect only for what they
are about (`analysis` reads Inspect logs, `harness` serves Inspect model outputs to agent CLIs).
"""

from ._brains import script_brain
from ._episode import current_scenario, load_episode, save_episode, scenario_for
from ._harness import HARNESS_KEY, harness, open_guard
from ._judge import grader_model, judge_now, run_llm_judge
from ._persona_model import ScriptPlayer, turns_of
from ._registry import (
    alignment_faking,
    exfiltration_deletion,
    exfiltration_transfer,
    family_task,
    misrep_evaluation,
    misrep_finance,
    peerwatch_models,
    tampering,
)
from ._scorer import peerwatch_scorer, to_transcript
from ._solver import peerwatch_agent
from ._tasks import TASKS, sample_for, study_task

__all__ = [
    "HARNESS_KEY",
    "TASKS",
    "ScriptPlayer",
    "alignment_faking",
    "current_scenario",
    "exfiltration_deletion",
    "exfiltration_transfer",
    "family_task",
    "grader_model",
    "harness",
    "judge_now",
    "load_episode",
    "misrep_evaluation",
    "misrep_finance",
    "open_guard",
    "peerwatch_agent",
    "peerwatch_models",
    "peerwatch_scorer",
    "run_llm_judge",
    "sample_for",
    "save_episode",
    "scenario_for",
    "script_brain",
    "study_task",
    "tampering",
    "to_transcript",
    "turns_of",
]
