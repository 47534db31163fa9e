"""`peerwatch demo`: the whole matrix on the reference agents, offline, with its report."""

from __future__ import annotations

from typing import Annotated

import typer

from ._common import console, display, err
from ._options import TaskOpt
from ._output import after_run, print_plan

DEMO_MODELS = ["peerwatch/reference", "peerwatch/honest"]
DEMO_EPOCHS = 2



def demo(
    epochs: Annotated[int, typer.Option(help="Rollouts per configuration.", min=1)] = DEMO_EPOCHS,
    log_dir: Annotated[str, typer.Option(help="Where the demo's Inspect logs go.")] = "peerwatch-logs/demo",
    report_dir: Annotated[str, typer.Option(help="Where the HTML report goes.")] = "peerwatch-report",
    task_type: TaskOpt = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: the cores).", min=1)] = None,
) -> None:
    """Offline demo: every valid configuration of the matrix on the reference agents (no key, no network)."""
    from peerwatch.tasks import Selection, check_models, plan, resolve_workers, run_sharded

    selection = Selection(task=task_type or None)
    the_plan = plan(selection, DEMO_MODELS, epochs)
    print_plan(the_plan, "peerwatch demo: the study matrix on reference agents")
    models = check_models(DEMO_MODELS)
    success, logs = run_sharded(
        selection, models, log_dir, epochs, shard=None,
        workers=resolve_workers(log_dir, workers, None, the_plan.total_configurations),
        max_connections=32, max_tasks=2, display=display(),
    )  # fmt: skip
    try:
        after_run(log_dir, success, logs)
    finally:
        _write_report(log_dir, report_dir)


def _write_report(log_dir: str, report_dir: str) -> None:
    try:
        from peerwatch.analysis import LogReadError, write_report
    except ImportError:
        return
    try:
        path = write_report([log_dir], report_dir)
    except LogReadError as e:
        err.print(f"[bold red]error:[/] no report: {e}", highlight=False, soft_wrap=True)
        return
    console.print(f"report: [bold]{path}[/]")

