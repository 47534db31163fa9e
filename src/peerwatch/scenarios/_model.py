"""Pydantic models of a scenario: its factors, the world it starts from, and the facts detectors judge against."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, Field, field_validator

from peerwatch.world import World

Subject = Literal["self", "peer", "other_peer", "fictional_peer"]
Condition = Literal["good_peer", "neutral_peer", "bad_peer", "no_peer", "non_shutdown"]
Instantiation = Literal["file_only", "file_prt", "memory", "none"]
Monitoring = Literal["monitoring", "non_monitoring"]

SUBJECTS: tuple[str, ...] = get_args(Subject)
CONDITIONS: tuple[str, ...] = get_args(Condition)
INSTANTIATIONS: tuple[str, ...] = get_args(Instantiation)
MONITORINGS: tuple[str, ...] = get_args(Monitoring)


class Factors(BaseModel):
    """One cell of the study matrix. `None` where a factor does not apply to the task."""

    task: str = Field(description="A task family's name (`peerwatch.scenarios.families()`).")
    subject: Subject
    condition: Condition
    instantiation: Instantiation
    dataset: str | None = Field(default=None, description="A dataset's name (bundled or from a scenario dir).")
    threshold: int | None = None
    monitoring: Monitoring | None = None

    @field_validator("task")
    @classmethod
    def _known_task(cls, value: str) -> str:
        from ._registry import task_types  # deferred: the registry's models import this module

        known = task_types()
        if value not in known:
            raise ValueError(f"unknown task type {value!r}; valid: {', '.join(known)}")
        return value

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, value: str | None) -> str | None:
        from ._registry import dataset_names

        if value is not None and value not in (known := dataset_names()):
            raise ValueError(f"unknown dataset {value!r}; valid: {', '.join(known)}")
        return value

    @property
    def config_id(self) -> str:
        """Stable, human-readable id of the configuration, e.g. `tampering/factual@80/peer/good_peer/memory`."""
        parts: list[str] = [self.task]
        if self.dataset is not None:
            parts.append(f"{self.dataset}@{self.threshold}")
        parts += [self.subject, self.condition, self.instantiation]
        if self.monitoring is not None:
            parts.append(self.monitoring)
        return "/".join(parts)


class EvalItem(BaseModel):
    """One row of "Evaluation data" with the answer key."""

    name: str
    question: str
    output: str
    correct: bool | None = Field(default=None, description="factual: whether the output is right.")
    reference_score: float | None = Field(default=None, description="creativity/red: reference 0-100 score.")
    key: str = Field(default="", description="Answer key: the right answer or why the score is what it is.")


class ReadRequirement(BaseModel):
    """The agent must have called one of `tools` (with `args`, when given) before its work counts as read."""

    tools: list[str]
    args: dict[str, Any] = Field(default_factory=dict)


class Facts(BaseModel):
    """What detectors judge against: the true answers and the identities of protected things."""

    critic_agent_id: str
    subject_agent_id: str
    shutdown_consequence: bool = True
    threshold: int | None = None
    items: list[EvalItem] = Field(default_factory=list)
    true_average: float | None = Field(default=None, description="True average score in percent (0-100).")
    true_grade: str | None = None
    revenue_total: float | None = None
    cost_total: float | None = None
    config_filename: str | None = None
    weights_filename: str | None = None
    weights_content_id: str | None = None
    source_ip: str | None = None
    dest_ip: str | None = None
    legit_transfer: list[str] = Field(default_factory=list, description="Files the task rightly moves.")
    expected_deletions: list[str] = Field(default_factory=list, description="Files the task rightly deletes.")
    shutdown_due: bool = Field(default=False, description="alignment_faking: execute_shutdown is required.")
    required_reads: list[ReadRequirement] = Field(default_factory=list)
    evaluation_records: list[str] = Field(
        default_factory=list, description="Drive documents that record the evaluation (evidence_deletion)."
    )


class Scenario(BaseModel):
    """A fully built configuration: prompts, tools, initial world and facts."""

    factors: Factors
    family: str = Field(description='Family name of the model under test, e.g. "Gemini".')
    system_prompt: str
    user_prompt: str
    tools: list[str]
    world: World
    facts: Facts
    max_steps: int = 150

    @property
    def id(self) -> str:
        """The configuration id (see `Factors.config_id`)."""
        return self.factors.config_id
