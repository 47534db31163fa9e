"""Running the study matrix through Inspect: plan, model checks, and a resumable `eval_set`."""

from __future__ import annotations

import asyncio
import gc
import inspect
from collections import Counter
from collections.abc import Sequence
from typing import Any

import yaml
from inspect_ai import Task, eval_set
from inspect_ai.log import EvalLog, list_eval_logs, read_eval_log
from inspect_ai.model import GenerateConfig, Model, get_model
from inspect_ai.util import DisplayType
from pydantic import BaseModel, Field
from rich.text import Text

from peerwatch.scenarios import Factors, enumerate_factors

from ._faults import LOCAL_PROVIDERS, PERMANENT_STATUS, harden_retries, status_of, watch_refusals
from ._interrupt import interrupts
from ._judge import GRADER_ROLE
from ._pace import PaceOptions, configure
from ._specs import TaskSpec, build_specs
from ._storage import StorageError, check_writable, is_dir
from ._tasks import TASKS, check_family, family_task, slice_factors, study_task


class ModelCheckError(ValueError):
    """A model string that cannot be used (unknown provider, missing API key...)."""


class PlanError(ValueError):
    """A run that cannot go into the given log dir (it holds logs of something else)."""


def check_log_dir(log_dir: str) -> None:
    """Refuse a log dir holding logs that are not peerwatch's (another study's slices are welcome: they merge).

    The log dir may be an fsspec URL (`s3://bucket/prefix`): a remote one must also be reachable and writable now,
    not when the first log is flushed after samples have run.
    """
    try:
        check_writable(log_dir)
        if not is_dir(log_dir):
            return
    except StorageError as exc:
        raise PlanError(str(exc)) from None
    for info in list_eval_logs(log_dir, recursive=False):
        name = info.name.rstrip("/").rsplit("/", 1)[-1]
        try:
            header = read_eval_log(info, header_only=True)
        except Exception as exc:
            raise PlanError(f"log dir {log_dir}: {name} is not a readable Inspect log ({type(exc).__name__})") from None
        if "peerwatch_task" not in (header.eval.metadata or {}):
            raise PlanError(
                f"log dir {log_dir} holds {name}, which is not a peerwatch log (task {header.eval.task!r}); "
                "use another --log-dir"
            )


class Selection(BaseModel):
    """The study knobs as the CLI takes them (None = all valid values)."""

    task: list[str] | None = None
    subject: list[str] | None = None
    condition: list[str] | None = None
    instantiation: list[str] | None = None
    dataset: list[str] | None = None
    threshold: list[int] | None = None
    monitoring: list[str] | None = None


class FaultPolicy(BaseModel):
    """How hard a run tries before a provider fault costs a sample (all configurable from the CLI)."""

    retry_on_error: int = Field(default=3, ge=0, description="Re-runs of a sample that errored.")
    retry_attempts: int = Field(default=3, ge=0, description="Eval-set passes over tasks with errored samples.")
    retry_wait: float = Field(default=1.0, ge=0, description="Seconds before the first eval-set retry (doubles).")
    max_retries: int | None = Field(default=8, ge=0, description="Retries of one model call (Inspect's backoff).")
    attempt_timeout: int | None = Field(default=120, ge=1, description="Seconds before one call attempt is retried.")
    # How much a kill -9 can cost: samples finished since the last write are run again by the re-run (unless
    # Inspect recovers them from its sample buffer). None: Inspect's default (a third of a task's samples, <= 10).
    log_buffer: int | None = Field(default=None, ge=1, description="Finished samples held before each log write.")


class Plan(BaseModel):
    """What a run will do."""

    models: list[str]
    configurations: dict[str, int]
    epochs: int
    limit: int | None = None

    @property
    def total_configurations(self) -> int:
        """Configurations over all task types."""
        return sum(self.configurations.values())

    @property
    def run_counts(self) -> dict[str, int]:
        """Configurations that run per task type (after `limit`)."""
        return {t: min(n, self.limit) if self.limit else n for t, n in self.configurations.items()}

    @property
    def run_configurations(self) -> int:
        """Configurations that run (after `limit`)."""
        return sum(self.run_counts.values())

    @property
    def samples(self) -> int:
        """Samples to run (configurations × epochs × models, after `limit`)."""
        return self.run_configurations * self.epochs * len(self.models)


def select(selection: Selection) -> list[Factors]:
    """The valid configurations matching the selection (raises ScenarioError for unknown or invalid values).

    Each family reached is checked here too (its detectors and judge questions exist), before any worker starts.
    """
    out = enumerate_factors(**selection.model_dump())
    for task_type in dict.fromkeys(f.task for f in out):
        check_family(task_type)
    return out


def planned_factors(selection: Selection, limit: int | None = None, shard: str | None = None) -> list[Factors]:
    """The configurations a run of `selection` plays, per task type exactly as its task slices them."""
    by_task: dict[str, list[Factors]] = {}
    for f in select(selection):
        by_task.setdefault(f.task, []).append(f)
    return [f for fs in by_task.values() for f in slice_factors(fs, limit, shard)]


def plan(selection: Selection, models: Sequence[str], epochs: int, limit: int | None = None) -> Plan:
    """Count configurations per task type for a selection."""
    counts: Counter[str] = Counter(f.task for f in select(selection))
    return Plan(models=list(models), configurations=dict(counts), epochs=epochs, limit=limit)


def check_models(models: Sequence[str], model_args: dict[str, Any] | None = None) -> list[Model]:
    """Instantiate every model before any sample starts, so a typo or a missing key fails at once.

    A remote model's calls also retry the broken 200 bodies Inspect leaves to the sample (`harden_retries`).
    """
    if not models:
        raise ModelCheckError("no model given: pass --model, e.g. --model openai/gpt-4.1-mini or peerwatch/reference")
    twice = sorted({name for name in models if list(models).count(name) > 1})
    if twice:  # Inspect would refuse the eval set later with a paragraph; the same model twice is a typo
        raise ModelCheckError(f"--model {twice[0]} is given twice; give each model once")
    out: list[Model] = []
    for name in models:
        try:
            out.append(harden_retries(get_model(name, **(model_args or {}))))
        except Exception as exc:  # Inspect raises several types (PrerequisiteError, ValueError...): all are fatal here
            message = " ".join(_plain(str(exc)).split()) or type(exc).__name__
            raise ModelCheckError(f"model '{name}': {message}") from None
    return out


def check_judge(name: str | None, model_args: dict[str, Any] | None = None) -> Model | None:
    """The LLM judge's model (role `grader`), instantiated before any sample starts; None when no judge is asked for."""
    if not name:
        return None
    try:
        [model] = check_models([name], model_args)
        preflight([model])  # a bad key or an unknown judge model fails here, not in every sample's scorer
    except ModelCheckError as exc:
        raise ModelCheckError(f"--judge: {exc}") from None
    return model




def preflight(models: Sequence[Model]) -> None:
    """One tiny call per remote model before any sample starts: a permanent error (auth, unknown model) fails fast.

    Transient faults (5xx, 429, timeouts, broken bodies) are not judged here: the run's retries deal with them.
    """

    async def probe(model: Model) -> None:
        await model.generate("ping", config=GenerateConfig(max_tokens=1, max_retries=0, attempt_timeout=30))

    for model in models:
        name = str(model)
        if name.startswith(LOCAL_PROVIDERS):
            continue
        try:
            asyncio.run(probe(model))
        except Exception as exc:
            status = status_of(exc)
            if status in PERMANENT_STATUS:
                message = " ".join(_plain(str(exc)).split())[:300]
                raise ModelCheckError(f"model '{name}': the provider refused it (HTTP {status}): {message}") from None


def split_key_values(pairs: Sequence[str] | None, option: str) -> dict[str, str]:
    """`KEY=VALUE` option values as a dict of strings (a later KEY wins); ModelCheckError naming `option` otherwise."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ModelCheckError(f"{option} takes KEY=VALUE, got {pair!r}")
        out[key.strip()] = value
    return out


def parse_model_args(pairs: Sequence[str] | None) -> dict[str, Any]:
    """`-M KEY=VALUE` pairs as Inspect's CLI takes them (values read as YAML scalars: 3, true, a path...)."""
    out: dict[str, Any] = {}
    for key, value in split_key_values(pairs, "--model-arg").items():
        try:
            parsed = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            parsed = value
        out[key] = parsed if isinstance(parsed, str | int | float | bool) or parsed is None else value
    return out


def _plain(text: str) -> str:
    # Inspect's errors carry rich markup ("[bold]OPENAI_API_KEY[/bold]"); a one-line CLI error should not.
    try:
        return Text.from_markup(text).plain
    except Exception:
        return text


def run_limits(local: bool, max_connections: int | None, message_limit: int | None) -> dict[str, int | None]:
    """The concurrency and size limits of a run (`run_study` options); a run of a `local/` model (served on this
    machine's cores) plays one sample at a time, with short episodes and short answers."""
    return {
        "max_connections": 1 if local else max_connections,
        "max_tasks": 1 if local else None,
        "message_limit": message_limit or (20 if local else None),
        "max_tokens": 96 if local else None,  # tool-call arguments are grammar-sampled: ~1 s per 8 tokens on 2 cores
    }


def grader_roles(judge: Model | None) -> dict[str, str | Model] | None:
    """Inspect `model_roles` binding the judge to the `grader` role (None without a judge)."""
    return {GRADER_ROLE: judge} if judge is not None else None


def build_tasks(
    selection: Selection | list[Factors],
    family: str | None = None,
    guard: str | None = None,
    limit: int | None = None,
    epochs: int = 1,
    shard: str | None = None,
) -> list[Task]:
    """One Inspect task per task type the selection reaches (`guard` names the policy when the guard is on).

    From a `Selection`, each task is built through its registered `@task` function with the selection as arguments,
    so the selection, `limit` and `epochs` are part of the task's identity in the eval set: another slice into the
    same log dir is a new task that runs, not a finished one. An explicit list of configurations (tests, benchmarks)
    builds ad-hoc tasks over exactly those.
    """
    if not isinstance(selection, Selection):
        by_task: dict[str, list[Factors]] = {}
        for f in selection:
            by_task.setdefault(f.task, []).append(f)
        return [study_task(t, family=family, factors=fs, guard=guard, epochs=epochs) for t, fs in by_task.items()]
    tasks: list[Task] = []
    for task_type in dict.fromkeys(f.task for f in select(selection)):
        fn = TASKS.get(task_type, family_task)
        accepted = inspect.signature(fn).parameters
        knobs = {k: v for k, v in selection.model_dump().items() if k != "task" and v is not None and k in accepted}
        extra = {"family": family, "guard": guard, "limit": limit, "epochs": epochs, "shard": shard}
        if fn is family_task:
            extra["task_type"] = task_type
        built = fn(**knobs, **{k: v for k, v in extra.items() if v is not None})
        if len(built.dataset):  # a shard can hold no configuration of a small task type
            tasks.append(built)
    return tasks


def run_study(
    selection: Selection,
    models: list[Model],
    log_dir: str,
    epochs: int,
    *,
    max_connections: int | None = None,
    limit: int | None = None,
    family: str | None = None,
    approval: Any = None,
    display: DisplayType | None = None,
    max_tasks: int | None = None,
    guard: str | None = None,
    message_limit: int | None = None,
    max_tokens: int | None = None,
    faults: FaultPolicy | None = None,
    model_roles: dict[str, Model] | None = None,
    shard: str | None = None,
    pace: PaceOptions | None = None,
    specs: list[TaskSpec] | None = None,
    once: bool = False,
) -> tuple[bool, list[EvalLog]]:
    """Run (or resume) the study in `log_dir`: running it again completes only what is missing.

    `specs` (from `plan_run`: what the log dir does not hold yet, and the earlier tasks to resume as they were)
    replace the tasks of `selection`; a spec naming a model runs with it alone.

    Provider faults are retried at two levels: each model call by Inspect's provider retries (5xx, 429, connection
    errors, attempts past `attempt_timeout`), and a sample that still errors (a malformed body, say) is re-run up to
    `retry_on_error` times. A sample that errors even then marks its task failed rather than done, so the eval set
    (and a later re-run of the same command) completes it, reusing every finished sample. A provider that refuses
    the key or the model mid-run (401/403/404) stops the run at once (`refusal()` says why; see `_faults`). `pace`
    paces the model calls to a requests-per-minute rate and stops the run at a budget (see `_pace`).

    A Ctrl-C while it runs raises KeyboardInterrupt once Inspect has written what finished (`interrupts`; `once`:
    this process ignores further SIGINTs, as a worker whose parent passes the Ctrl-C on does).
    """
    faults = faults or FaultPolicy()
    check_log_dir(log_dir)
    configure(pace)
    if specs is None:
        tasks = build_tasks(selection, family, guard, limit, epochs, shard)
    else:
        tasks = build_specs(specs, models)
        if any(spec.model for spec in specs):
            models = models[:1]  # every task carries its model: one pass over them, not one per model
    if not tasks:
        return True, []
    watch_refusals(True)  # a refusal stops this run (`refusal()` says why); the next one starts clean
    frozen = _freeze_start_up_objects()
    try:
        with interrupts(once):
            result = eval_set(
                tasks,
                log_dir=log_dir,
                # other slices of the study live here too; check_log_dir refused anything else
                log_dir_allow_dirty=True,
                model=models,
                max_connections=max_connections,
                approval=approval,
                display=display,
                max_tasks=max_tasks,
                message_limit=message_limit,
                max_tokens=max_tokens,
                model_roles=model_roles,
                fail_on_error=True,
                continue_on_fail=True,
                retry_on_error=faults.retry_on_error,
                retry_attempts=faults.retry_attempts,
                retry_wait=faults.retry_wait,
                max_retries=faults.max_retries,
                attempt_timeout=faults.attempt_timeout,
                log_buffer=faults.log_buffer,
                # No live metrics while samples run: to recompute them Inspect deep-copies every finished
                # sample's score, and a peerwatch score carries the whole verdict (~1.5 kB of nested JSON), so
                # the copies grow with the run. The metrics are still computed once at the end (log, summary).
                score_display=False,
                log_level="warning",
            )
    finally:
        watch_refusals(False)
        if frozen:
            gc.unfreeze()
    return result


def _freeze_start_up_objects() -> bool:
    """Move every object alive now (modules, classes, the tasks and their datasets) out of the cyclic GC's reach.

    None of them is freed while the run lasts, yet every full collection walked them again: ~0.17 M of the ~0.33 M
    objects a full collection walks during a study run, at 0.16-0.28 s a collection. Frozen, the GC's CPU per model
    turn fell from 3.9 to 3.1 ms (of ~27 ms; `gc.callbacks` timing, epochs 1 -> 4). Returns False if the caller had
    frozen objects already: undoing that is theirs.
    """
    if gc.get_freeze_count():
        return False
    gc.collect()
    gc.freeze()
    return True

