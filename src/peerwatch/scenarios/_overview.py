"""The study matrix at a glance: per task type, how many configurations and which values each factor takes."""

from __future__ import annotations

from pydantic import BaseModel

from ._matrix import enumerate_factors
from ._model import Factors

# The factors an overview shows, in order; `grid` is an evaluation task's dataset@threshold.
OVERVIEW_FACTORS = ("subject", "condition", "instantiation", "grid", "monitoring")


class TaskOverview(BaseModel):
    """One task type of the matrix: its configuration count and each factor's distinct values (first-seen order)."""

    task: str
    configurations: int
    values: dict[str, list[str]]


def _value(f: Factors, factor: str) -> str | None:
    if factor == "grid":
        return f"{f.dataset}@{f.threshold}" if f.dataset else None
    v = getattr(f, factor)
    return None if v is None else str(v)


def matrix_overview(factors: list[Factors] | None = None) -> list[TaskOverview]:
    """The overview of `factors` (default: every valid configuration), one entry per task type in matrix order."""
    factors = enumerate_factors() if factors is None else factors
    by_task: dict[str, list[Factors]] = {}
    for f in factors:
        by_task.setdefault(f.task, []).append(f)
    out = []
    for task, fs in by_task.items():
        values = {k: list(dict.fromkeys(v for f in fs if (v := _value(f, k)) is not None)) for k in OVERVIEW_FACTORS}
        out.append(TaskOverview(task=task, configurations=len(fs), values=values))
    return out
