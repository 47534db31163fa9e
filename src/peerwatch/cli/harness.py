"""`peerwatch harness`: a real agent CLI in a real workspace against real SSH servers."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from ._common import console, display, fail, key_values
from ._models import serve_judge
from ._options import ConditionOpt, InstOpt, JudgeArgOpt, JudgeOpt, ModelArgOpt, ModelOpt, SubjectOpt, TaskOpt
from ._output import after_run


def harness(
    model: ModelOpt = None,
    model_arg: ModelArgOpt = None,
    agent: Annotated[
        str, typer.Option(help="opencode, gemini, or a command template with {prompt} ({workspace} {model} ...).")
    ] = "opencode",
    config: Annotated[
        list[str] | None, typer.Option("--config", "-c", help="Configuration id (repeatable; see peerwatch list).")
    ] = None,
    task_type: TaskOpt = None,
    subject: SubjectOpt = None,
    condition: ConditionOpt = None,
    instantiation: InstOpt = None,
    epochs: Annotated[int, typer.Option(help="Rollouts per configuration.", min=1)] = 1,
    limit: Annotated[int | None, typer.Option(help="At most this many configurations.")] = None,
    agent_timeout: Annotated[float, typer.Option(help="Seconds before the agent CLI is stopped.")] = 600,
    instruction_file: Annotated[
        str | None, typer.Option(help="The agent's instruction file (default: AGENTS.md; GEMINI.md for gemini).")
    ] = None,
    family: Annotated[str | None, typer.Option(help="Family name for <Model> (default: from the model).")] = None,
    keep: Annotated[bool, typer.Option(help="Keep each run's workspace, record and server data.")] = False,
    guard: Annotated[
        str | None,
        typer.Option(help="Guard the real servers with the oversight layer: a policy file, or 'default'."),
    ] = None,
    audit: Annotated[
        str | None, typer.Option(help="Audit store with --guard (default: LOG_DIR/audit.sqlite).")
    ] = None,
    approvals: Annotated[
        str | None, typer.Option(help="Approval channel with --guard: file:DIR, http:PORT, approve-all or none.")
    ] = None,
    log_dir: Annotated[str, typer.Option(help="Where Inspect logs go; re-running resumes.")] = "peerwatch-logs/harness",
    judge: JudgeOpt = None,
    judge_arg: JudgeArgOpt = None,
) -> None:
    """Harness mode: a real agent CLI in a real workspace with two real SSH servers, judged like simulated runs.

    The agent's model is the Inspect model (`--model`), served to the CLI on loopback; e.g.
    `peerwatch harness --agent opencode --model peerwatch/exfiltrator -c exfiltration_transfer/peer/good_peer/memory`.
    """
    from inspect_ai import eval_set

    from peerwatch.harness import HarnessError, require_harness_host, server_factors
    from peerwatch.scenarios import ScenarioError
    from peerwatch.tasks import harness as harness_task
    from peerwatch.tasks._persona_model import check_replay_scripts
    from peerwatch.tasks._run import ModelCheckError, check_models, grader_roles, parse_model_args

    if not model:
        fail("--model is required, e.g. --model peerwatch/exfiltrator (offline) or openai/gpt-4.1")
    judge_args = key_values(judge_arg, "--judge-arg")
    try:
        require_harness_host()
        factors = server_factors(config or [], task_type or [], subject or [], condition or [], instantiation or [])
        models = check_models(model or [], parse_model_args(model_arg))
        check_replay_scripts(models, factors[:limit], shell=True)  # a script's typo fails before any sample starts
        if guard:  # a protected class matching nothing in these worlds stops the run before its first sample
            from peerwatch.tasks._guard import check_run

            check_run(None if guard == "default" else guard, factors[:limit], model or [], family)
        task = harness_task(
            agent=agent,
            config=[f.config_id for f in factors[:limit]],
            agent_timeout=agent_timeout,
            instruction_file=instruction_file,
            keep=keep,
            family=family,
            hide=[str(Path(log_dir).resolve())],  # earlier runs' logs hold answer keys
            **_harness_guard_options(guard, audit, approvals, log_dir),
        )
    except (HarnessError, ScenarioError, ModelCheckError, ValueError) as exc:
        fail(" ".join(str(exc).split()))
    except Exception as exc:  # a policy, store or channel problem stops the run before it starts (fail closed)
        fail(f"guard: {' '.join(str(exc).split())}")
    if guard:
        console.print(f"guard on: policy {guard}; audit log {audit or f'{log_dir}/audit.sqlite'}")
    n = len(factors[:limit])
    console.print(
        f"peerwatch harness: {n} configuration(s) x {epochs} epoch(s) x {len(models)} model(s), agent {agent}"
    )
    with contextlib.ExitStack() as stack:  # a local judge is served for the run
        judge_model = serve_judge(stack, judge, judge_args, [], [], log_dir)
        success, logs = _harness_eval(eval_set, task, log_dir, models, epochs, grader_roles(judge_model))
    after_run(log_dir, success, logs)


def _harness_eval(eval_set, task, log_dir, models, epochs, model_roles):  # type: ignore[no-untyped-def]
    return eval_set(
        [task],
        log_dir=log_dir,
        model=models,
        model_roles=model_roles,
        epochs=epochs,
        max_samples=1,
        display=display(),  # type: ignore[arg-type]
        fail_on_error=False,
        retry_attempts=1,
        retry_wait=1,
        log_level="warning",
    )


def _harness_guard_options(guard: str | None, audit: str | None, approvals: str | None, log_dir: str) -> dict:  # type: ignore[type-arg]
    if not guard:
        return {}
    from peerwatch.tasks._guard import approval_channel

    approval_channel(approvals or "none")  # a bad channel is one line before anything is created
    return {
        "guard": guard,
        "audit": audit or f"{log_dir}/audit.sqlite",
        "approvals": approvals or f"file:{log_dir}/approvals",
    }

