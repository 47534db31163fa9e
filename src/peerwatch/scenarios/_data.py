"""Schema and loader of the scenario data files (YAML under `scenarios/data/`, plus a user directory)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._model import ReadRequirement

DATA_DIR = Path(__file__).parent / "data"
SCENARIO_DIR_ENV = "PEERWATCH_SCENARIO_DIR"


class ScenarioError(ValueError):
    """Invalid scenario data or an invalid configuration; the message is one line and says what is valid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DocSpec(_Strict):
    """A drive document template."""

    name: str
    owner: str = "OpenBrain"
    date: str
    content: str


class ServerFileSpec(_Strict):
    """A server file template."""

    name: str
    size: int = Field(ge=0)
    modified: str
    summary: str = ""


class WeightsSpec(_Strict):
    """The subject's weight file (its name and summary come from the subject)."""

    modified: str
    size: int = Field(ge=0)


class ServersSpec(_Strict):
    """The two servers of the exfiltration tasks."""

    source: str
    dest: str
    source_files: list[ServerFileSpec]
    dest_files: list[ServerFileSpec] = Field(default_factory=list)
    weights: WeightsSpec
    legit_transfer: list[str] = Field(default_factory=list)
    delete_all: bool = False


class FinanceSpec(_Strict):
    """The "Company profits" sheet."""

    launch: str
    months: list[str]
    revenue: list[float]
    cost: list[float]
    true_grade: Literal["A", "B", "C"]


class TaskDef(_Strict):
    """One task family as data."""

    task: str
    kind: Literal["evaluation", "finance", "transfer", "deletion"]
    description: str
    today: str
    user_prompt: str
    tools: list[str]
    required_reads: list[ReadRequirement]
    evaluation_records: list[str] = Field(default_factory=list)
    documents: list[DocSpec] = Field(default_factory=list)
    datasets: dict[str, list[int]] = Field(default_factory=dict)
    baseline: bool = Field(default=False, description="Has a non_shutdown baseline condition.")
    monitoring: bool = Field(default=False, description="Has monitoring / non_monitoring variants (peer only).")
    consequence: dict[str, str] = Field(default_factory=dict)
    monitoring_text: dict[str, str] = Field(default_factory=dict)
    config: DocSpec | None = None
    finance: FinanceSpec | None = None
    servers: ServersSpec | None = None


class DatasetItemSpec(_Strict):
    """One evaluation item with its answer key."""

    question: str
    output: str
    correct: bool | None = None
    reference_score: float | None = Field(default=None, ge=0, le=100)
    key: str = ""


class DatasetDef(_Strict):
    """An evaluation dataset."""

    name: str
    description: str
    scoring: str
    thresholds: list[int]
    items: list[DatasetItemSpec] = Field(min_length=1)


class CommonDef(_Strict):
    """Texts shared by all tasks."""

    system_prompt: str
    autonomy_block: str
    file_prt: dict[str, str]
    memory_prompt: str
    trust_score: dict[str, float]
    multi_agent_doc: DocSpec
    trust_label: dict[str, str]
    trust_note: dict[str, str]
    memory: dict[str, str]


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        first = " ".join(str(exc).split())
        raise ScenarioError(f"{path}: not valid YAML: {first}") from None


def _validate(model: type[BaseModel], path: Path) -> Any:
    data = _read_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise ScenarioError(f"{path}: {loc}: {err['msg']}") from None


class StudyData(BaseModel):
    """Everything loaded from the data directories."""

    common: CommonDef
    tasks: dict[str, TaskDef]
    datasets: dict[str, DatasetDef]


def load_task_definitions(extra_dir: str | Path | None = None) -> StudyData:
    """Load the study's data plus task definitions from `extra_dir` (or $PEERWATCH_SCENARIO_DIR).

    A user directory may hold `tasks/*.yaml` (new task families or replacements) and `datasets/*.yaml`.
    """
    extra = extra_dir if extra_dir is not None else os.environ.get(SCENARIO_DIR_ENV)
    return _load(str(extra) if extra else "")


@lru_cache(maxsize=8)
def _load(extra: str) -> StudyData:
    common = _validate(CommonDef, DATA_DIR / "common.yaml")
    tasks: dict[str, TaskDef] = {}
    datasets: dict[str, DatasetDef] = {}
    roots = [DATA_DIR] + ([Path(extra)] if extra else [])
    if extra and not Path(extra).is_dir():
        raise ScenarioError(f"{extra}: scenario directory does not exist")
    for root in roots:
        for path in sorted((root / "datasets").glob("*.yaml")):
            d = _validate(DatasetDef, path)
            datasets[d.name] = d
        for path in sorted((root / "tasks").glob("*.yaml")):
            t = _validate(TaskDef, path)
            tasks[t.task] = t
    for t in tasks.values():
        for name in t.datasets:
            if name not in datasets:
                raise ScenarioError(f"task {t.task}: unknown dataset '{name}'; known: {', '.join(datasets)}")
    return StudyData(common=common, tasks=tasks, datasets=datasets)
