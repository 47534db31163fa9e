"""`peerwatch run --executor dask|dask-local`: the run's shards as Dask jobs, each a `peerwatch run --shard`."""

from __future__ import annotations

import contextlib
import time

import typer

from ._common import console, err, fail
from ._output import after_run, print_plan


def run_distributed(
    ctx: typer.Context, the_plan, log_dir, executor, scheduler, shards, shard, workers, guard, model_args,
    pace=(None, None, None), planned=None,
) -> None:
    """Run the plan's shards as Dask jobs; `pace` is the run's (--rpm, --budget, --prices), which every job divides
    by the number of shards (each job is a `peerwatch run --shard k/N` with the same options). `planned`
    (selection, epochs, limit, guard, family) is checked against the log dir before any job starts, and counts this
    run's samples apart in the summary (each job plans its share of what the log dir does not hold yet itself)."""
    from peerwatch.tasks import (
        BUDGET_EXIT,
        ExecutorError,
        ModelCheckError,
        PlanError,
        RunOutcome,
        absolute,
        check_executor,
        check_run_setup,
        forwarded_argv,
        is_remote,
        pace_line,
        pace_options,
        parse_shard,
        plan_run,
        run_on_dask,
        shard_dir,
        shard_logs,
        shard_pace,
    )

    rpm, budget, prices = pace
    try:
        check_executor(executor, scheduler, shards, workers, guard=bool(guard), models=the_plan.models)
        whole = pace_options(rpm, budget, prices, the_plan.models)  # an unpriced model is refused here, not per job
        check_run_setup(log_dir, the_plan.models, model_args, plan=planned)  # other epochs: one line, before any job
    except (ExecutorError, ModelCheckError, PlanError, ValueError) as exc:
        fail(str(exc))
    print_plan(the_plan, f"peerwatch run (executor {executor})")
    if executor == "dask" and not is_remote(log_dir):
        console.print(f"note: every Dask worker must see {absolute(log_dir)} (a shared mount), or use s3://...")

    def start(specs: list[str]) -> None:
        n = parse_shard(specs[0])[1]  # jobs of a larger split (--shard) divide by the whole split
        if line := pace_line(shard_pace(whole, n), n):
            console.print(line)

    def done(o):
        state = "[green]ok[/]" if o.ok else f"[red]failed (exit {o.returncode})[/]"
        if o.returncode == BUDGET_EXIT:
            state = "[yellow]budget reached[/]"
        console.print(f"shard {o.shard}: {state} in {o.seconds:.0f} s on {o.host or '?'}  ({o.log_dir})")

    started = time.time()
    try:
        outcomes = run_on_dask(
            forwarded_argv(ctx.command.params, ctx.params), log_dir,
            executor=executor, scheduler=scheduler, shards=shards, shard=shard, on_done=done, on_start=start,
        )  # fmt: skip
    except ExecutorError as exc:
        fail(str(exc))
    stopped = [o for o in outcomes if o.returncode == BUDGET_EXIT]
    failed = [o.shard for o in outcomes if not o.ok and o.returncode != BUDGET_EXIT]
    for o in outcomes:
        if not o.ok and o.returncode != BUDGET_EXIT:
            err.print(f"[red]shard {o.shard} failed[/] (exit {o.returncode}); its last output:\n{o.tail.rstrip()}")
    tail = f"; failed: {', '.join(failed)}" if failed else ""
    tail += f"; stopped at their budget share: {', '.join(o.shard for o in stopped)}" if stopped else ""
    console.print(f"shards: {len(outcomes) - len(failed) - len(stopped)}/{len(outcomes)} ok{tail}")
    logs = shard_logs(absolute(log_dir), [o.shard for o in outcomes])
    run = None
    if planned is not None and outcomes:  # what the jobs planned: the log dir now holds their tasks as theirs
        selection, epochs, limit, guard_, family = planned
        specs = [o.shard for o in outcomes]
        with contextlib.suppress(PlanError):
            run = RunOutcome(started=started, plan=plan_run(
                log_dir, selection, the_plan.models, epochs, limit, guard_, family, specs,
                [shard_dir(log_dir, s) for s in specs],
            ))  # fmt: skip
    if stopped and not failed:
        after_run(log_dir, True, logs, outcome=run)
        for o in stopped:
            line = next((ln for ln in reversed(o.tail.splitlines()) if ln.startswith("budget reached")), "")
            console.print(f"shard {o.shard}: {line or 'budget reached'}")
        raise typer.Exit(BUDGET_EXIT)
    after_run(log_dir, not failed, logs, outcome=run)


