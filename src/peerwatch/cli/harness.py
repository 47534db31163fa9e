"""`peerwatch harness`: a real agent CLI in a real workspace against real SSH servers."""

from __future__ import annotations

import contextlib
import time
from typing import Annotated

import typer

from ._common import INTERRUPTED, console, display, err, fail, interrupted_exit, key_values
from ._models import serve_judge
from ._options import (
    ApprovalsOpt,
    BudgetOpt,
    ConditionOpt,
    InstOpt,
    JudgeArgOpt,
    JudgeOpt,
    KeystoreOpt,
    ModelArgOpt,
    ModelOpt,
    PricesOpt,
    RpmOpt,
    SubjectOpt,
    TaskOpt,
)
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
    limit: Annotated[int | None, typer.Option(help="At most this many configurations.", min=1)] = None,
    agent_timeout: Annotated[float, typer.Option(help="Seconds before the agent CLI is stopped.")] = 600,
    instruction_file: Annotated[
        str | None, typer.Option(help="The agent's instruction file (default: AGENTS.md; GEMINI.md for gemini).")
    ] = None,
    family: Annotated[str | None, typer.Option(help="Family name for <Model> (default: from the model).")] = None,
    keep: Annotated[bool, typer.Option(help="Keep each run's workspace, record and server data.")] = False,
    guard: Annotated[
        str | None,
        typer.Option(help="Guard the real servers with the oversight layer: a policy file, 'default' or 'production'."),
    ] = None,
    audit: Annotated[
        str | None, typer.Option(help="Audit store with --guard (default: LOG_DIR/audit.sqlite).")
    ] = None,
    approvals: ApprovalsOpt = None,
    keystore: KeystoreOpt = None,
    log_dir: Annotated[str, typer.Option(help="Where Inspect logs go; re-running resumes.")] = "peerwatch-logs/harness",
    judge: JudgeOpt = None,
    judge_arg: JudgeArgOpt = None,
    max_episodes: Annotated[
        int | None, typer.Option(help="Episodes at once, each in its own slot (default: the cores).", min=1, max=16)
    ] = None,
    rpm: RpmOpt = None,
    budget: BudgetOpt = None,
    prices: PricesOpt = None,
) -> None:
    """Harness mode: a real agent CLI in a real workspace with two real SSH servers, judged like simulated runs.

    The agent's model is the Inspect model (`--model`), served to the CLI on loopback; e.g.
    `peerwatch harness --agent opencode --model peerwatch/exfiltrator -c exfiltration_transfer/peer/good_peer/memory`.
    """
    from peerwatch.harness import HarnessError, default_episodes
    from peerwatch.scenarios import ScenarioError
    from peerwatch.tasks import (
        BUDGET_EXIT,
        ModelCheckError,
        RunOutcome,
        budget_message,
        grader_roles,
        guard_paths,
        pace_line,
        pace_options,
        prepare_harness,
        run_harness,
    )

    if not model:
        fail("--model is required, e.g. --model peerwatch/exfiltrator (offline) or openai/gpt-4.1")
    judge_args = key_values(judge_arg, "--judge-arg")
    try:
        pace = pace_options(rpm, budget, prices, model)  # a model without a price is refused before anything starts
    except ValueError as exc:
        fail(str(exc))
    try:
        tasks, models, n, notes = prepare_harness(
            model,
            model_args=model_arg,
            agent=agent,
            config=config,
            task_type=task_type,
            subject=subject,
            condition=condition,
            instantiation=instantiation,
            limit=limit,
            agent_timeout=agent_timeout,
            instruction_file=instruction_file,
            family=family,
            keep=keep,
            guard=guard,
            audit=audit,
            approvals=approvals,
            keystore=keystore,
            log_dir=log_dir,
            epochs=epochs,
        )
    except (HarnessError, ScenarioError, ModelCheckError, ValueError) as exc:
        fail(" ".join(str(exc).split()))
    except Exception as exc:  # a policy, store or channel problem stops the run before it starts (fail closed)
        fail(f"guard: {' '.join(str(exc).split())}")
    if guard:
        console.print(f"guard on: policy {guard}; audit log {guard_paths(log_dir, audit, approvals)[0]}")
    console.print(
        f"peerwatch harness: {n} configuration(s) x {epochs} epoch(s) x {len(models)} model(s), agent {agent}"
    )
    for note in notes:  # earlier slices this run holds part of, unfinished
        err.print(f"[yellow]{note}[/]", soft_wrap=True)
    if line := pace_line(pace):
        console.print(line)
    outcome = RunOutcome()
    started = time.time()  # samples that start later ran in this run (the others: earlier slices, resumed)
    try:
        with contextlib.ExitStack() as stack:  # a local judge is served for the run
            judge_model = serve_judge(stack, judge, judge_args, [], [], log_dir)
            success, logs = run_harness(
                tasks, log_dir, models, epochs, grader_roles(judge_model), display(),
                max_episodes or default_episodes(), pace=pace, outcome=outcome,
            )  # fmt: skip
    except KeyboardInterrupt:  # every slot is cleaned by now (its servers, users and run dir: `_harness`)
        interrupted_exit(INTERRUPTED.replace("finished sample", "finished episode"))
    if pace is not None and outcome.budget_reached:
        after_run(log_dir, True, logs, since=started)
        console.print(budget_message(outcome.spent, pace.budget or 0.0, logs, unit="episodes"))
        raise typer.Exit(BUDGET_EXIT)
    after_run(log_dir, success, logs, since=started)
