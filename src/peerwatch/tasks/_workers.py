"""Shards and worker processes: one Inspect process uses one core, so a machine runs one shard per core.

A shard is a deterministic round-robin slice of each task type's configurations (`--shard i/n`). `--workers w`
splits this machine's shard further, into w processes; worker j of shard i/n is shard ((i-1) + n(j-1) + 1)/(nw),
so `--shard 1/2 --workers 2` on two machines runs exactly what `--shard k/4` on four would. Each shard is its own
eval set in `LOG_DIR/shard-K-of-N` (eval sets keep bookkeeping files that concurrent processes must not share);
re-running the same command resumes every shard, and the report reads them all.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import signal
import time
from dataclasses import dataclass
from typing import Any

from inspect_ai.log import EvalLog, list_eval_logs, read_eval_log
from inspect_ai.model import Model

from ._call_retries import call_retries
from ._faults import refusal
from ._interrupt import quiet_after_interrupt
from ._overlap import RunPlan, plan_run
from ._pace import PaceOptions, budget_reached, spent, watch_rate_limits
from ._pace_dir import shared_pace_dir
from ._resume import LogDirBusy, exclusive, remove_superseded
from ._run import (
    FaultPolicy,
    PlanError,
    Selection,
    check_log_dir,
    check_models,
    preflight,
    run_study,
)
from ._storage import is_dir, is_remote, join, names
from ._tasks import parse_shard


def default_workers() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def resolve_workers(log_dir: str, requested: int | None, shard: str | None, configurations: int) -> int:
    """The worker count to use: as asked; else the layout a previous run left in `log_dir` (so a re-run on a
    machine with other cores resumes instead of starting over); else the cores, but no more than there are
    configurations to share out."""
    if requested:
        return requested
    _, n = parse_shard(shard) if shard else (1, 1)
    entries = names(log_dir)  # a local dir or a prefix on shared storage (s3://...)
    found = {int(e.rsplit("-of-", 1)[1]) for e in entries if re.fullmatch(r"shard-\d+-of-\d+", e)}
    if found:
        return max(1, max(found) // n)
    if any(e.endswith((".eval", ".json")) for e in entries):
        return 1
    return max(1, min(default_workers(), configurations // n or 1))


def worker_shards(shard: str | None, workers: int) -> list[str | None]:
    """The shard spec of each worker process (`[None]`: one process over the whole selection)."""
    i, n = parse_shard(shard) if shard else (1, 1)
    if n == 1 and workers == 1:
        return [None]
    return [f"{(i - 1) + n * (j - 1) + 1}/{n * workers}" for j in range(1, workers + 1)]


def shard_dir(log_dir: str, shard: str | None) -> str:
    """Where a shard's eval set lives (the log dir itself when unsharded)."""
    if shard is None:
        return log_dir
    i, n = parse_shard(shard)
    return join(log_dir, f"shard-{i}-of-{n}")


def check_run_setup(
    log_dir: str,
    models: list[str],
    model_args: dict[str, Any] | None = None,
    shard: str | None = None,
    workers: int = 1,
    plan: tuple[Selection, int, int | None, str | None, str | None] | None = None,
    message_limit: int | None = None,
    judge: str | None = None,
) -> list[Model]:
    """Before a run starts: its log dir (and each worker shard's) takes its logs, every model loads and answers.

    `plan` (selection, epochs, limit, guard, family) is also planned against the tasks the log dir already holds
    (`plan_run`: other epochs of a configuration held there are refused, and another `message_limit` for a task it
    would resume, or another judge). Raises PlanError or ModelCheckError (one
    line); returns the models.
    """
    check_log_dir(log_dir)
    shards = worker_shards(shard, workers)
    for spec in shards:  # each shard's own eval set, before any process starts
        if spec is not None:
            check_log_dir(shard_dir(log_dir, spec))
    if plan is not None:
        selection, epochs, limit, guard, family = plan
        dirs = [shard_dir(log_dir, spec) for spec in shards]
        plan_run(log_dir, selection, models, epochs, limit, guard, family, shards, dirs, message_limit, judge)
    checked = check_models(models, model_args)
    preflight(checked)
    return checked


BUDGET_EXIT = 3  # a worker that stopped at its share of --budget
INTERRUPTED_EXIT = 130  # a worker stopped by Ctrl-C (the shell's code for SIGINT)
REFUSED_EXIT = 2  # a worker whose provider refused the key or the model mid-run
_REFUSAL_CHARS = 600


@dataclass
class RunOutcome:
    """What the worker processes report back beyond their logs."""

    spent: float = 0.0
    budget_reached: bool = False
    refused: str | None = None  # one line: the provider refused the key or model mid-run and the run stopped
    call_retries: int = 0  # model-call attempts retried (counted as they happen, in every worker)
    plan: RunPlan | None = None  # what the run planned in its log dir (its notes: earlier tasks it left unfinished)
    started: float = 0.0  # when its samples could start (time.time()): later samples ran in this run


def share_pace(pace: PaceOptions | None, shared: str) -> PaceOptions | None:
    """The pacing of each worker process: the machine's whole rate and budget, kept together through the files in
    `shared` (one timetable per model, one spend), so no worker's calls collide with another's at the provider.
    Without `--rpm` the files are there too: a limit the workers learn from 429s is kept together the same way."""
    return (pace or PaceOptions()).model_copy(update={"shared": shared})


@contextlib.contextmanager
def _sigint_blocked() -> Any:
    # A process started here inherits the blocked SIGINT across exec: a Ctrl-C while it still imports stays pending
    # (no import traceback) and lands once `_worker` unblocks it. Blocked here too, a Ctrl-C meanwhile lands after.
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _stop(procs: list[Any], stop: Any, grace: float = 20.0) -> None:
    """Ctrl-C: tell the workers (a flag for those still starting, SIGINT for running ones), give them `grace` s to
    write their logs, then stop them."""
    stop.set()  # before the signal: a worker that unblocks SIGINT after it sees the flag instead
    with _sigint_blocked():  # a second Ctrl-C must not leave workers behind
        for proc in procs:
            if proc.is_alive() and proc.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGINT)  # sent by a terminal to all; by `kill -INT` only to us
        deadline = time.monotonic() + grace
        for proc in procs:
            proc.join(max(0.0, deadline - time.monotonic()))
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
                proc.join(10)
            if proc.is_alive():
                proc.kill()
                proc.join()


def _worker(spec: dict[str, Any], report: Any, refused: Any, stop: Any) -> None:
    # A fresh (spawned) process: models are rebuilt here, since Inspect's Model objects do not cross processes.
    # Every Ctrl-C path ends in exit code 130 without a traceback: the parent says it in one line.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if stop.is_set():  # Ctrl-C while this process imported
            raise KeyboardInterrupt
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # started blocked (`_sigint_blocked`)
        models = check_models(spec.pop("models"), spec.pop("model_args"))
        watch_rate_limits(models)  # --rpm or not: 429s reach the pacer, retries are Inspect's
        success, _ = run_study(spec.pop("selection"), models, once=True, **spec)
    except KeyboardInterrupt:  # Inspect has written what finished
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent's copy of the Ctrl-C must not hit the exit
        quiet_after_interrupt()
        raise SystemExit(INTERRUPTED_EXIT) from None
    report[0], report[1], report[2] = spent(), float(budget_reached()), float(call_retries())
    if line := refusal():
        refused.value = line.encode()[: _REFUSAL_CHARS - 1]
        raise SystemExit(REFUSED_EXIT)
    raise SystemExit(BUDGET_EXIT if budget_reached() else 0 if success else 1)


def run_sharded(
    selection: Selection,
    models: list[Model],
    log_dir: str,
    epochs: int,
    *,
    shard: str | None,
    workers: int,
    model_args: dict[str, Any] | None = None,
    faults: FaultPolicy | None = None,
    pace: PaceOptions | None = None,
    outcome: RunOutcome | None = None,
    **options: Any,
) -> tuple[bool, list[EvalLog]]:
    """Run this machine's shard in `workers` processes; returns (all succeeded, the logs' headers).

    `outcome` (when given) receives what the run spent and whether it stopped at the budget. This process holds
    every shard's dir for the run (a second run into one is a PlanError) and, once the shards end, removes the logs
    of attempts a kill -9 left behind that the run superseded (`_resume`).
    """
    shards = worker_shards(shard, workers)
    dirs = [shard_dir(log_dir, spec) for spec in shards]
    with contextlib.ExitStack() as held:
        try:
            locked = [held.enter_context(exclusive(d)) for d in dirs]
        except LogDirBusy as exc:
            raise PlanError(str(exc)) from None
        outcome = outcome if outcome is not None else RunOutcome()
        # Planned while holding the dirs: what they hold cannot change under the plan (but on shared storage).
        outcome.plan = plan_run(
            log_dir, selection, [str(m) for m in models], epochs, options.get("limit"), options.get("guard"),
            options.get("family"), shards, dirs, options.get("message_limit"),
            next((str(m) for m in (options.get("model_roles") or {}).values()), None),
        )  # fmt: skip
        outcome.started = time.time()
        success, logs = _run_shards(
            selection, models, log_dir, epochs, shards, model_args, faults, pace, outcome, options
        )  # fmt: skip
        removed = sum(remove_superseded(d) for d, lock in zip(dirs, locked, strict=True) if lock)
    if removed:  # the headers read before the clean-up may name a removed log
        logs = [log for log in logs if is_remote(log.location) or os.path.exists(log.location.removeprefix("file://"))]
    return success, logs


def _run_shards(
    selection: Selection,
    models: list[Model],
    log_dir: str,
    epochs: int,
    shards: list[str | None],
    model_args: dict[str, Any] | None,
    faults: FaultPolicy | None,
    pace: PaceOptions | None,
    outcome: RunOutcome,
    options: dict[str, Any],
) -> tuple[bool, list[EvalLog]]:
    specs = [p.specs for p in outcome.plan.shards] if outcome.plan else [None] * len(shards)
    if len(shards) == 1:  # in this process: approval channels stay usable
        watch_rate_limits(models)
        result = run_study(
            selection, models, shard_dir(log_dir, shards[0]), epochs, faults=faults, shard=shards[0], pace=pace,
            specs=specs[0], **options,
        )  # fmt: skip
        outcome.spent, outcome.budget_reached, outcome.refused = spent(), budget_reached(), refusal()
        outcome.call_retries = call_retries()
        return (False, result[1]) if outcome.budget_reached or outcome.refused else result
    names = [str(m) for m in models]
    ctx = multiprocessing.get_context("spawn")
    procs: list[tuple[Any, Any, Any]] = []  # (process, spent and budget flag, refusal line): ctypes arrays
    # The workers' shared pacing state lives on this machine's disk for this run only (removed after it, or by the
    # next run's start when this one was killed).
    with shared_pace_dir() as shared:
        base = {"epochs": epochs, "models": names, "model_args": model_args or {}, "faults": faults,
                "pace": share_pace(pace, shared)}  # fmt: skip
        stop = ctx.Event()  # set by a Ctrl-C here: a worker still importing stops as soon as it starts
        try:
            for spec, planned in zip(shards, specs, strict=True):
                job = {**base, **options, "selection": selection, "log_dir": shard_dir(log_dir, spec),
                       "shard": spec, "specs": planned}  # fmt: skip
                report = ctx.Array("d", 3)  # spent, budget reached, call retries
                refused = ctx.Array("c", _REFUSAL_CHARS)  # the refusal's one line, if any
                proc = ctx.Process(target=_worker, args=(job, report, refused, stop), name=f"peerwatch-shard-{spec}")
                with _sigint_blocked():
                    proc.start()
                procs.append((proc, report, refused))
            for proc, _, _ in procs:
                proc.join()
        except KeyboardInterrupt:
            _stop([p for p, _, _ in procs], stop)
            raise
    outcome.spent = sum(r[0] for _, r, _ in procs)
    outcome.budget_reached = any(r[1] for _, r, _ in procs)
    outcome.call_retries = int(sum(r[2] for _, r, _ in procs))
    outcome.refused = next((line.value.decode(errors="replace") for *_, line in procs if line.value), None)
    return all(p.exitcode == 0 for p, _, _ in procs), shard_logs(log_dir, shards)


def shard_logs(log_dir: str, shards: list[str | None]) -> list[EvalLog]:
    """The headers of the logs the shards wrote (a shard that never started has none)."""
    logs: list[EvalLog] = []
    for spec in shards:
        directory = shard_dir(log_dir, spec)
        if is_dir(directory):
            logs += [read_eval_log(info, header_only=True) for info in list_eval_logs(directory, recursive=False)]
    return logs
