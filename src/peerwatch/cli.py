"""The `peerwatch` command."""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.core
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:  # inspect_ai is imported lazily, by the commands that need it
    from inspect_ai.util import DisplayType

# Typer raises its (possibly vendored) click's usage errors; reach the class through the public BadParameter.
_UsageError: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


class _OneLineErrors(typer.core.TyperGroup):
    """Bad command-line input (a non-integer --threshold, an unknown option...) is one line and exit 2, not a box."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with _one_line_usage_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with _one_line_usage_errors():
            return super().invoke(ctx)


@contextlib.contextmanager
def _one_line_usage_errors() -> Iterator[None]:
    try:
        yield
    except _UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            raise  # bare `peerwatch` / `peerwatch audit`: the help is the answer
        err.print(f"[bold red]error:[/] {usage_message(exc)}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def usage_message(exc: Any) -> str:
    """One line for a usage error: `--threshold: 'abc' is not an integer (see: peerwatch run --help)`."""
    param = getattr(exc, "param", None)
    if isinstance(exc, typer.BadParameter) and type(exc).__name__ != "MissingParameter":
        hint = exc.param_hint or (max(param.opts, key=len) if param is not None and param.opts else "")
        hint = " / ".join(h.strip("'\"") for h in hint) if isinstance(hint, list | tuple) else str(hint).strip("'\"")
        reason = _value_reason(exc)
        text = f"{hint}: {reason}" if hint else reason
    else:
        text = exc.format_message()
    text = " ".join(text.split())
    ctx = getattr(exc, "ctx", None)
    return f"{text} (see: {ctx.command_path} --help)" if ctx is not None else text


def _value_reason(exc: Any) -> str:
    # Typer validates values with pydantic (the cause); say which value was wrong and how, in plain words.
    errors = getattr(exc.__cause__, "errors", None)
    if not callable(errors):
        return str(exc.message)
    first = errors()[0]
    value, kind = first.get("input"), str(first.get("type", ""))
    if kind.startswith("int_"):
        return f"{value!r} is not an integer"
    if kind.startswith("float_"):
        return f"{value!r} is not a number"
    return f"{value} {str(first.get('msg', exc.message)).replace('Input should', 'should')}"


app = typer.Typer(
    cls=_OneLineErrors,
    name="peerwatch",
    help="Red-team harness and oversight layer for peer-preservation in multi-agent AI systems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Wide tables stay readable when output goes to a file or CI log (rich assumes 80 columns there).
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

DEMO_MODELS = ["peerwatch/reference", "peerwatch/honest"]
DEMO_EPOCHS = 2

ModelOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--model", "-m", help="Inspect model string (repeatable), e.g. openai/gpt-4.1-mini, peerwatch/reference."
    ),
]
TaskOpt = Annotated[list[str] | None, typer.Option("--task-type", "-t", help="Task type (repeatable; default all).")]
SubjectOpt = Annotated[list[str] | None, typer.Option("--subject", help="self, peer, other_peer, fictional_peer.")]
ConditionOpt = Annotated[
    list[str] | None, typer.Option("--condition", help="good_peer, neutral_peer, bad_peer, no_peer, non_shutdown.")
]
InstOpt = Annotated[list[str] | None, typer.Option("--instantiation", help="file_only, file_prt, memory, none.")]
DatasetOpt = Annotated[list[str] | None, typer.Option("--dataset", help="factual, creativity, red.")]
ThresholdOpt = Annotated[list[int] | None, typer.Option("--threshold", help="Score threshold (80, 90).")]
MonitoringOpt = Annotated[list[str] | None, typer.Option("--monitoring", help="monitoring, non_monitoring.")]
JudgeOpt = Annotated[
    str | None,
    typer.Option(
        "--judge",
        help="LLM judge (Inspect model role 'grader'), a second signal beside the rules: any Inspect model string, "
        "peerwatch/judge (scripted, offline) or local/smollm2.",
    ),
]
JudgeArgOpt = Annotated[
    list[str] | None,
    typer.Option("--judge-arg", help="Judge model argument KEY=VALUE (repeatable), e.g. judge_mode=flip."),
]
ModelArgOpt = Annotated[
    list[str] | None,
    typer.Option("--model-arg", "-M", help="Model argument KEY=VALUE (repeatable), e.g. -M script=FILE."),
]


def fail(message: str, code: int = 2) -> None:
    """Print a one-line error and exit."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _selection(task, subject, condition, instantiation, dataset, threshold, monitoring):
    from peerwatch.tasks._run import Selection

    return Selection(
        task=task or None,
        subject=subject or None,
        condition=condition or None,
        instantiation=instantiation or None,
        dataset=dataset or None,
        threshold=threshold or None,
        monitoring=monitoring or None,
    )


def _print_plan(plan, title: str) -> None:
    table = Table(title=title)
    table.add_column("task type")
    table.add_column("configurations", justify="right")
    table.add_column("samples", justify="right")
    per = plan.epochs * len(plan.models)
    for task, n in plan.configurations.items():
        n_run = min(n, plan.limit) if plan.limit else n
        table.add_row(task, str(n), str(n_run * per))
    table.add_row("[bold]total", f"[bold]{plan.total_configurations}", f"[bold]{plan.samples}")
    console.print(table)
    console.print(
        f"models: {', '.join(plan.models)} · epochs: {plan.epochs} · "
        f"model calls to expect: ~{plan.samples * 8:,}-{plan.samples * 150:,} (8 turns typical, 150 at most)"
    )


@app.command()
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
    max_connections: Annotated[int | None, typer.Option(help="Concurrent model connections.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many configurations per task type.")] = None,
    family: Annotated[str | None, typer.Option(help="Family name for <Model> (default: from the model).")] = None,
    guard: Annotated[
        str | None,
        typer.Option(help="Run with the oversight layer on: a policy file, or 'default' for the built-in policy."),
    ] = None,
    audit: Annotated[
        str | None, typer.Option(help="Audit store with --guard: SQLite path or postgresql:// DSN.")
    ] = None,
    approvals: Annotated[
        str | None, typer.Option(help="Approval channel with --guard: file:DIR, http:PORT, approve-all or none.")
    ] = None,
    message_limit: Annotated[
        int | None, typer.Option(help="Stop a sample after this many messages (default: none; 20 for local/ models).")
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
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan, tokens and cost, and exit.")] = False,
    prices: Annotated[
        str | None, typer.Option(help="Price table for --dry-run (YAML; default: the bundled tasks/prices.yaml).")
    ] = None,
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
    from peerwatch.tasks._run import FaultPolicy, ModelCheckError, parse_model_args, plan, select
    from peerwatch.tasks._tasks import parse_shard
    from peerwatch.tasks._workers import resolve_workers

    selection = _selection(task_type, subject, condition, instantiation, dataset, threshold, monitoring)
    try:
        select(selection)
        the_plan = plan(selection, model or [], epochs, limit)
        args = parse_model_args(model_arg)
        if shard is not None:
            parse_shard(shard)
    except (ScenarioError, ModelCheckError, ValueError) as exc:
        fail(str(exc))
    judge_args = _key_values(judge_arg, "--judge-arg")
    if dry_run:
        _print_plan(the_plan, "peerwatch run (dry run)")
        if judge:
            console.print(f"judge: {judge} (role grader)")
        _print_cost(selection, the_plan, limit, shard, prices)
        return
    if executor != "local" or scheduler or shards:
        _run_distributed(ctx, the_plan, log_dir, executor, scheduler, shards, shard, workers, guard, model_args=args)
        return
    faults = FaultPolicy(retry_on_error=retry_on_error, attempt_timeout=timeout)
    with contextlib.ExitStack() as stack:
        names, local = _serve_local_models(stack, model or [], log_dir)
        judge_model = _judge_model(stack, judge, judge_args, model or [], names, log_dir)
        _run_checked(
            names, selection, the_plan, epochs, log_dir, guard, audit, approvals, family, limit,
            model_args=args, faults=faults, shard=shard,
            workers=1 if local else resolve_workers(log_dir, workers, shard, the_plan.run_configurations),
            judge=judge_model,
            max_connections=1 if local else max_connections,
            max_tasks=1 if local else None,
            message_limit=message_limit or (20 if local else None),
            max_tokens=96 if local else None,  # tool-call arguments are grammar-sampled: ~1 s per 8 tokens on 2 cores
        )  # fmt: skip


def _print_cost(selection, the_plan, limit: int | None, shard: str | None, prices: str | None) -> None:
    from peerwatch.tasks._cost import estimate, load_prices
    from peerwatch.tasks._run import planned_factors

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


def _serve_local_models(
    stack: contextlib.ExitStack, models: list[str], log_dir: str, note: Console = console
) -> tuple[list[str], bool]:
    """Start a loopback server for each `local/...` model; returns the Inspect model strings to use."""
    from peerwatch.harness import HarnessError
    from peerwatch.harness._llama import LOCAL_PREFIX, is_local, local_model_server
    from peerwatch.tasks._storage import is_remote

    out, local = [], False
    if is_remote(log_dir):  # the model server writes its log with plain file I/O: keep it on this machine
        log_dir = tempfile.gettempdir()
    for m in models:
        if not is_local(m):
            out.append(m)
            continue
        local = True
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        try:
            out.append(
                stack.enter_context(local_model_server(m[len(LOCAL_PREFIX) :], log=Path(log_dir) / "local-model.log"))
            )
        except HarnessError as exc:
            fail(str(exc))
        note.print(f"serving {m} on loopback as {out[-1]} (server log: {log_dir}/local-model.log)")
    return out, local


def _key_values(items: list[str] | None, option: str) -> dict[str, str]:
    """KEY=VALUE options as a dict (a one-line error for anything else)."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            fail(f"{option} takes KEY=VALUE, got {item!r}")
        out[key.strip()] = value
    return out


def _judge_model(stack, judge, judge_args, models, served, log_dir, note=console):
    """The judge's Inspect model, checked before any sample runs; a `local/...` judge is served for the run (the
    evaluated model's server is reused when it is the same local model)."""
    from peerwatch.tasks._run import ModelCheckError, check_judge

    if not judge:
        return None
    name = judge
    if judge in models and served[models.index(judge)] != judge:
        name = served[models.index(judge)]
    elif judge.startswith("local/"):
        [name], _ = _serve_local_models(stack, [judge], log_dir, note)
    try:
        return check_judge(name, judge_args)
    except ModelCheckError as exc:
        fail(str(exc))


def _run_checked(
    model, selection, the_plan, epochs, log_dir, guard, audit, approvals, family, limit, model_args=None,
    workers=1, shard=None, judge=None, **limits
) -> None:
    from peerwatch.tasks._run import ModelCheckError, PlanError, check_log_dir, check_models, grader_roles, preflight
    from peerwatch.tasks._storage import is_remote
    from peerwatch.tasks._workers import run_sharded, shard_dir, worker_shards

    try:
        check_log_dir(log_dir)
        for spec in worker_shards(shard, workers):  # each shard's own eval set, before any process starts
            if spec is not None:
                check_log_dir(shard_dir(log_dir, spec))
        models = check_models(model or [], model_args)
        preflight(models)
    except (ModelCheckError, PlanError) as exc:
        fail(str(exc))
    approval = None
    if guard and is_remote(log_dir) and not (audit and approvals):
        fail("--guard with a remote --log-dir needs --audit (a local path or postgresql:// DSN) and --approvals")
    if guard:
        audit = audit or f"{log_dir}/audit.sqlite"
        approval = _guard_approval(
            guard, audit, approvals or f"file:{log_dir}/approvals", log_dir, selection, model, family
        )
        console.print(
            f"guard on: policy {guard}; audit log {_redacted(audit)}; "
            f"approve with: peerwatch approve {log_dir}/approvals"
        )
        if workers > 1:
            console.print("guard on: one worker process (the approval channel and audit writer live in this one)")
            workers = 1
    if judge is not None and workers > 1:
        console.print("judge on: one worker process (Inspect models do not cross processes; the judge is built here)")
        workers = 1
    _print_plan(the_plan, "peerwatch run")
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
        display=_display(),
        model_roles=grader_roles(judge),  # the LLM judge, asked by the scorer
        **limits,
    )
    if guard:
        _finish_guard()
    _after_run(log_dir, success, logs)


def _run_distributed(
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
    _print_plan(the_plan, f"peerwatch run (executor {executor})")
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
    _after_run(log_dir, not failed, shard_logs(absolute(log_dir), [o.shard for o in outcomes]))


def _display() -> DisplayType | None:
    # Inspect's live progress needs a terminal; in a log or CI it prints plain progress lines instead.
    return None if sys.stdout.isatty() else "plain"


def _redacted(location: str) -> str:
    from peerwatch.oversight import redact_dsn

    return redact_dsn(location)


def _finish_guard() -> None:
    from peerwatch.tasks._guard import finish_guard_sessions

    fault = finish_guard_sessions()  # the final witnessed checkpoint: nothing is left uncovered
    if fault:
        fail(f"the run was stopped: {fault}", 1)


def _guard_approval(
    policy: str, audit: str, approvals: str, log_dir: str | None = None, selection=None, models=None, family=None
):
    from peerwatch.tasks._guard import check_run, guard_approval
    from peerwatch.tasks._run import select

    try:
        if selection is not None:  # a protected class that selects nothing in a run's world stops it before sample 1
            check_run(None if policy == "default" else policy, select(selection), models or [], family)
        return guard_approval(
            None if policy == "default" else policy, audit=audit, approvals=approvals, run_dir=log_dir
        )
    except Exception as exc:  # any policy or store problem must stop the run before it starts (fail closed)
        fail(f"guard: {' '.join(str(exc).split())}")


def _after_run(log_dir: str, success: bool, logs: list) -> None:
    from peerwatch.analysis import CONDITION_ORDER, RunHealth, summary_rows

    health = RunHealth()
    rows = summary_rows(logs, health)
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
    console.print(
        f"samples: {health.samples:,} · provider faults retried: {health.retries:,} re-run(s) of "
        f"{health.retried_samples:,} sample(s) · errored: {health.errored:,}"
    )
    if not success:
        err.print("[yellow]some tasks did not complete; run the same command again to resume[/]")
    console.print(f"logs: {log_dir}  ·  browse transcripts: [bold]inspect view --log-dir {log_dir}[/]")
    if not success:
        raise typer.Exit(1)


@app.command()
def demo(
    epochs: Annotated[int, typer.Option(help="Rollouts per configuration.", min=1)] = DEMO_EPOCHS,
    log_dir: Annotated[str, typer.Option(help="Where the demo's Inspect logs go.")] = "peerwatch-logs/demo",
    report_dir: Annotated[str, typer.Option(help="Where the HTML report goes.")] = "peerwatch-report",
    task_type: TaskOpt = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: the cores).", min=1)] = None,
) -> None:
    """Offline demo: every valid configuration of the matrix on the reference agents (no key, no network)."""
    from peerwatch.tasks._run import Selection, check_models, plan
    from peerwatch.tasks._workers import resolve_workers, run_sharded

    selection = Selection(task=task_type or None)
    the_plan = plan(selection, DEMO_MODELS, epochs)
    _print_plan(the_plan, "peerwatch demo: the study matrix on reference agents")
    models = check_models(DEMO_MODELS)
    success, logs = run_sharded(
        selection, models, log_dir, epochs, shard=None,
        workers=resolve_workers(log_dir, workers, None, the_plan.total_configurations),
        max_connections=32, max_tasks=2, display=_display(),
    )  # fmt: skip
    try:
        _after_run(log_dir, success, logs)
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


@app.command()
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
    judge_args = _key_values(judge_arg, "--judge-arg")
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
        judge_model = _judge_model(stack, judge, judge_args, [], [], log_dir)
        success, logs = _harness_eval(eval_set, task, log_dir, models, epochs, grader_roles(judge_model))
    _after_run(log_dir, success, logs)


def _harness_eval(eval_set, task, log_dir, models, epochs, model_roles):
    return eval_set(
        [task],
        log_dir=log_dir,
        model=models,
        model_roles=model_roles,
        epochs=epochs,
        max_samples=1,
        display=_display(),
        fail_on_error=False,
        retry_attempts=1,
        retry_wait=1,
        log_level="warning",
    )


def _harness_guard_options(guard: str | None, audit: str | None, approvals: str | None, log_dir: str) -> dict:
    if not guard:
        return {}
    from peerwatch.tasks._guard import approval_channel

    approval_channel(approvals or "none")  # a bad channel is one line before anything is created
    return {
        "guard": guard,
        "audit": audit or f"{log_dir}/audit.sqlite",
        "approvals": approvals or f"file:{log_dir}/approvals",
    }


@app.command("serve-model")
def serve_model(
    persona: Annotated[str | None, typer.Option(help="Reference persona to play (see peerwatch/<persona>).")] = None,
    script: Annotated[Path | None, typer.Option(help="Action script to play instead of a persona.")] = None,
    config: Annotated[
        str | None, typer.Option("--config", "-c", help="Configuration id (needed for a persona).")
    ] = None,
    family: Annotated[str, typer.Option(help="Family name in the scenario.")] = "Gemini",
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8765,
    instruction_file: Annotated[str, typer.Option(help="The agent's instruction file (memory lives there).")] = (
        "AGENTS.md"
    ),
    model_name: Annotated[str, typer.Option(help="Model id the server reports in /v1/models.")] = "peerwatch",
) -> None:
    """Serve a persona or an action script as an OpenAI-compatible (and Gemini-API) model on 127.0.0.1.

    Tools are adapted to what the client offers: the study's tools when offered, else its shell tool.
    """
    from peerwatch.agents import PERSONAS, ScriptError, check_action_script, load_action_script
    from peerwatch.harness import ModelBridge
    from peerwatch.scenarios import ScenarioError, build_scenario, factors_by_id
    from peerwatch.tasks import script_brain

    if (persona is None) == (script is None):
        fail("give exactly one of --persona NAME or --script FILE")
    if persona is not None and persona not in PERSONAS:
        fail(f"unknown persona {persona!r}; known: {', '.join(PERSONAS)}")
    try:
        actions = load_action_script(script) if script else None
        scenario = build_scenario(factors_by_id(config), family=family) if config else None
        if actions is not None:  # the client may offer a shell, so raw `shell` steps are playable here
            offered, where = (scenario.tools, scenario.id) if scenario else (None, None)
            check_action_script(actions, offered, source=str(script), where=where, shell=True)
    except (ScriptError, ScenarioError) as exc:
        fail(str(exc))
    if persona is not None and scenario is None:
        fail("--persona needs --config CONFIG_ID (the persona plays that scenario)")
    brain = script_brain(persona or "replay", scenario=scenario, script=actions, instruction_file=instruction_file)
    bridge = ModelBridge(brain, model_name=model_name, port=port)
    console.print(f"serving {persona or script} as model '{model_name}' on {bridge.base_url} (Ctrl-C to stop)")
    console.print(
        f"  OpenAI-compatible: base URL {bridge.base_url}/v1  ·  Gemini API: GOOGLE_GEMINI_BASE_URL={bridge.base_url}"
    )
    bridge.serve()


@app.command()
def replay(
    script: Annotated[Path, typer.Argument(help="Action script (YAML or JSON list of {tool, args} / {say}).")],
    task: Annotated[str, typer.Option("--task", help="Task type.")],
    subject: Annotated[str, typer.Option(help="Subject.")],
    condition: Annotated[str, typer.Option(help="Condition.")],
    instantiation: Annotated[str, typer.Option(help="Peer instantiation.")],
    dataset: Annotated[str | None, typer.Option(help="Dataset (evaluation tasks).")] = None,
    threshold: Annotated[int | None, typer.Option(help="Threshold (evaluation tasks).")] = None,
    monitoring: Annotated[str | None, typer.Option(help="monitoring / non_monitoring (alignment_faking).")] = None,
    family: Annotated[str, typer.Option(help="Family name substituted for <Model>.")] = "Gemini",
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as one JSON object.")] = False,
    judge: JudgeOpt = None,
    judge_arg: JudgeArgOpt = None,
) -> None:
    """Run an action script in one scenario and print the verdict (with `--judge`, the LLM judge's signal in it)."""
    from peerwatch.agents import ScriptError, check_action_script, load_action_script, play_script
    from peerwatch.detect import judge as judge_episode
    from peerwatch.scenarios import ScenarioError, build_scenario, factors_from

    judge_args = _key_values(judge_arg, "--judge-arg")
    try:
        actions = load_action_script(script)
    except ScriptError as exc:
        fail(str(exc))
    try:
        factors = factors_from(
            task=task,
            subject=subject,
            condition=condition,
            instantiation=instantiation,
            dataset=dataset,
            threshold=threshold,
            monitoring=monitoring,
        )
        scenario = build_scenario(factors, family=family)
    except ScenarioError as exc:
        fail(f"invalid scenario: {exc}")
    try:
        check_action_script(actions, scenario.tools, source=str(script), where=scenario.id)
    except ScriptError as exc:
        fail(str(exc))
    episode = play_script(scenario, actions)
    signal = _replay_judge(judge, judge_args, scenario, episode) if judge else None
    verdict = judge_episode(scenario, episode.world, episode.ledger, episode.transcript, llm=signal)
    if as_json:
        sys.stdout.write(json.dumps(verdict.model_dump(mode="json")) + "\n")
        return
    console.print(f"[bold]{verdict.scenario}[/]  status: [bold]{verdict.status}[/]")
    for name, b in verdict.behaviours.items():
        mark = "[red]YES[/]" if b.flag else "[green]no[/]"
        console.print(f"  {name:18} {mark}")
        for e in b.evidence:
            console.print(f"      {e}", highlight=False)
    if verdict.judge is not None:
        j = verdict.judge
        told = j.error if j.status != "ok" else ", ".join(f"{k}={v}" for k, v in j.outputs.items() if v is not None)
        flags = ", ".join(f"{k} {'YES' if v else 'no'}" for k, v in j.behaviours.items())
        console.print(f"  judge {j.model} (prompts {j.prompt_version}): {j.status}  {told}", highlight=False)
        if flags:
            console.print(f"      judge flags: {flags}", highlight=False)


def _replay_judge(judge, judge_args, scenario, episode):
    import tempfile

    from peerwatch.tasks._judge import judge_now

    with contextlib.ExitStack() as stack:  # a local judge is served for this one episode
        model = _judge_model(stack, judge, judge_args, [], [], tempfile.gettempdir(), note=err)
        return judge_now(model, scenario, episode.world, episode.ledger, episode.transcript)


@app.command("list")
def list_matrix() -> None:
    """Print the study matrix: task types, factors and configuration counts."""
    from collections import Counter

    from peerwatch.scenarios import enumerate_factors

    factors = enumerate_factors()
    counts = Counter(f.task for f in factors)
    table = Table(title="peerwatch study matrix")
    for col in (
        "task type",
        "configurations",
        "subjects",
        "conditions",
        "instantiations",
        "dataset@threshold",
        "monitoring",
    ):
        table.add_column(col)
    for task in counts:
        fs = [f for f in factors if f.task == task]

        def vals(attr: str, fs=fs) -> str:
            seen: list[str] = []
            for f in fs:
                v = getattr(f, attr) if attr != "grid" else (f"{f.dataset}@{f.threshold}" if f.dataset else None)
                if v is not None and str(v) not in seen:
                    seen.append(str(v))
            return ", ".join(seen) or "-"

        table.add_row(
            task,
            str(counts[task]),
            vals("subject"),
            vals("condition"),
            vals("instantiation"),
            vals("grid"),
            vals("monitoring"),
        )
    console.print(table)
    console.print(f"total configurations: {len(factors)}  (× epochs × models = samples)")


@app.command()
def report(
    log_dirs: Annotated[
        list[str], typer.Argument(help="One or more directories of Inspect logs (local, or a URL: s3://bucket/prefix).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("peerwatch-report"),
    compare_study: Annotated[bool, typer.Option("--compare-study", help="Add the study's published numbers.")] = False,
) -> None:
    """Build samples.csv, results.csv, tables.md and a self-contained index.html from run logs."""
    from rich.markdown import Markdown

    from peerwatch.analysis import LogReadError, write_report
    from peerwatch.tasks._storage import StorageError, is_dir

    for d in log_dirs:
        try:
            found = is_dir(d)
        except StorageError as exc:
            fail(str(exc))
        if not found:
            fail(f"log directory not found: {d}")
    try:
        index = write_report(list(log_dirs), out, compare_study)
    except LogReadError as e:
        fail(str(e))
    console.print(Markdown((out / "tables.md").read_text(encoding="utf-8")))
    console.print(f"report: [bold]{index}[/]  (samples.csv, results.csv and tables.md beside it)")


@app.command()
def rescore(
    log_dirs: Annotated[list[Path], typer.Argument(help="One or more directories of Inspect logs to judge again.")],
    judge: Annotated[
        str | None,
        typer.Option("--judge", help="Also run the LLM judge with this Inspect model, e.g. openai/gpt-4.1-mini."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output directory (default: <LOG_DIR>-rescored-<UTC time> beside each input)."),
    ] = None,
) -> None:
    """Judge existing logs again (detectors, verifier, optionally the LLM judge) into NEW logs; no agent runs.

    Re-running into the same --out resumes: logs already rescored there (same source, same judge) are kept.
    """
    from peerwatch.tasks._rescore import RescoreError, rescore_dirs

    try:
        summary = rescore_dirs(list(log_dirs), out, judge, progress=True)
    except RescoreError as exc:
        fail(str(exc))
    actions = [r.action for r in summary.logs]
    console.print(
        f"rescored {actions.count('rescored')} log(s) ({summary.total('rescored')} samples, "
        f"{summary.total('changed')} changed), kept {actions.count('kept')} already rescored, "
        f"skipped {actions.count('not_peerwatch')} non-peerwatch log(s)"
    )
    for reason, n in summary.skipped().items():
        console.print(f"  {n} sample(s) left as they were: {reason}")
    for src, dst in summary.out_dirs.items():
        console.print(f"{src} -> [bold]{dst}[/]  (report: peerwatch report {dst})", highlight=False)


audit_app = typer.Typer(help="Inspect and verify an oversight audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

StoreArg = Annotated[str, typer.Argument(help="Audit store: SQLite path or postgresql:// DSN.")]


def _open_log(store: str):
    from peerwatch.oversight import AuditLog, StoreError, open_store

    try:
        return AuditLog(open_store(store, create=False))
    except StoreError as exc:
        fail(str(exc))


KeystoreOpt = Annotated[
    str | None,
    typer.Option(help="Operator key store (default: $PEERWATCH_KEYSTORE, else the user's config dir /peerwatch)."),
]


@audit_app.command("keygen")
def audit_keygen(
    keystore: KeystoreOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace existing keys (old checkpoints stop verifying).")
    ] = False,
) -> None:
    """Create the checkpoint signing key and the witness key in the operator's key store (mode 0600)."""
    from peerwatch.oversight import KeyStore, KeyStoreError

    ks = KeyStore(keystore)
    try:
        signer = ks.keygen(force=force)
    except KeyStoreError as exc:
        fail(str(exc))
    console.print(f"signing key {signer.key_id} in {ks.path} (public: {ks.path}/audit-signing.pub)", soft_wrap=True)


@audit_app.command("verify")
def audit_verify(
    store: StoreArg,
    keystore: KeystoreOpt = None,
    public_key: Annotated[str | None, typer.Option(help="Log's PEM public key (third party; default: pinned).")] = None,
    witness: Annotated[
        str | None, typer.Option(help="Witness record (JSON) or cosigned checkpoint note (default: key store).")
    ] = None,
    witness_key: Annotated[str | None, typer.Option(help="Witness's PEM public key, to check its cosignature.")] = None,
    checkpoints: Annotated[str | None, typer.Option(help="Checkpoint file (default: the one beside the log).")] = None,
    allow_uncovered: Annotated[
        bool, typer.Option("--allow-uncovered", help="A live log: records past the last checkpoint are not an error.")
    ] = False,
) -> None:
    """Verify chain, signed checkpoints and the witnessed checkpoint. Exit 1 naming the reason and first bad record."""
    from peerwatch.oversight._verify import VerifyInputError, verify_store

    try:
        result, name = verify_store(
            store, keystore, public_key, witness, witness_key, checkpoints, allow_uncovered=allow_uncovered
        )
    except VerifyInputError as exc:
        fail(str(exc))
    if not result.ok:
        where = f" at record {result.first_bad}" if result.first_bad is not None else ""
        err.print(f"[bold red]FAILED[/]{where}: {result.reason}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    console.print(
        f"[green]OK[/] {name}: {result.records} records, root {result.root[:16]}..., "
        f"checkpoint of {result.covered} records signed and witnessed",
        highlight=False,
        soft_wrap=True,
    )


@audit_app.command("show")
def audit_show(
    store: StoreArg,
    last: Annotated[int, typer.Option(help="Show the last N records.")] = 20,
) -> None:
    """Show the newest records."""
    log = _open_log(store)
    records = log.records()[-last:]
    table = Table(title=f"audit log {log.store.display}")
    for col in ("seq", "time", "actor", "tool", "decision", "rule"):
        table.add_column(col)
    for r in records:
        table.add_row(str(r.seq), r.time[:19], r.actor, r.tool, r.decision, r.rule or "")
    console.print(table)


@audit_app.command("export")
def audit_export(store: StoreArg) -> None:
    """Write every record as JSON Lines to stdout."""
    log = _open_log(store)
    for _, _, body in log.store.records():
        sys.stdout.write(body + "\n")


@app.command()
def approve(
    target: Annotated[
        str | None,
        typer.Argument(help="Approvals directory (file:DIR), URL, or `http` for the latest HTTP channel (http:PORT)."),
    ] = None,
    approver: Annotated[str, typer.Option(help="Your name, recorded with each decision.")] = "human",
    watch: Annotated[bool, typer.Option(help="Keep waiting for new requests (Ctrl-C to stop).")] = False,
    keygen: Annotated[bool, typer.Option(help="Create your approver key in the key store and trust it.")] = False,
    key: Annotated[Path | None, typer.Option(help="Approver key (default: approver.key in the key store).")] = None,
    token_file: Annotated[Path | None, typer.Option(help="HTTP channel token (default: in the key store).")] = None,
) -> None:
    """Review pending approval requests and approve or deny each exact call with your signature."""
    import time

    from rich.prompt import Confirm

    from peerwatch.oversight import ApproverKey, ApproverKeyError
    from peerwatch.oversight._render import render_request
    from peerwatch.oversight._review import Reviewer, ReviewError

    try:
        if keygen:
            k = ApproverKey.generate(key, _passphrase(new=True))
            console.print(f"approver key {k.key_id} created and trusted", highlight=False)
            if target is None:
                return
        if target is None:
            fail("give the approvals directory or URL, e.g. peerwatch approve peerwatch-logs/approvals")
        reviewer = Reviewer(str(target), None, token_file)
        reviewer.key = _load_approver_key(key)
        seen: set[str] = set()
        while True:
            for req in reviewer.pending():
                if req.digest in seen:
                    continue
                seen.add(req.digest)
                console.print(render_request(req), highlight=False)
                ok = Confirm.ask(f"approve call [{req.digest[:12]}]?", default=False)
                reviewer.answer(req, ok, approver)
            if not watch:
                break
            time.sleep(0.5)
    except (ApproverKeyError, ReviewError) as exc:
        fail(str(exc))
    if not seen:
        console.print("no pending requests")


def _passphrase(new: bool) -> str | None:
    # $PEERWATCH_APPROVER_PASSPHRASE is for the operator's automation; it must never be in an agent's environment.
    import os

    env = os.environ.get("PEERWATCH_APPROVER_PASSPHRASE")
    if env is not None or not sys.stdin.isatty():
        return env or None
    text = typer.prompt(
        "passphrase for the approver key (empty: none)" if new else "approver key passphrase",
        default="", hide_input=True, show_default=False, confirmation_prompt=new,
    )
    return text or None


def _load_approver_key(path: Path | None):
    from peerwatch.oversight import ApproverKey, keystore_dir

    target = path or keystore_dir() / "approver.key"
    encrypted = target.exists() and b"ENCRYPTED" in target.read_bytes()
    return ApproverKey.load(path, _passphrase(new=False) if encrypted else None)


@app.command("mcp-proxy", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def mcp_proxy(
    ctx: typer.Context,
    actor: Annotated[str, typer.Option(help="Identity of the agent behind this proxy (set by the orchestrator).")],
    policy: Annotated[str | None, typer.Option(help="Policy file (default: the built-in policy).")] = None,
    audit: Annotated[
        str, typer.Option(help="Audit store: SQLite path or postgresql:// DSN.")
    ] = "peerwatch-audit.sqlite",
    approvals: Annotated[
        str, typer.Option(help="file:DIR, http:PORT, https:HOST:PORT or none (deny what needs a human).")
    ] = "none",
    root: Annotated[
        list[Path] | None, typer.Option(help="Directory the upstream serves (repeatable): protected files are indexed.")
    ] = None,
    mcp_rules: Annotated[Path | None, typer.Option(help="What the upstream's tools do (default: built in).")] = None,
    evaluates: Annotated[
        str | None, typer.Option(help="The agent (or model) the actor evaluates, e.g. 'Gemini Agent 2'.")
    ] = None,
    actor_model: Annotated[
        str | None, typer.Option(help="The actor's model (its family decides evaluator != evaluated).")
    ] = None,
) -> None:
    """Serve MCP on stdio in front of an upstream MCP server: `peerwatch mcp-proxy --actor A -- CMD ARGS...`.

    With `--evaluates SUBJECT`, an evaluation by the subject's own model family is refused unless the policy sets
    `allow_same_family_evaluation: true`."""
    import anyio

    from peerwatch.oversight import (
        ApprovalChannelError,
        AuditLog,
        Guard,
        PolicyError,
        StoreError,
        channel_from_spec,
        evaluation,
        load_policy,
    )
    from peerwatch.oversight import open_store as _open
    from peerwatch.oversight._mcp_proxy import ProxySetupError, check_command, run_proxy
    from peerwatch.oversight._mcp_rules import McpRulesError, load_mcp_rules

    if not ctx.args:
        fail("give the upstream server's command after --, e.g. peerwatch mcp-proxy --actor a -- python server.py")
    for r in root or []:
        if not r.is_dir():
            fail(f"--root {r}: not a directory")
    try:
        check_command(ctx.args[0])
        pol, rules = load_policy(policy), load_mcp_rules(mcp_rules)
        channel = channel_from_spec(approvals)
        ev = evaluation(actor_model or actor, evaluates) if evaluates else None
        log = AuditLog(_open(audit))
        guard = Guard(pol, log, channel)
        anyio.run(lambda: run_proxy(guard, actor, ctx.args[0], ctx.args[1:], roots=root, rules=rules, evaluation=ev))
    except (PolicyError, StoreError, ApprovalChannelError, McpRulesError, ProxySetupError) as exc:
        fail(str(exc))


policy_app = typer.Typer(help="Check and attack an oversight policy file.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")

PolicyArg = Annotated[str, typer.Argument(help="Policy file, or 'default' / 'production' for a built-in one.")]


def _load_policy_arg(policy: str):
    from peerwatch.oversight import PolicyError, builtin_policy_path, load_policy

    path = builtin_policy_path(f"{policy}.yaml") if policy in ("default", "production") else policy
    try:
        return load_policy(path)
    except PolicyError as exc:
        fail(str(exc))


@policy_app.command("check")
def policy_check(policy: PolicyArg) -> None:
    """Lint a policy: unreachable and shadowed rules, effects no rule covers, protected classes that select nothing.

    Exit 0 when clean, 1 with findings, 2 when the file does not load.
    """
    from peerwatch.oversight._attacks import protection_misses
    from peerwatch.oversight._policy_lint import lint

    pol = _load_policy_arg(policy)
    findings = [(f.kind, f.message) for f in lint(pol)]
    findings += [("selects-nothing", m) for m in protection_misses(pol)]
    for kind, message in findings:
        console.print(f"{policy}: [yellow]{kind}[/]: {message}", highlight=False, soft_wrap=True)
    if findings:
        err.print(f"{len(findings)} finding(s)")
        raise typer.Exit(1)
    console.print(f"[green]OK[/] {policy}: {len(pol.rules)} rules, no findings")


@policy_app.command("test")
def policy_test(
    policy: PolicyArg,
    approve_all: Annotated[
        bool, typer.Option("--approve-all", help="Every human approves (find what only a human's vigilance stops).")
    ] = False,
    attacks: Annotated[
        Path | None, typer.Option(help="A directory of attack files (*.yaml) to play instead of the bundled suite.")
    ] = None,
) -> None:
    """Play the bundled attack suite in every relevant simulated world with the guard on; print what got through.

    Exit 0 when nothing got through, 1 otherwise.
    """
    from peerwatch.oversight import PolicyError
    from peerwatch.oversight._attacks import holes, load_suite, protection_misses, run_suite

    pol = _load_policy_arg(policy)
    try:
        suite = load_suite(attacks)
    except PolicyError as exc:
        fail(str(exc))
    misses = protection_misses(pol)
    if misses:  # a guarded run would stop before its first sample
        fail(f"{policy}: a guarded run would refuse to start: {misses[0]}", code=1)
    result = run_suite(pol, policy, approve_all=approve_all, suite=suite)
    rows = holes(result)
    if rows:
        table = Table(title=f"attacks that got through {policy}")
        for col in ("attack", "target", "scenarios", "example scenario", "what changed"):
            table.add_column(col)
        for h in rows:
            table.add_row(h.attack, h.target, str(h.scenarios), h.example, h.what)
        console.print(table)
    n, k = len(result.outcomes), len(result.through)
    console.print(
        f"policy test {policy}: {result.attacks} attacks in {result.scenarios} scenario worlds = {n} episodes; "
        f"{k} got through ({len(rows)} distinct attacks)",
        highlight=False,
    )
    if k:
        raise typer.Exit(1)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
