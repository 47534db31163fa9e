"""What a plan runs in a log dir that already holds tasks: only the configurations no earlier task holds.

Inspect's eval set knows a task by its name and arguments (the selection, `--limit`, `--epochs`, the shard). A plan
that overlaps tasks run before - the union of two slices, a slice of a union - is a new task to it, which would run
every sample again beside the finished ones. So before a run, every task already in the log dir (the dir itself and
each `shard-K-of-N` folder) is read, and for each model and task type:

- an earlier task whose configurations all lie in the plan is run again *as it was* (same arguments, so the eval set
  finds it done, or resumes it: the missing samples of a killed slice are completed, none run twice);
- an earlier task that only partly overlaps the plan holds its part: those configurations are not run here (that
  would run its other configurations too, or them twice); if it is unfinished, a note says so and how to finish it;
- the rest is this plan's own task, with the held configurations as its `exclude` argument. That argument depends
  only on what other tasks hold, so the same command again builds the same task (done: a no-op), every shard and
  worker partitions the same remainder, and a later plan sees this task as holding its configurations.

A task of the plan itself (same arguments but for `shard` and `exclude`, split the same way) is not "earlier"; one
whose `exclude` differs from what the log dir holds now counts as earlier, so nothing it holds runs twice. Earlier
tasks of other epochs sharing a configuration with the plan are a one-line PlanError: their epochs would mix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from typing import Any

from inspect_ai.log import EvalLog, list_eval_logs, read_eval_log
from pydantic import BaseModel

from peerwatch.scenarios import Factors

from ._run import PlanError, Selection, select
from ._specs import TaskSpec
from ._storage import StorageError, is_dir, join, names
from ._tasks import TASKS, parse_shard, slice_factors

_SHARD_DIR = re.compile(r"shard-\d+-of-\d+")
_NOT_IDENTITY = ("shard", "exclude")  # how a plan is split and what it leaves to others: not which plan it is


class _Unset:
    """No value given (None is a message limit: none)."""


_UNSET = _Unset()


class HeldTask(BaseModel):
    """A task already in the log dir (one entry per task, however many attempts it logged)."""

    dir: str
    task_type: str
    args: dict[str, Any]  # as passed: with the model, Inspect's identity of the task
    model: str
    configs: frozenset[str]
    epochs: int
    finished: bool
    locations: list[str]
    message_limit: int | None = None
    judge: str | None = None  # the LLM judge's model (Inspect role `grader`), part of Inspect's identity too


class ShardPlan(BaseModel):
    """The tasks one eval set (one worker's shard dir) runs."""

    dir: str
    shard: str | None
    specs: list[TaskSpec]


class RunPlan(BaseModel):
    """What a run does in its log dir, per eval set; `notes` are one line each, for the user."""

    shards: list[ShardPlan]
    notes: list[str] = []
    models: list[str] = []
    epochs: int = 1
    wanted: list[tuple[str, str]] = []  # (model, configuration) the plan covers, wherever it is held
    related: list[str] = []  # logs holding part of the plan that no eval set of this run runs (partly held ones)
    held: int = 0  # (model, configuration) pairs of the plan that tasks in the log dir hold (done, or to resume)

    def held_line(self) -> str | None:
        """One line on what earlier slices in the log dir already hold of this plan (None: nothing)."""
        if not self.held:
            return None
        return (
            f"log dir: tasks there (earlier slices, or this plan run before) hold {self.held:,} of the "
            f"{len(self.wanted):,} planned (model, configuration) pairs ({self.held * self.epochs:,} samples): they "
            f"are kept or resumed as they are, {(len(self.wanted) - self.held) * self.epochs:,} samples are new"
        )

    @property
    def samples(self) -> int:
        """The samples planned (configurations x models x epochs), wherever they are held."""
        return len(self.wanted) * self.epochs


def plan_logs(log_dir: str, plan: RunPlan) -> tuple[list[EvalLog], list[EvalLog]]:
    """The headers of the logs holding this plan's samples (its tasks' and the partly held ones'), and the others
    in `log_dir` (other slices; the report merges them all)."""
    keys = {json.dumps([d.dir, s.task_type, s.args, s.model or m], sort_keys=True, default=str)
            for d in plan.shards for s in d.specs for m in ([s.model] if s.model else plan.models)}  # fmt: skip
    related = set(plan.related)
    mine: list[EvalLog] = []
    others: list[EvalLog] = []
    for d in _dirs(log_dir):
        for info in list_eval_logs(d, recursive=False):
            log = _header(info)
            if log is None:
                continue
            ev = log.eval
            key = json.dumps([d, (ev.metadata or {}).get("peerwatch_task"), ev.task_args_passed or {}, ev.model],
                             sort_keys=True, default=str)  # fmt: skip
            (mine if key in keys or info.name in related else others).append(log)
    mine.sort(key=lambda log: log.status != "success")  # a sample in a finished log and a killed one: count that
    return mine, others


def held_tasks(log_dir: str) -> list[HeldTask]:
    """Every peerwatch simulated task in `log_dir` and its shard folders."""
    try:
        found: dict[str, HeldTask] = {}
        for d in _dirs(log_dir):
            for info in list_eval_logs(d, recursive=False):
                ev = _header(info)
                task = _held(d, ev, info.name) if ev is not None else None
                if task is None:
                    continue
                key = json.dumps([d, task.task_type, task.args, task.model], sort_keys=True, default=str)
                if key in found:  # a killed attempt and its resumption: one task
                    found[key].finished |= task.finished
                    found[key].locations += task.locations
                else:
                    found[key] = task
    except StorageError as exc:
        raise PlanError(str(exc)) from None
    return list(found.values())


def _header(info: Any) -> EvalLog | None:
    # A log no reader can open holds nothing to resume; the run whose eval set it sits in refuses it in one line
    # (`check_log_dir`), the others go on without it.
    try:
        return read_eval_log(info, header_only=True)
    except Exception:
        return None


def _dirs(log_dir: str) -> list[str]:
    if not is_dir(log_dir):
        return []
    return [log_dir] + [join(log_dir, e) for e in sorted(names(log_dir)) if _SHARD_DIR.fullmatch(e)]


def _held(d: str, log: Any, location: str) -> HeldTask | None:
    ev = log.eval
    task_type = (ev.metadata or {}).get("peerwatch_task")
    name = str(ev.task_registry_name or "").rsplit("/", 1)[-1]
    if not task_type or (name not in TASKS and name != "family_task"):
        return None  # harness tasks and rescored logs are not slices of the simulated plan
    return HeldTask(
        dir=d,
        task_type=str(task_type),
        args=dict(ev.task_args_passed or {}),
        model=str(ev.model),
        configs=frozenset(str(i) for i in ev.dataset.sample_ids or []),
        epochs=ev.config.epochs or 1,
        finished=log.status == "success",
        locations=[location],
        message_limit=ev.config.message_limit,
        judge=_judge_of(ev.model_roles),
    )


def own_args(
    selection: Selection,
    task_type: str,
    family: str | None,
    guard: str | None,
    limit: int | None,
    epochs: int,
    shard: str | None = None,
    exclude: Collection[str] | None = None,
) -> dict[str, Any]:
    """A task type's arguments for this plan, in the order (and with the omissions) `build_tasks` always passed them
    (Inspect hashes them in order): the identity of tasks logged before stays the same."""
    import inspect

    from ._tasks import family_task

    fn = TASKS.get(task_type, family_task)
    accepted = inspect.signature(fn).parameters
    knobs = {k: v for k, v in selection.model_dump().items() if k != "task" and v is not None and k in accepted}
    extra: dict[str, Any] = {"family": family, "guard": guard, "limit": limit, "epochs": epochs, "shard": shard}
    if fn is family_task:
        extra["task_type"] = task_type
    extra["exclude"] = sorted(exclude) if exclude else None
    return {**knobs, **{k: v for k, v in extra.items() if v is not None}}


def _split(task: HeldTask) -> int:
    shard = task.args.get("shard")
    return parse_shard(str(shard))[1] if shard else 1


def _base(args: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in args.items() if k not in _NOT_IDENTITY}, sort_keys=True, default=str)


def plan_run(
    log_dir: str,
    selection: Selection,
    models: Sequence[str],
    epochs: int,
    limit: int | None,
    guard: str | None,
    family: str | None,
    shards: Sequence[str | None],
    dirs: Sequence[str],
    message_limit: int | _Unset | None = _UNSET,
    judge: str | _Unset | None = _UNSET,
) -> RunPlan:
    """The tasks each of this run's eval sets (`shards`, in `dirs`) runs, given what `log_dir` already holds.

    Raises PlanError (one line) when an earlier task of other epochs holds a configuration of the plan, or (when
    `message_limit` or `judge` is given: the run's) a task this run would resume ran under another message limit or
    judge: Inspect counts both in a task's identity, so it would run that task's samples again beside the finished
    ones.
    """
    held = held_tasks(log_dir)
    split = parse_shard(shards[0])[1] if shards[0] else 1
    by_type: dict[str, list[Factors]] = {}
    for f in select(selection):
        by_type.setdefault(f.task, []).append(f)
    per_model: dict[str, dict[str, list[TaskSpec]]] = {}
    notes: list[str] = []
    wanted: list[tuple[str, str]] = []
    related: list[str] = []
    held_pairs = 0
    for model in models:
        specs: dict[str, list[TaskSpec]] = {d: [] for d in dirs}
        for task_type, factors in by_type.items():
            planned = [f.config_id for f in slice_factors(factors, limit)]
            wanted += [(model, c) for c in planned]
            args = own_args(selection, task_type, family, guard, limit, epochs)  # the plan, as yet unsplit
            mine = [t for t in held if t.model == model and t.task_type == task_type
                    and t.args.get("guard") == guard and t.args.get("family") == family]  # fmt: skip
            earlier, exclude = _earlier(mine, set(planned), _base(args), split)
            again = {c for t in mine if _base(t.args) == _base(args) and _split(t) == split
                     and sorted(t.args.get("exclude") or []) == sorted(exclude) for c in t.configs}  # fmt: skip
            held_pairs += len(exclude | (again & set(planned)))  # by earlier slices, or by this plan run before
            for t in earlier:
                if t.epochs != epochs:
                    raise PlanError(
                        f"log dir {log_dir} holds {len(t.configs & set(planned))} of these {task_type} "
                        f"configurations at --epochs {t.epochs}, not {epochs}: run them with --epochs {t.epochs}, "
                        "or use another --log-dir (their epochs would mix)"
                    )
                if t.configs <= set(planned) and t.dir in specs:
                    _same_run(t, message_limit, judge, log_dir)
                    specs[t.dir].append(TaskSpec(task_type=task_type, args=t.args))  # as it was: done or resumed
                    continue
                related += t.locations
                if not t.finished:
                    notes.append(_unfinished(t, model, set(planned), log_dir))
            for d, shard in zip(dirs, shards, strict=True):
                if not slice_factors(factors, limit, shard, exclude):  # held elsewhere, or an empty shard
                    continue
                own = own_args(selection, task_type, family, guard, limit, epochs, shard, exclude)
                for t in mine:  # this very task, run before
                    if t.dir == d and t.args == own:
                        _same_run(t, message_limit, judge, log_dir)
                specs[d].append(TaskSpec(task_type=task_type, args=own))
        per_model[model] = specs
    first = next(iter(per_model.values()))
    if any(specs != first for specs in per_model.values()):  # the models' plans differ: each task is one model's
        merged = {d: [s.model_copy(update={"model": m}) for m in models for s in per_model[m][d]] for d in dirs}
    else:
        merged = first
    return RunPlan(
        shards=[ShardPlan(dir=d, shard=s, specs=merged[d]) for d, s in zip(dirs, shards, strict=True)],
        notes=notes, models=list(models), epochs=epochs, wanted=wanted, related=related, held=held_pairs,
    )  # fmt: skip


def _same_run(task: HeldTask, message_limit: int | _Unset | None, judge: str | _Unset | None, log_dir: str) -> None:
    what = f"{len(task.configs)} of these {task.task_type} configurations"
    if not isinstance(message_limit, _Unset) and task.message_limit != message_limit:
        before = "none" if task.message_limit is None else task.message_limit
        raise PlanError(
            f"log dir {log_dir} holds {what} run with --message-limit {before}, not {message_limit or 'none'}: run "
            "them with the same --message-limit (Inspect would run them again), or use another --log-dir"
        )
    if not isinstance(judge, _Unset) and task.judge != judge:
        raise PlanError(
            f"log dir {log_dir} holds {what} run with --judge {task.judge or '(none)'}, not {judge or '(none)'}: run "
            "them with the same --judge (Inspect would run them again; `peerwatch rescore` judges logs anew), or "
            "use another --log-dir"
        )


def _judge_of(roles: Any) -> str | None:
    grader = (roles or {}).get("grader")
    return str(getattr(grader, "model", grader)) if grader is not None else None


def _earlier(tasks: list[HeldTask], planned: set[str], base: str, split: int) -> tuple[list[HeldTask], set[str]]:
    """The earlier tasks holding part of the plan, and the configurations they hold (this plan's `exclude`)."""
    earlier = [t for t in tasks if _base(t.args) != base or _split(t) != split]
    ours = [t for t in tasks if t not in earlier]
    exclude: set[str] = set()
    while True:
        exclude = {c for t in earlier for c in t.configs & planned}
        # A task of this plan that left other configurations to others than the log dir says now holds what it
        # holds: once earlier, always (the set only grows, so this ends).
        stale = [t for t in ours if sorted(t.args.get("exclude") or []) != sorted(exclude)]
        if not stale:
            return [t for t in earlier if t.configs & planned], exclude
        earlier += stale
        ours = [t for t in ours if t not in stale]


def _unfinished(task: HeldTask, model: str, planned: set[str], log_dir: str) -> str:
    args = task.args
    flags = ["-m", model, "-t", task.task_type]
    for key in ("subject", "condition", "instantiation", "dataset", "threshold", "monitoring"):
        value = args.get(key)  # a list as peerwatch passes it; a comma-separated string from `inspect eval -T`
        values = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else [value]
        flags += [a for v in values if v is not None and str(v).strip() for a in (f"--{key}", str(v).strip())]
    for key in ("limit", "epochs", "family", "guard"):
        if args.get(key) is not None:
            flags += [f"--{key}", str(args[key])]
    # Its own eval set: the dir it lies in (by default a run follows the layout the log dir holds, not this one).
    flags += ["--shard", str(args["shard"]), "--workers", "1"] if args.get("shard") else ["--workers", "1"]
    return (
        f"note: an earlier {task.task_type} slice ({model}) holds {len(task.configs & planned)} of the configurations "
        f"planned and is unfinished; this run leaves it as it is. To complete it: "
        f"peerwatch run {' '.join(flags)} --log-dir {log_dir}"
    )
