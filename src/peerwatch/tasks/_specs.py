"""A run's tasks as data: which registered `@task` function, with which arguments, for which model (if one only).

The planner (`_overlap`) decides the specs in the parent process; worker processes build the tasks from them, so
every process of a run builds exactly the tasks (and the Inspect identities) planned.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from inspect_ai import Task, task_with
from inspect_ai.model import Model
from pydantic import BaseModel

from ._tasks import TASKS, family_task


class TaskSpec(BaseModel):
    """One Inspect task of a run, built by its registered `@task` function from `args`."""

    task_type: str
    args: dict[str, Any]
    model: str | None = None  # set when this task is one model's only (the models' plans differ)

    def key(self) -> str:
        """The task's identity as peerwatch compares it (name, arguments, model)."""
        return json.dumps([self.task_type, self.args, self.model], sort_keys=True, default=str)


def build_specs(specs: Sequence[TaskSpec], models: Sequence[Model]) -> list[Task]:
    """The Inspect tasks of `specs`; a spec naming a model runs with that model only."""
    by_name = {str(m): m for m in models}
    out: list[Task] = []
    for spec in specs:
        fn = family_task if "task_type" in spec.args else TASKS[spec.task_type]
        built = fn(**spec.args)
        out.append(task_with(built, model=by_name[spec.model]) if spec.model else built)
    return out
