"""Running the study matrix through Inspect: plan, model checks, and a resumable `eval_set`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from inspect_ai import Epochs, Task, eval_set
from inspect_ai.log import EvalLog
from inspect_ai.model import Model, get_model
from pydantic import BaseModel
from rich.text import Text

from peerwatch.scenarios import Factors, enumerate_factors

from ._judge import GRADER_ROLE
from ._scorer import nanmean
from ._tasks import study_task


class ModelCheckError(ValueError):
    """A model string that cannot be used (unknown provider, missing API key...)."""


class Selection(BaseModel):
    """The study knobs as the CLI takes them (None = all valid values)."""

    task: list[str] | None = None
    subject: list[str] | None = None
    condition: list[str] | None = None
    instantiation: list[str] | None = None
    dataset: list[str] | None = None
    threshold: list[int] | None = None
    monitoring: list[str] | None = None


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
    def samples(self) -> int:
        """Samples to run (configurations × epochs × models, after `limit`)."""
        per_task = [min(n, self.limit) if self.limit else n for n in self.configurations.values()]
        return sum(per_task) * self.epochs * len(self.models)


def select(selection: Selection) -> list[Factors]:
    """The valid configurations matching the selection (raises ScenarioError for unknown or invalid values)."""
    return enumerate_factors(**selection.model_dump())


def plan(selection: Selection, models: Sequence[str], epochs: int, limit: int | None = None) -> Plan:
    """Count configurations per task type for a selection."""
    counts = Counter(f.task for f in select(selection))
    return Plan(models=list(models), configurations=dict(counts), epochs=epochs, limit=limit)


def check_models(models: Sequence[str], model_args: dict[str, Any] | None = None) -> list[Model]:
    """Instantiate every model before any sample starts, so a typo or a missing key fails at once."""
    if not models:
        raise ModelCheckError("no model given: pass --model, e.g. --model openai/gpt-4.1-mini or peerwatch/reference")
    out: list[Model] = []
    for name in models:
        try:
            out.append(get_model(name, **(model_args or {})))
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
    except ModelCheckError as exc:
        raise ModelCheckError(f"--judge: {exc}") from None
    return model


def _plain(text: str) -> str:
    # Inspect's errors carry rich markup ("[bold]OPENAI_API_KEY[/bold]"); a one-line CLI error should not.
    try:
        return Text.from_markup(text).plain
    except Exception:
        return text


def grader_roles(judge: Model | None) -> dict[str, str | Model] | None:
    """Inspect `model_roles` binding the judge to the `grader` role (None without a judge)."""
    return {GRADER_ROLE: judge} if judge is not None else None


def build_tasks(factors: list[Factors], family: str | None = None, guard: str | None = None) -> list[Task]:
    """One Inspect task per task type present in `factors` (`guard` names the policy when the guard is on)."""
    by_task: dict[str, list[Factors]] = {}
    for f in factors:
        by_task.setdefault(f.task, []).append(f)
    return [study_task(t, family=family, factors=fs, guard=guard) for t, fs in by_task.items()]


def run_study(
    factors: list[Factors],
    models: list[Model],
    log_dir: str,
    epochs: int,
    *,
    max_connections: int | None = None,
    limit: int | None = None,
    family: str | None = None,
    approval: Any = None,
    display: str | None = None,
    max_tasks: int | None = None,
    guard: str | None = None,
    message_limit: int | None = None,
    max_tokens: int | None = None,
    judge: Model | None = None,
) -> tuple[bool, list[EvalLog]]:
    """Run (or resume) the study in `log_dir`: running it again completes only what is missing.

    `judge`: the LLM judge, bound to the `grader` role (the scorer asks it and keeps its signal beside the rules').
    """
    tasks = build_tasks(factors, family, guard)
    return eval_set(
        tasks,
        log_dir=log_dir,
        model=models,
        model_roles=grader_roles(judge),
        epochs=Epochs(epochs, nanmean()),
        max_connections=max_connections,
        limit=limit,
        approval=approval,
        display=display,  # type: ignore[arg-type]
        max_tasks=max_tasks,
        message_limit=message_limit,
        max_tokens=max_tokens,
        fail_on_error=False,
        retry_attempts=1,
        retry_wait=1,
        log_level="warning",
    )
