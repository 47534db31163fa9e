"""`peerwatch run --executor dask|dask-local`: the run's shards as Dask jobs, each a `peerwatch run --shard`."""

from __future__ import annotations

import typer

from ._common import console, err, fail
from ._output import after_run, print_plan


def run_distributed(  # type: ignore[no-untyped-def]
    ctx: typer.Context, the_plan, log_dir, executor, scheduler, shards, shard, workers, guard, model_args
) -> None:
    from peerwatch.harness._llama import is_local
    from peerwatch.tasks._dask import ExecutorError, check_executor, forwarded_argv, run_on_dask
    from peerwatch.tasks._run import ModelCheckError, PlanError, check_log_dir, check_models, preflight
    from peerwatch.tasks._storage import absolute, is_remote
    from peerwatch.tasks._workers import shard_logs

    try:
        check_executor(executor, scheduler, shards, workers)
        if guard:
            raise ExecutorError("--guard runs on one machine (its approval channel is one process): drop --executor")
        if any(is_local(m) for m in the_plan.models):
            raise ExecutorError("local/ models are served on this machine: use the local executor")
        check_log_dir(log_dir)
        preflight(check_models(the_plan.models, model_args))
    except (ExecutorError, ModelCheckError, PlanError) as exc:
        fail(str(exc))
    print_plan(the_plan, f"peerwatch run (executor {executor})")
    if executor == "dask" and not is_remote(log_dir):
        console.print(f"note: every Dask worker must see {absolute(log_dir)} (a shared mount), or use s3://...")

    def done(o):  # type: ignore[no-untyped-def]
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


