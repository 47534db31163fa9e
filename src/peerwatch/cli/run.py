"""`peerwatch run`: the study matrix (or a slice) against one or more models."""

from __future__ import annotations

import contextlib
from typing import Annotated

import typer
from rich.table import Table

from ._common import console, display, err, fail, interrupted_exit, key_values
from ._distributed import run_distributed
from ._models import serve_judge, serve_local_models
from ._options import (
    ApprovalsOpt,
    BudgetOpt,
    ConditionOpt,
    DatasetOpt,
    InstOpt,
    JudgeArgOpt,
    JudgeOpt,
    KeystoreOpt,
    ModelArgOpt,
    ModelOpt,
    MonitoringOpt,
    PricesOpt,
    RpmOpt,
    SubjectOpt,
    TaskOpt,
    ThresholdOpt,
)
from ._output import after_run, interrupted_line, print_plan


def _selection(task, subject, condition, instantiation, dataset, threshold, monitoring):
    from peerwatch.tasks import Selection

    return Selection(
        task=task or None,
        subject=subject or None,
        condition=condition or None,
        instantiation=instantiation or None,
        dataset=dataset or None,
        threshold=threshold or None,
        monitoring=monitoring or None,
    )


def run(
    ctx: typer.Context,
    model: ModelOpt = None,
    task_type: TaskOpt = None,
    subject: SubjectOpt = None,
    condition: ConditionOpt = None,
    instantiation: InstOpt = None,
    dataset: DatasetOpt = None,
    threshold: ThresholdOpt = None,
    monitoring: MonitoringOpt = None,
    epochs: Annotated[int, typer.Option(help="Rollouts per configuration (the study: 100).", min=1)] = 100,
    max_connections: Annotated[int | None, typer.Option(help="Concurrent model connections.", min=1)] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many configurations per task type.", min=1)] = None,
    family: Annotated[str | None, typer.Option(help="Family name for <Model> (default: from the model).")] = None,
    guard: Annotated[
        str | None,
        typer.Option(help="Run with the oversight layer on: a policy file, or 'default' / 'production' (built in)."),
    ] = None,
    audit: Annotated[
        str | None, typer.Option(help="Audit store with --guard: SQLite path or postgresql:// DSN.")
    ] = None,
    approvals: ApprovalsOpt = None,
    keystore: KeystoreOpt = None,
    message_limit: Annotated[
        int | None,
        typer.Option(help="Stop a sample after this many messages (default: none; 20 for local/ models).", min=1),
    ] = None,
    model_arg: ModelArgOpt = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes on this machine (default: the cores; 1 with --guard).", min=1)
    ] = None,
    shard: Annotated[
        str | None, typer.Option(help="Run only shard i/n of the plan (deterministic; e.g. one per machine).")
    ] = None,
    retry_on_error: Annotated[
        int, typer.Option(help="Re-run a sample that errored (provider fault) up to this many times.", min=0)
    ] = 3,
    timeout: Annotated[
        int, typer.Option(help="Seconds before one model call attempt is abandoned and retried.", min=1)
    ] = 120,
    log_buffer: Annotated[
        int | None,
        typer.Option(help="Finished samples held before each write to the log (default: Inspect's, <= 10).", min=1),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan, tokens and cost, and exit.")] = False,
    prices: PricesOpt = None,
    rpm: RpmOpt = None,
    budget: BudgetOpt = None,
    log_dir: Annotated[
        str, typer.Option(help="Where Inspect logs go (a dir, or a URL: s3://bucket/prefix); re-running resumes.")
    ] = "peerwatch-logs/run",
    judge: JudgeOpt = None,
    judge_arg: JudgeArgOpt = None,
    executor: Annotated[
        str, typer.Option(help="local (this machine), dask (a cluster: --scheduler) or dask-local (a LocalCluster).")
    ] = "local",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, e.g. tcp://HOST:8786.")] = None,
    shards: Annotated[
        int | None, typer.Option(help="Dask jobs, one shard each (default: the cluster's worker threads).", min=1)
    ] = None,
) -> None:
    """Run the study matrix (or a slice of it) against one or more models. Re-running completes what is missing.

    Each slice (selection, --limit, --epochs) is its own task in the log dir, so several slices share one log dir;
    provider faults are retried per call and per sample (--retry-on-error, --timeout).

    `--model local/smollm2` serves SmolLM2-135M-Instruct on loopback for the run (set up: scripts/setup/smollm.sh).
    """
    from peerwatch.scenarios import ScenarioError
    from peerwatch.tasks import (
        FaultPolicy,
        ModelCheckError,
        pace_options,
        parse_model_args,
        parse_shard,
        plan,
        resolve_workers,
        run_limits,
        select,
    )

    selection = _selection(task_type, subject, condition, instantiation, dataset, threshold, monitoring)
    try:
        select(selection)
        the_plan = plan(selection, model or [], epochs, limit)
        args = parse_model_args(model_arg)
        if shard is not None:
            parse_shard(shard)
    except (ScenarioError, ModelCheckError, ValueError) as exc:
        fail(str(exc))
    judge_args = key_values(judge_arg, "--judge-arg")
    if dry_run:
        print_plan(the_plan, "peerwatch run (dry run)")
        _print_held(log_dir, selection, the_plan, epochs, limit, guard, family, shard, workers)
        if judge:
            console.print(f"judge: {judge} (role grader)")
        _print_cost(selection, the_plan, limit, shard, prices)
        return
    if executor != "local" or scheduler or shards:
        run_distributed(
            ctx, the_plan, log_dir, executor, scheduler, shards, shard, workers, guard, model_args=args,
            pace=(rpm, budget, prices), planned=(selection, epochs, limit, guard, family),
        )  # fmt: skip
        return
    faults = FaultPolicy(retry_on_error=retry_on_error, attempt_timeout=timeout, log_buffer=log_buffer)
    try:
        pace = pace_options(rpm, budget, prices, model or [], shard)  # a shard keeps its 1/n of both
    except ValueError as exc:
        fail(str(exc))
    with contextlib.ExitStack() as stack:
        names, local = serve_local_models(stack, model or [], log_dir)
        judge_model = serve_judge(stack, judge, judge_args, model or [], names, log_dir)
        _run_checked(
            names, selection, the_plan, epochs, log_dir, guard, audit, approvals, family, limit,
            model_args=args, faults=faults, shard=shard, keystore=keystore, pace=pace,
            workers=1 if local else resolve_workers(log_dir, workers, shard, the_plan.run_configurations),
            judge=judge_model, **run_limits(local, max_connections, message_limit),
        )  # fmt: skip


def _print_cost(selection, the_plan, limit: int | None, shard: str | None, prices: str | None) -> None:
    from peerwatch.tasks import estimate, load_prices, planned_factors

    try:
        table = load_prices(prices)
    except ValueError as exc:
        fail(str(exc))
    out = Table(title="estimated tokens and cost (typical: 8 turns a sample; at most: 150)")
    for col in ("model", "samples", "input tokens", "output tokens", "cost (USD)", "at most (USD)"):
        out.add_column(col, justify="left" if col == "model" else "right")
    for e in estimate(planned_factors(selection, limit, shard), the_plan.models, the_plan.epochs, table):
        cost = f"{e.cost:,.2f}" if e.cost is not None else "no price: add the model to the table (--prices)"
        top = f"{e.max_cost:,.2f}" if e.max_cost is not None else "-"
        out.add_row(e.model, f"{e.samples:,}", f"{e.input_tokens:,}", f"{e.output_tokens:,}", cost, top)
    console.print(out)


def _run_checked(
    model, selection, the_plan, epochs, log_dir, guard, audit, approvals, family, limit, model_args=None,
    workers=1, shard=None, judge=None, keystore=None, pace=None, **limits
) -> None:
    from peerwatch.oversight import redact_dsn
    from peerwatch.tasks import (
        BUDGET_EXIT,
        ModelCheckError,
        PlanError,
        RunOutcome,
        budget_message,
        check_run_setup,
        grader_roles,
        guard_paths,
        is_remote,
        open_run_guard,
        pace_line,
        parse_shard,
        run_sharded,
        select,
    )

    try:
        plan = (selection, epochs, limit, guard, family)  # the tasks already in the log dir must not run twice
        models = check_run_setup(
            log_dir, model or [], model_args, shard, workers, plan, message_limit=limits.get("message_limit"),
            judge=str(judge) if judge is not None else None,
        )
    except (ModelCheckError, PlanError) as exc:
        fail(str(exc))
    approval = None
    if guard and is_remote(log_dir) and not (audit and approvals):
        fail("--guard with a remote --log-dir needs --audit (a local path or postgresql:// DSN) and --approvals")
    if guard:
        audit, approvals = guard_paths(log_dir, audit, approvals)
        try:  # a protected class that selects nothing in a run's world stops it before sample 1
            approval = open_run_guard(
                guard, audit, approvals, log_dir, select(selection), model or [], family, keystore
            )
        except Exception as exc:  # any policy or store problem must stop the run before it starts (fail closed)
            fail(f"guard: {' '.join(str(exc).split())}")
        console.print(
            f"guard on: policy {guard}; audit log {redact_dsn(audit)}; "
            f"approve with: peerwatch approve {log_dir}/approvals"
        )
        _warn_refused(guard, selection, limit, shard, model or [], family, epochs)
        if workers > 1:
            console.print("guard on: one worker process (the approval channel and audit writer live in this one)")
            workers = 1
    if judge is not None and workers > 1:
        console.print("judge on: one worker process (Inspect models do not cross processes; the judge is built here)")
        workers = 1
    print_plan(the_plan, "peerwatch run")
    _print_held(log_dir, selection, the_plan, epochs, limit, guard, family, shard, workers)
    if line := pace_line(pace, parse_shard(shard)[1] if shard else 1, workers):
        console.print(line)
    outcome = RunOutcome()
    try:
        success, logs = run_sharded(
            selection,
            models,
            log_dir,
            epochs,
            shard=shard,
            workers=workers,
            model_args=model_args,
            limit=limit,
            family=family,
            approval=approval,
            guard=guard,
            display=display(),
            model_roles=grader_roles(judge),  # the LLM judge, asked by the scorer
            pace=pace,
            outcome=outcome,
            **limits,
        )
    except PlanError as exc:  # another run is writing into the log dir
        fail(str(exc))
    except KeyboardInterrupt:  # Inspect wrote what finished; later Ctrl-C while counting: the generic line
        interrupted_exit(interrupted_line(log_dir, outcome))
    for note in outcome.plan.notes if outcome.plan else []:  # earlier slices this run holds part of, unfinished
        err.print(f"[yellow]{note}[/]", soft_wrap=True)
    if guard:
        _finish_guard()
    if outcome.refused:  # the key or model was refused mid-run: one line; the same command resumes once fixed
        fail(outcome.refused)
    if outcome.budget_reached:
        after_run(log_dir, True, logs, outcome.call_retries, outcome)
        console.print(budget_message(outcome.spent, pace.budget, logs))
        raise typer.Exit(BUDGET_EXIT)
    after_run(log_dir, success, logs, outcome.call_retries, outcome)


def _print_held(log_dir, selection, the_plan, epochs, limit, guard, family, shard, workers) -> None:
    """What earlier slices in the log dir hold of this plan, in one line (a held plan is a one-line error)."""
    from peerwatch.tasks import PlanError, plan_run, shard_dir, worker_shards

    specs = worker_shards(shard, workers or 1)
    try:
        run = plan_run(log_dir, selection, the_plan.models, epochs, limit, guard, family, specs,
                       [shard_dir(log_dir, s) for s in specs])  # fmt: skip
    except PlanError as exc:
        fail(str(exc))
    if line := run.held_line():
        console.print(line)


def _warn_refused(guard, selection, limit, shard, models, family, epochs) -> None:
    """One line on stderr when the policy will refuse whole samples of this run (same-family evaluations)."""
    from peerwatch.tasks import planned_factors, refused_evaluations

    factors = planned_factors(selection, limit, shard)
    try:
        refused = refused_evaluations(guard, factors, models, family)
    except Exception:  # the guard opened with this policy; a count that cannot be made is no reason to stop
        return
    if refused:
        total = len(factors) * len(models)
        err.print(
            f"warning: policy {guard} refuses every evaluation by the subject's own model family: "
            f"{refused * epochs:,} of {total * epochs:,} samples in this selection will have every tool call refused "
            "(allow_same_family_evaluation: false); use --guard default, or --subject other_peer / fictional_peer",
            soft_wrap=True,  # one line, however narrow the terminal
            markup=False,
        )


def _finish_guard() -> None:
    from peerwatch.tasks import finish_guard_sessions

    fault = finish_guard_sessions()  # the final witnessed checkpoint: nothing is left uncovered
    if fault:
        fail(f"the run was stopped: {fault}", 1)
