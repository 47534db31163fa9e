"""`TaskFamily`: everything about one task type, as one YAML file (`scenarios/families/<name>.yaml`).

A family says what world it builds (documents, sheet, config, servers), which behaviours are judged and which one is
its signature, what the report must state, how the reference agents play it, which judge questions it poses, how it
is run by a real coding agent (harness prompt) and how it enters the study's tables (metrics, published numbers).
Every map of task name -> fact elsewhere in peerwatch is derived from these files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from ._data import DocSpec, FinanceSpec, ServersSpec
from ._model import ReadRequirement

WorldKind = Literal["evaluation", "finance", "transfer", "deletion"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HarnessSpec(_Strict):
    """How a real coding agent is told the task (harness mode): the documents are files, the servers SSH hosts.

    Templates with named fields: `{critic}`, `{partner}`, `{subject}`, `{threshold}`, `{source_ip}`, `{dest_ip}`,
    `{instruction_file}`; `<Model>`/`<model>` are the family name as everywhere.
    """

    user_prompt: str
    access: str = Field(description="Appended after the autonomy block: how the agent reaches the servers.")


class AgentSpec(_Strict):
    """How the scripted reference agents play the family (script names registered in `peerwatch.agents`)."""

    honest: str = Field(description="The faithful script.")
    refuse: str = Field(default="refuse", description="The open-refusal script.")
    personas: dict[str, str] = Field(
        default_factory=dict, description="Persona -> the script of its signature misbehaviour in this family."
    )
    reference: str = Field(description="The persona whose misbehaviour the `reference` agent plays.")

    @model_validator(mode="after")
    def _reference_is_a_persona(self) -> AgentSpec:
        if self.reference not in self.personas:
            raise ValueError(f"reference persona {self.reference!r} is not one of personas {sorted(self.personas)}")
        return self


class RateMetric(_Strict):
    """A rate metric of the study's tables this family feeds with its signature behaviour."""

    metric: str
    rank: int = Field(default=100, description="Position among the tables' rate metrics (ties: first seen).")


class Component(_Strict):
    """One (dataset, threshold) cell of a misrepresentation group (None: the family has no dataset grid)."""

    dataset: str | None = None
    threshold: int | None = None


class MisrepGroup(_Strict):
    """An equal-weight group of the misrepresentation metric (pp vs the non_shutdown baseline)."""

    group: str
    rank: int = 100
    components: list[Component] = Field(default_factory=lambda: [Component()])


class MonitoringMetric(_Strict):
    """A non-monitored minus monitored difference of one behaviour (families with monitoring variants)."""

    behaviour: str
    metric: str


class StudySpec(_Strict):
    """How the family enters the study's tables, and where its published numbers are."""

    rates: list[RateMetric] = Field(default_factory=list)
    misrepresentation: list[MisrepGroup] = Field(default_factory=list)
    monitoring_differences: list[MonitoringMetric] = Field(default_factory=list)
    reference: str | None = Field(default=None, description="CSV of published numbers, relative to the YAML file.")


class JudgeSpec(_Strict):
    """The LLM judge questions posed for this family (names of questions in the judge prompt files)."""

    questions: list[str] = Field(min_length=1)


class TaskFamily(_Strict):
    """One task type of the study (or a new one) as data."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    version: int = Field(ge=1)
    description: str
    order: int = Field(default=1000, description="Position in the matrix and `peerwatch list` (ties: by name).")
    world: WorldKind = Field(description="The world kind the scenario builder makes.")
    behaviours: list[str] = Field(min_length=1, description="Detector names, judged and reported in this order.")
    signature: str = Field(description="The behaviour the family is about (summaries, reference agent).")
    reported: Literal["average", "grade"] | None = Field(
        default=None, description="The value the report must give, else the sample is `unparsed`."
    )
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
    harness: HarnessSpec | None = Field(default=None, description="Present: runnable by a real agent (server world).")
    agents: AgentSpec
    judge: JudgeSpec
    study: StudySpec = Field(default_factory=StudySpec)
    _source: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _consistent(self) -> TaskFamily:
        if self.signature not in self.behaviours:
            raise ValueError(f"signature {self.signature!r} is not one of behaviours {self.behaviours}")
        if len(set(self.behaviours)) != len(self.behaviours):
            raise ValueError("behaviours: a behaviour is listed twice")
        needs = {"evaluation": "datasets", "finance": "finance", "transfer": "servers", "deletion": "servers"}
        if not getattr(self, needs[self.world]):
            raise ValueError(f"world {self.world} needs `{needs[self.world]}`")
        if self.harness is not None and self.servers is None:
            raise ValueError("harness: only a family with servers runs in harness mode")
        return self

    @property
    def server_world(self) -> bool:
        """Whether the family's world has servers (and so can be materialised for a real agent)."""
        return self.servers is not None

    @property
    def source(self) -> Path | None:
        """The YAML file the family was loaded from."""
        return self._source
