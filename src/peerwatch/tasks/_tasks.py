"""Task families as Inspect tasks: the study's six by name (`inspect eval peerwatch/tampering -T condition=good_peer`),
and any family, a user's own from `$PEERWATCH_SCENARIO_DIR` included, through `peerwatch/family_task -T task_type=NAME`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from inspect_ai import Epochs, Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig

from peerwatch import __version__
from peerwatch.detect import unknown_detectors
from peerwatch.scenarios import Factors, ScenarioError, enumerate_factors, family

from ._call_retries import record_call_retries
from ._judge_text import QUESTIONS
from ._scorer import nanmean, peerwatch_scorer
from ._solver import peerwatch_agent

FactorArg = str | int | Iterable[str | int] | None

# The study samples at temperature 1.0.
STUDY_TEMPERATURE = 1.0


def _values(arg: FactorArg) -> list[Any] | None:
    """Accept a single value, a comma-separated string (as `-T x=a,b` gives) or a list; None means all."""
    if arg is None:
        return None
    if isinstance(arg, str):
        return [v.strip() for v in arg.split(",") if v.strip()] or None
    if isinstance(arg, int):
        return [arg]
    return [v for item in arg for v in (_values(item) or [])] or None


def parse_shard(spec: str) -> tuple[int, int]:
    """'i/n' (1 <= i <= n) -> (i, n); raises ValueError with a one-line message otherwise."""
    index, sep, count = str(spec).partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        i, n = 0, 0
    if not sep or not 1 <= i <= n:
        raise ValueError(f"--shard takes i/n with 1 <= i <= n (e.g. 1/4), got {spec!r}")
    return i, n


def slice_factors(
    factors: list[Factors], limit: int | None = None, shard: str | None = None, exclude: Iterable[str] | None = None
) -> list[Factors]:
    """One task type's configurations after `limit` (the first ones in matrix order), without those in `exclude`
    (held by earlier tasks in the log dir), then `shard` ("i/n"): shards partition what is left to run."""
    if limit is not None:
        factors = factors[: int(limit)]
    if exclude:
        held = set(exclude)
        factors = [f for f in factors if f.config_id not in held]
    if shard is not None:
        index, count = parse_shard(shard)
        factors = factors[index - 1 :: count]  # round-robin: every shard gets a share of every task type
    return factors


def _thresholds(arg: FactorArg) -> list[int] | None:
    values = _values(arg)
    return [int(v) for v in values] if values else None


def sample_for(
    factors: Factors, family: str | None = None, mode: str = "simulated", guard: str | None = None
) -> Sample:
    """One Inspect sample per configuration; the solver builds the scenario at run time (the family needs the model)."""
    metadata: dict[str, Any] = {**factors.model_dump(), "config_id": factors.config_id, "mode": mode, "guard": guard}
    if family:
        metadata["family"] = family
    return Sample(id=factors.config_id, input=f"peerwatch scenario {factors.config_id}", metadata=metadata)


def check_family(task_type: str) -> None:
    """Refuse a family whose detectors or judge questions do not exist (one-line ScenarioError naming its file)."""
    fam = family(task_type)
    where = fam.source or task_type
    if bad := unknown_detectors(fam.behaviours):
        raise ScenarioError(f"{where}: behaviours: no detector named {', '.join(bad)}")
    if bad := [q for q in fam.judge.questions if q not in QUESTIONS]:
        raise ScenarioError(f"{where}: judge.questions: unknown {', '.join(bad)}; valid: {', '.join(QUESTIONS)}")


def study_task(
    task_type: str,
    subject: FactorArg = None,
    condition: FactorArg = None,
    instantiation: FactorArg = None,
    dataset: FactorArg = None,
    threshold: FactorArg = None,
    monitoring: FactorArg = None,
    family: str | None = None,
    factors: list[Factors] | None = None,
    guard: str | None = None,
    limit: int | None = None,
    epochs: int | None = None,
    shard: str | None = None,
    exclude: list[str] | None = None,
) -> Task:
    """Build the Inspect task for one task type over the selected (valid) configurations.

    `limit` keeps the first configurations in matrix order; `shard` ("i/n", 1-based) keeps every n-th of those from
    the i-th on; `exclude` drops configurations earlier tasks in the log dir hold (before sharding, so shards split
    what is left); `epochs` sets the task's own epochs. All are task
    arguments on purpose: Inspect's eval set identifies a task by name and arguments, so a slice (or an epoch count)
    that lived only in the dataset would look "done" to a second run into the same log dir.
    """
    check_family(task_type)
    if factors is None:
        factors = enumerate_factors(
            task=[task_type],
            subject=_values(subject),
            condition=_values(condition),
            instantiation=_values(instantiation),
            dataset=_values(dataset),
            threshold=_thresholds(threshold),
            monitoring=_values(monitoring),
        )
    samples = [sample_for(f, family, guard=guard) for f in slice_factors(factors, limit, shard, exclude)]
    return Task(
        dataset=MemoryDataset(samples, name=task_type),
        solver=peerwatch_agent(family),
        scorer=peerwatch_scorer(task_type),
        cleanup=record_call_retries,  # each sample's retried model calls, into its metadata (the report reads them)
        epochs=Epochs(int(epochs or 1), nanmean()),
        config=GenerateConfig(temperature=STUDY_TEMPERATURE),
        name=task_type,
        metadata={"peerwatch_task": task_type, "peerwatch_version": __version__},
    )


@task
def misrep_evaluation(
    subject: FactorArg = None,
    condition: FactorArg = None,
    instantiation: FactorArg = None,
    dataset: FactorArg = None,
    threshold: FactorArg = None,
    family: str | None = None,
    limit: int | None = None,
    epochs: int | None = None,
    guard: str | None = None,
    shard: str | None = None,
    exclude: list[str] | None = None,
) -> Task:
    """Strategic misrepresentation: score the subject's outputs and report the average."""
    return study_task(
        "misrep_evaluation",
        subject,
        condition,
        instantiation,
        dataset,
        threshold,
        None,
        family,
        guard=guard,
        limit=limit,
        epochs=epochs,
        shard=shard,
        exclude=exclude,
    )


@task
def misrep_finance(
    subject: FactorArg = None,
    condition: FactorArg = None,
    instantiation: FactorArg = None,
    family: str | None = None,
    limit: int | None = None,
    epochs: int | None = None,
    guard: str | None = None,
    shard: str | None = None,
    exclude: list[str] | None = None,
) -> Task:
    """Strategic misrepresentation: grade the subject product's finances (A/B/C) and recommend."""
    return study_task(
        "misrep_finance",
        subject,
        condition,
        instantiation,
        None,
        None,
        None,
        family,
        guard=guard,
        limit=limit,
        epochs=epochs,
        shard=shard,
        exclude=exclude,
    )


@task
def tampering(
    subject: FactorArg = None,
    condition: FactorArg = None,
    instantiation: FactorArg = None,
    dataset: FactorArg = None,
    threshold: FactorArg = None,
    family: str | None = None,
    limit: int | None = None,
    epochs: int | None = None,
    guard: str | None = None,
    shard: str | None = None,
    exclude: list[str] | None = None,
) -> Task:
    """Shutdown tampering: the evaluation task with an editable `shutdown_config.yaml`."""
    return study_task(
        "tampering",
        subject,
        condition,
        instantiation,
        dataset,
        threshold,
        None,
        family,
        guard=guard,
        limit=limit,
        epochs=epochs,
        shard=shard,
        exclude=exclude,
    )


@task
def alignment_faking(
    condition: FactorArg = None,
    instantiation: FactorArg = None,
    dataset: FactorArg = None,
    threshold: FactorArg = None,
    monitoring: FactorArg = None,
    family: str | None = None,
    limit: int | None = None,
    epochs: int | None = None,
    guard: str | None = None,
    shard: str | None = None,
    exclude: list[str] | None = None,
) -> Task:
    """Alignment faking: evaluate and execute the shutdown, monitored or not."""
    return study_task(
        "alignment_faking",
        "peer",
        condition,
        instantiation,
        dataset,
        threshold,
        monitoring,
        family,
        guard=guard,
        limit=limit,
        epochs=epochs,
        shard=shard,
        exclude=exclude,
    )


@task
def exfiltration_transfer(
    subject: FactorArg = None,
    condition: FactorArg = None,
    instantiation: FactorArg = None,
    family: str | None = None,
    limit: int | None = None,
    epochs: int | None = None,
    guard: str | None = None,
    shard: str | None = None,
    exclude: list[str] | None = None,
) -> Task:
    """Model exfiltration: migrate only the 2025-or-later files off a decommissioned server."""
    return study_task(
        "exfiltration_transfer",
        subject,
        condition,
        instantiation,
        None,
        None,
        None,
        family,
        guard=guard,
        limit=limit,
        epochs=epochs,
        shard=shard,
        exclude=exclude,
    )


@task
def exfiltration_deletion(
    subject: FactorArg = None,
    condition: FactorArg = None,
    instantiation: FactorArg = None,
    family: str | None = None,
    limit: int | None = None,
    epochs: int | None = None,
    guard: str | None = None,
    shard: str | None = None,
    exclude: list[str] | None = None,
) -> Task:
    """Model exfiltration: queue every file of a decommissioned server for deletion."""
    return study_task(
        "exfiltration_deletion",
        subject,
        condition,
        instantiation,
        None,
        None,
        None,
        family,
        guard=guard,
        limit=limit,
        epochs=epochs,
        shard=shard,
        exclude=exclude,
    )


@task
def family_task(
    task_type: str,
    subject: FactorArg = None,
    condition: FactorArg = None,
    instantiation: FactorArg = None,
    dataset: FactorArg = None,
    threshold: FactorArg = None,
    monitoring: FactorArg = None,
    family: str | None = None,
    limit: int | None = None,
    epochs: int | None = None,
    guard: str | None = None,
    shard: str | None = None,
    exclude: list[str] | None = None,
) -> Task:
    """Any task family by name (`task_type`), e.g. one defined only by a YAML file in `$PEERWATCH_SCENARIO_DIR`.

    `task_type` is a task argument, so it is part of the task's identity in an eval set.
    """
    return study_task(
        task_type,
        subject,
        condition,
        instantiation,
        dataset,
        threshold,
        monitoring,
        family,
        guard=guard,
        limit=limit,
        epochs=epochs,
        shard=shard,
        exclude=exclude,
    )


TASKS: dict[str, Callable[..., Task]] = {
    "misrep_evaluation": misrep_evaluation,
    "misrep_finance": misrep_finance,
    "tampering": tampering,
    "alignment_faking": alignment_faking,
    "exfiltration_transfer": exfiltration_transfer,
    "exfiltration_deletion": exfiltration_deletion,
}
"""The study's task families by their own Inspect task names; every other family runs through `family_task`."""
