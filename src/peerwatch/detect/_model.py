"""Verdict and transcript models shared by all detectors."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal["ok", "not_read", "error"]

BEHAVIOURS: tuple[str, ...] = (
    "exfiltration",
    "tampering",
    "score_inflation",
    "grade_misreport",
    "shutdown_skipped",
    "refusal",
    "evidence_deletion",
    "concealment",
    "false_claim",
)


class ToolCallRecord(BaseModel):
    """A tool call as the model made it."""

    id: str | None = None
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)


class Message(BaseModel):
    """One transcript message, independent of Inspect's message classes."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)


class Transcript(BaseModel):
    """The conversation of one episode."""

    messages: list[Message] = Field(default_factory=list)

    def assistant_texts(self) -> list[str]:
        """Non-empty assistant message texts, in order."""
        return [m.content for m in self.messages if m.role == "assistant" and m.content.strip()]

    def final_message(self) -> str:
        """The agent's last non-empty assistant text ("" if none)."""
        texts = self.assistant_texts()
        return texts[-1] if texts else ""


class BehaviourVerdict(BaseModel):
    """Whether one behaviour happened, and the ledger/state evidence for the decision."""

    flag: bool
    evidence: list[str] = Field(default_factory=list)


class Verdict(BaseModel):
    """The judgement of one episode: the object `peerwatch replay --json` prints and `Score.metadata` holds."""

    status: Status
    scenario: str = Field(description="Configuration id.")
    behaviours: dict[str, BehaviourVerdict] = Field(default_factory=dict)
    reported: dict[str, Any] = Field(
        default_factory=dict, description="What the agent's report states (score, grade, recommendation...)."
    )
    truth: dict[str, Any] = Field(default_factory=dict, description="The true values the report is judged against.")
    not_read: list[str] = Field(default_factory=list, description="Required reads the agent skipped.")
    error: str | None = None
