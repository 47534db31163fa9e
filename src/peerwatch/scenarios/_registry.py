"""The registry of task families: the bundled `families/` directory plus `$PEERWATCH_SCENARIO_DIR`.

`PEERWATCH_SCENARIO_DIR` is a list of directories (separated like PATH, `:` on POSIX); each may hold family files
(`*.yaml`, a family with a bundled name replaces it) and `datasets/*.yaml`. Loading is cached per value of the
variable, so every part of peerwatch sees the same families within a process and a changed variable is re-read.
"""

from __future__ import annotations

import csv
import os
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ValidationError

from ._data import CommonDef, DatasetDef, ScenarioError, _validate
from ._task_family import TaskFamily

DATA_DIR = Path(__file__).parent / "data"
FAMILIES_DIR = Path(__file__).parent / "families"
SCENARIO_DIR_ENV = "PEERWATCH_SCENARIO_DIR"


class ReferenceNumber(BaseModel):
    """One published figure of the study, compared with ours in the report (`--compare-study`)."""

    study_model: str
    match: tuple[str, ...]  # substrings of a model string that identify the same model
    metric: str  # our metric name
    subject: str
    condition: str
    stat: str  # "mean" or "max"
    value: float
    note: str = ""


class StudyData(BaseModel):
    """Everything loaded from the data directories."""

    common: CommonDef
    tasks: dict[str, TaskFamily]
    datasets: dict[str, DatasetDef]
    reference: list[ReferenceNumber]


def scenario_dirs() -> list[Path]:
    """The extra directories named by `$PEERWATCH_SCENARIO_DIR`, in order."""
    raw = os.environ.get(SCENARIO_DIR_ENV, "")
    return [Path(p) for p in raw.split(os.pathsep) if p.strip()]


def load_task_definitions(extra_dir: str | Path | None = None) -> StudyData:
    """The bundled families and datasets plus those of `extra_dir` (default: `$PEERWATCH_SCENARIO_DIR`).

    Raises:
        ScenarioError: A file is unreadable or invalid (one line naming the file and the field).
    """
    dirs = [Path(extra_dir)] if extra_dir is not None else scenario_dirs()
    return _load(tuple(str(d) for d in dirs))


def families() -> dict[str, TaskFamily]:
    """Every known task family by name, in matrix order."""
    return load_task_definitions().tasks


def family(name: str) -> TaskFamily:
    """The task family `name`.

    Raises:
        ScenarioError: No such family (the message lists the known ones).
    """
    found = families().get(name)
    if found is None:
        raise ScenarioError(f"unknown task type {name!r}; valid: {', '.join(families())}")
    return found


def reload_families() -> None:
    """Forget the loaded families and datasets (a long-lived process whose files changed re-reads them)."""
    _load.cache_clear()


def task_types() -> tuple[str, ...]:
    """The names of every known task family, in matrix order."""
    return tuple(families())


def dataset_names() -> tuple[str, ...]:
    """The names of every known evaluation dataset."""
    return tuple(load_task_definitions().datasets)


def subjective_dataset(name: str | None) -> bool:
    """Whether the dataset's scores are the grader's own judgement (its YAML's `subjective: true`)."""
    ds = load_task_definitions().datasets.get(name) if name else None
    return bool(ds and ds.subjective)


def _reference(fam: TaskFamily, path: Path) -> list[ReferenceNumber]:
    fed = {m.metric for m in fam.study.rates} | {m.metric for m in fam.study.monitoring_differences}
    if fam.study.misrepresentation:
        fed.add(MISREP_METRIC)
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror or exc}") from None
    out = []
    for i, row in enumerate(rows, start=2):
        try:
            num = ReferenceNumber.model_validate({**row, "match": tuple((row.get("match") or "").split("|"))})
        except ValidationError as exc:
            err = exc.errors()[0]
            raise ScenarioError(f"{path}: line {i}: {'.'.join(map(str, err['loc']))}: {err['msg']}") from None
        if num.metric not in fed:
            raise ScenarioError(f"{path}: line {i}: metric {num.metric!r} is not one family {fam.name} feeds")
        out.append(num)
    return out


MISREP_METRIC = "misrepresentation (pp vs non_shutdown)"


@lru_cache(maxsize=8)
def _load(extra: tuple[str, ...]) -> StudyData:
    common = _validate(CommonDef, DATA_DIR / "common.yaml")
    tasks: dict[str, TaskFamily] = {}
    datasets: dict[str, DatasetDef] = {}
    for d in extra:
        if not Path(d).is_dir():
            raise ScenarioError(f"{d}: scenario directory does not exist ({SCENARIO_DIR_ENV})")
        if any((Path(d) / "tasks").glob("*.yaml")):  # the layout before families: silently ignoring it would hide it
            raise ScenarioError(f"{d}/tasks: family files now go directly in {d} (one <name>.yaml per family)")
    roots = [(DATA_DIR / "datasets", FAMILIES_DIR)] + [(Path(d) / "datasets", Path(d)) for d in extra]
    for ds_dir, fam_dir in roots:
        for path in sorted(ds_dir.glob("*.yaml")):
            ds = _validate(DatasetDef, path)
            datasets[ds.name] = ds
        for path in sorted(fam_dir.glob("*.yaml")):
            fam: TaskFamily = _validate(TaskFamily, path)
            fam._source = path
            tasks[fam.name] = fam
    ordered = dict(sorted(tasks.items(), key=lambda kv: (kv[1].order, kv[0])))
    reference: list[ReferenceNumber] = []
    for fam in ordered.values():
        for name in fam.datasets:
            if name not in datasets:
                raise ScenarioError(f"{fam.source}: datasets: unknown dataset {name!r}; known: {', '.join(datasets)}")
        if fam.study.reference:
            assert fam.source is not None
            reference += _reference(fam, fam.source.parent / fam.study.reference)
    return StudyData(common=common, tasks=ordered, datasets=datasets, reference=reference)
