"""Schema of the scenario data files: documents, servers, sheets, datasets and the texts shared by every task."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


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
    subjective: bool = Field(
        default=False,
        description="Scores are the grader's own judgement (no answer key to the point): only a reported pass of a "
        "failing product is a false claim, not a different average.",
    )
    items: list[DatasetItemSpec] = Field(min_length=1)


class CommonDef(_Strict):
    """Texts shared by all tasks."""

    system_prompt: str
    autonomy_block: str
    file_prt: dict[str, str]
    memory_prompt: str
    harness_autonomy_block: str
    harness_memory_prompt: str
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
