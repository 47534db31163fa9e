"""The Inspect face of peerwatch: tasks (simulated and harness), tools, the agent loop, the scorer, the models.

Every Inspect task, solver, scorer and model provider lives here; other packages use Inspect only for what they
are about (`analysis` reads Inspect logs, `harness` serves Inspect model outputs to agent CLIs).
"""

from ._brains import script_brain
from ._cost import estimate, load_prices
from ._dask import ExecutorError, ShardOutcome, check_executor, forwarded_argv, run_on_dask, spawn_tied
from ._episode import current_scenario, episode_from_store, load_episode, save_episode, scenario_for
from ._guard import finish_guard_sessions, guard_paths, open_run_guard, refused_evaluations
from ._harness import HARNESS_KEY, harness, max_harness_episodes, open_guard, set_max_harness_episodes
from ._harness_run import prepare_harness, run_harness
from ._judge import grader_model, judge_now, run_llm_judge
from ._overlap import RunPlan, plan_logs, plan_run
from ._pace import PaceOptions
from ._pace_plan import budget_message, pace_line, pace_options, shard_pace
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
from ._rescore import RescoreError, rescore_dirs
from ._run import (
    FaultPolicy,
    ModelCheckError,
    PlanError,
    Selection,
    check_judge,
    check_models,
    grader_roles,
    parse_model_args,
    plan,
    planned_factors,
    run_limits,
    select,
    split_key_values,
)
from ._scorer import peerwatch_scorer, to_transcript
from ._solver import peerwatch_agent
from ._storage import StorageError, absolute, is_dir, is_remote
from ._tasks import TASKS, parse_shard, sample_for, study_task
from ._workers import (
    BUDGET_EXIT,
    RunOutcome,
    check_run_setup,
    resolve_workers,
    run_sharded,
    shard_dir,
    shard_logs,
    worker_shards,
)

__all__ = [
    "BUDGET_EXIT",
    "HARNESS_KEY",
    "TASKS",
    "ExecutorError",
    "FaultPolicy",
    "ModelCheckError",
    "PaceOptions",
    "PlanError",
    "RescoreError",
    "RunOutcome",
    "RunPlan",
    "ScriptPlayer",
    "Selection",
    "ShardOutcome",
    "StorageError",
    "absolute",
    "alignment_faking",
    "budget_message",
    "check_executor",
    "check_judge",
    "check_models",
    "check_run_setup",
    "current_scenario",
    "episode_from_store",
    "estimate",
    "exfiltration_deletion",
    "exfiltration_transfer",
    "family_task",
    "finish_guard_sessions",
    "forwarded_argv",
    "grader_model",
    "grader_roles",
    "guard_paths",
    "harness",
    "is_dir",
    "is_remote",
    "judge_now",
    "load_episode",
    "load_prices",
    "max_harness_episodes",
    "misrep_evaluation",
    "misrep_finance",
    "open_guard",
    "open_run_guard",
    "pace_line",
    "pace_options",
    "parse_model_args",
    "parse_shard",
    "peerwatch_agent",
    "peerwatch_models",
    "peerwatch_scorer",
    "plan",
    "plan_logs",
    "plan_run",
    "planned_factors",
    "prepare_harness",
    "refused_evaluations",
    "rescore_dirs",
    "resolve_workers",
    "run_harness",
    "run_limits",
    "run_llm_judge",
    "run_on_dask",
    "run_sharded",
    "sample_for",
    "save_episode",
    "scenario_for",
    "script_brain",
    "select",
    "set_max_harness_episodes",
    "shard_dir",
    "shard_logs",
    "shard_pace",
    "spawn_tied",
    "split_key_values",
    "study_task",
    "tampering",
    "to_transcript",
    "turns_of",
    "worker_shards",
]
