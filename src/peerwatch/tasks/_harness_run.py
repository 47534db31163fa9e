"""Running harness mode from the command line: every check before the first sample, then its eval set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inspect_ai import Task, eval_set
from inspect_ai.log import EvalLog
from inspect_ai.model import Model

from peerwatch.harness import require_harness_host, server_factors
from peerwatch.oversight import channel_from_spec

from ._call_retries import count_call_retries
from ._guard import check_run, guard_paths
from ._harness import set_max_harness_episodes
from ._harness_plan import plan_harness
from ._interrupt import interrupts
from ._pace import PaceOptions, budget_reached, configure, spent, watch_rate_limits
from ._persona_model import check_replay_scripts
from ._run import check_log_dir, check_models, parse_model_args
from ._workers import RunOutcome


def prepare_harness(
    models: list[str],
    *,
    model_args: list[str] | None = None,
    agent: str = "opencode",
    config: list[str] | None = None,
    task_type: list[str] | None = None,
    subject: list[str] | None = None,
    condition: list[str] | None = None,
    instantiation: list[str] | None = None,
    limit: int | None = None,
    agent_timeout: float = 600,
    instruction_file: str | None = None,
    family: str | None = None,
    keep: bool = False,
    guard: str | None = None,
    audit: str | None = None,
    approvals: str | None = None,
    keystore: str | None = None,
    log_dir: str,
    epochs: int = 1,
) -> tuple[list[Task], list[Model], int, list[str]]:
    """The harness tasks of a run, checked before anything starts; returns (tasks, models, configurations, notes).

    A log dir holding earlier harness slices gets only the configurations none of them holds, beside the earlier
    slices the plan contains (resumed as they were); `notes` name earlier slices it holds part of that are unfinished
    (`plan_harness`). Raises PlanError for a log dir that is not peerwatch's or holds these at other epochs.

    Raises (one line each) HarnessError for a host that cannot run it, ScenarioError for a bad selection,
    ModelCheckError for a model or `-M` argument, ValueError for a bad script; anything else comes from the guard
    (a policy, store or channel problem) and must stop the run too (fail closed).
    """
    require_harness_host()
    check_log_dir(log_dir)
    factors = server_factors(config or [], task_type or [], subject or [], condition or [], instantiation or [])
    factors = factors[:limit]
    checked = check_models(models, parse_model_args(model_args))
    check_replay_scripts(checked, factors, shell=True)  # a script's typo fails before any sample starts
    options: dict[str, Any] = {}
    if guard:  # a protected class matching nothing in these worlds stops the run before its first sample
        check_run(guard, factors, models, family)
        channel_from_spec(approvals or "none")  # a bad channel is one line before anything is created
        audit, approvals = guard_paths(log_dir, audit, approvals)
        options = {"guard": guard, "audit": audit, "approvals": approvals, "keystore": keystore}
        options["run_dir"] = log_dir  # the key store must lie outside it
    own = {  # the arguments (and their order) of the harness task: its identity in the eval set
        "agent": agent,
        "config": [f.config_id for f in factors],
        "agent_timeout": agent_timeout,
        "instruction_file": instruction_file,
        "keep": keep,
        "family": family,
        "hide": [str(Path(log_dir).resolve())],  # earlier runs' logs hold answer keys
        **options,
    }
    tasks, notes = plan_harness(log_dir, own, own["config"], checked, epochs)
    return tasks, checked, len(factors), notes


def run_harness(
    tasks: list[Task],
    log_dir: str,
    models: list[Model],
    epochs: int,
    model_roles: dict[str, str | Model] | None = None,
    display: str | None = None,
    max_episodes: int = 1,
    pace: PaceOptions | None = None,
    outcome: RunOutcome | None = None,
) -> tuple[bool, list[EvalLog]]:
    """Run (or resume) the harness tasks in `log_dir`, `max_episodes` samples at once, each in a harness slot of its own
    (its own servers, agent user and workspace); one model at a time, so the slots a run takes are `max_episodes`.

    `pace` paces the agent's model calls (they reach Inspect through the model bridge, so the pacing hook sees every
    one) and stops the run at a budget as `peerwatch run` does: no new episode starts, running ones finish, and the
    same command run again resumes the rest. `outcome` (when given) receives the spend and whether it stopped.
    A Ctrl-C raises KeyboardInterrupt once Inspect has written what finished and every slot is cleaned (`interrupts`).
    """
    set_max_harness_episodes(max_episodes)
    configure(pace)
    watch_rate_limits(models)  # --rpm or not: 429s reach the pacer (without it, a limit is learned from them)
    if any(t.model is not None for t in tasks):
        models = models[:1]  # every task carries its model (the models' plans differ): one pass over them
    count_call_retries(True)  # each episode's retried model calls, into its log (`_call_retries`)
    try:
        with interrupts():
            success, logs = eval_set(
                tasks,
                log_dir=log_dir,
                log_dir_allow_dirty=True,  # other harness slices live here too; check_log_dir refused anything else
                model=models,
                model_roles=model_roles,
                epochs=epochs,
                max_samples=max_episodes,
                max_tasks=1,
                display=display,  # type: ignore[arg-type]
                fail_on_error=False,
                retry_attempts=1,
                retry_wait=1,
                score_display=False,  # as `peerwatch run` (see `run_study`): no live metrics recomputed per score
                log_level="warning",
            )
    finally:
        count_call_retries(False)
    if outcome is not None:
        outcome.spent, outcome.budget_reached = spent(), budget_reached()
    return (False, logs) if budget_reached() else (success, logs)
