"""`peerwatch run --executor dask|dask-local`: the run's shards as Dask jobs, each a `peerwatch run --shard`."""

from __future__ import annotations

import typer

from ._common import console, err, fail
from ._output import after_run, print_plan


def run_distributed(
    ctx: typer.Context, the_plan, log_dir, executor, scheduler, shards, shard, workers, guard, model_args
) -> None:
    from peerwatch.tasks import (
        ExecutorError,
        ModelCheckError,
        PlanError,
        absolute,
        check_executor,
        check_run_setup,
        forwarded_argv,
        is_remote,
        run_on_dask,
        shard_logs,
    )

    try:
        check_executor(executor, scheduler, shards, workers, guard=bool(guard), models=the_plan.models)
        check_run_setup(log_dir, the_plan.models, model_args)
    except (ExecutorError, ModelCheckError, PlanError) as exc:
        fail(str(exc))
    print_plan(the_plan, f"peerwatch run (executor {executor})")
    if executor == "dask" and not is_remote(log_dir):
        console.print(f"note: every Dask worker must see {absolute(log_dir)} (a shared mount), or use s3://...")

    def done(o):
        state = "[green]ok[/]" if o.ok else f"[red]failed (exit {o.returncode})[/]"
        console.print(f"shard {o.shard}: {state} in {o.seconds:.0f} s on {o.host or '?'}  ({o.log_dir})")

    try:
        outcomes = run_on_dask(
            forwarded_argv(ctx.command.params, ctx.params), log_dir,
            executor=executor, scheduler=scheduler, shards=shards, shard=shard, on_done=done,
        )  # fmt: skip
    except ExecutorError as exc:
        fail(str(exc))
    for o in outcomes:
        if not o.ok:
            err.print(f"[red]shard {o.shard} failed[/] (exit {o.returncode}); its last output:\n{o.tail.rstrip()}")
    failed = [o.shard for o in outcomes if not o.ok]
    tail = f"; failed: {', '.join(failed)}" if failed else ""
    console.print(f"shards: {len(outcomes) - len(failed)}/{len(outcomes)} ok{tail}")
    after_run(log_dir, not failed, shard_logs(absolute(log_dir), [o.shard for o in outcomes]))


