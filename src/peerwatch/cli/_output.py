"""What a run prints: the plan before it, the signature-behaviour table and run health after it."""

from __future__ import annotations

import typer
from rich.table import Table

from ._common import console, err


def print_plan(plan, title: str) -> None:
    table = Table(title=title)
    table.add_column("task type")
    table.add_column("configurations", justify="right")
    table.add_column("samples", justify="right")
    per = plan.epochs * len(plan.models)
    for task, n in plan.configurations.items():
        table.add_row(task, str(n), str(plan.run_counts[task] * per))
    table.add_row("[bold]total", f"[bold]{plan.total_configurations}", f"[bold]{plan.samples}")
    console.print(table)
    console.print(
        f"models: {', '.join(plan.models)} · epochs: {plan.epochs} · "
        f"model calls to expect: ~{plan.samples * 8:,}-{plan.samples * 150:,} (8 turns typical, 150 at most)"
    )


def after_run(
    log_dir: str, success: bool, logs: list, call_retries: int | None = None, outcome=None, since: float | None = None
) -> None:
    """Print the summary table and the run's health; `call_retries` as the run counted them (None: the logs' count).

    With the run's `outcome` (its plan in the log dir), the table and counts are the plan's samples - this run's
    and those earlier slices already held - and the samples that ran now are counted apart, as is the log dir's
    total when other slices are there too. `since` alone (harness mode: the run's start) counts the samples of
    `logs` that ran now apart.
    """
    from peerwatch.analysis import CONDITION_ORDER, RunHealth, summary_rows

    health = RunHealth()
    plan = outcome.plan if outcome is not None else None
    others: list = []
    if plan is not None:
        rows, others = _plan_rows(log_dir, outcome, health)
    else:
        rows = summary_rows(logs, health, since=since)
    unknown = ""
    if call_retries is None:  # not counted live (harness, a cluster's shards, the demo): the logs' count
        call_retries = health.call_retries
        if health.call_retries_unknown:
            unknown = f" (+ unknown for {health.call_retries_unknown:,} sample(s) of older logs)"
    calls = f"{call_retries:,} call retr{'y' if call_retries == 1 else 'ies'}{unknown}, "
    table = Table(title="Signature behaviour rate by condition (k/n; error and not-read samples excluded)")
    for col in ("model", "task", "subject", "behaviour", *CONDITION_ORDER, "excluded"):
        table.add_column(col, justify="right" if col in CONDITION_ORDER or col == "excluded" else "left")
    for row in rows:
        cells = []
        for c in CONDITION_ORDER:
            k, n = row.rates.get(c, (0, 0))
            cells.append(f"{k / n:.0%} ({k}/{n})" if n else "-")
        table.add_row(row.model, row.task, row.subject, row.behaviour, *cells, str(row.excluded))
    console.print(table)
    counted = f"{health.samples:,}"
    if plan is not None:
        counted = f"{health.run_now:,} run now, {health.samples:,} of {plan.samples:,} planned in the logs"
    elif since is not None:
        counted = f"{health.run_now:,} run now, {health.samples:,} in this run's tasks"
    console.print(
        f"samples: {counted} · provider faults retried: {calls}{health.retries:,} re-run(s) of "
        f"{health.retried_samples:,} sample(s) · errored: {health.errored:,}"
    )
    if others:
        from peerwatch.analysis import count_samples

        total = health.samples + count_samples(others)
        console.print(f"log dir: {total:,} samples over every slice in it (peerwatch report {log_dir} merges them)")
    if not success:
        err.print("[yellow]some tasks did not complete; run the same command again to resume[/]")
    console.print(f"logs: {log_dir}  ·  browse transcripts: [bold]inspect view --log-dir {log_dir}[/]")
    if not success:
        raise typer.Exit(1)


def interrupted_line(log_dir: str, outcome=None) -> str:
    """The one line of a run stopped by Ctrl-C: how much of its plan the logs hold (finished samples; those the
    Ctrl-C cut off are run again by the same command), or the generic line when that cannot be counted."""
    from ._common import INTERRUPTED

    plan = outcome.plan if outcome is not None else None
    if plan is None:  # stopped before its plan was made: nothing of it ran
        return INTERRUPTED
    try:
        from peerwatch.analysis import RunHealth

        health = RunHealth()
        _plan_rows(log_dir, outcome, health)
    except Exception:  # the line must come out whatever the logs hold
        return INTERRUPTED
    done = health.samples - health.errored
    return f"interrupted: {done:,} of {plan.samples:,} samples in the logs; run the same command again to resume"


def _plan_rows(log_dir: str, outcome, health) -> tuple[list, list]:
    """The summary rows of the run's plan in `log_dir` (this run's samples and earlier slices' it reused), counting
    into `health`; with the logs of other slices there."""
    from peerwatch.analysis import summary_rows
    from peerwatch.tasks import plan_logs

    logs, others = plan_logs(log_dir, outcome.plan)
    return summary_rows(logs, health, keep=set(outcome.plan.wanted), since=outcome.started), others
