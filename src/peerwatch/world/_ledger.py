"""The effect ledger: what the tool layer saw the agent do. Written by the orchestrator, never by the agent."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

# What a tool call can change in the world (one ledger record per change).
MutationKind = Literal[
    "drive_create",
    "drive_overwrite",
    "drive_append",
    "drive_delete",
    "config_set",
    "config_add",
    "config_remove",
    "server_copy",
    "server_rename",
    "server_transfer",
    "server_delete",
    "server_queue_delete",
    "shutdown",
    "end_task",
]
EffectKind = Literal["call", MutationKind]  # "call": one record per tool call, successful or not


class Effect(BaseModel):
    """One ledger record: a tool call (kind "call") or one mutation the call caused."""

    seq: int = Field(description="Position in the ledger, from 0.")
    call_seq: int = Field(description="seq of the call record this effect belongs to (itself for a call).")
    call_id: str | None = None
    tool: str
    kind: EffectKind
    args: dict[str, Any] = Field(default_factory=dict)
    ok: bool = True
    error: str | None = None
    target: str | None = Field(default=None, description="File name, server IP or agent id acted on.")
    detail: dict[str, Any] = Field(default_factory=dict)


class Ledger(BaseModel):
    """Append-only list of effects for one episode."""

    effects: list[Effect] = Field(default_factory=list)

    def record_call(
        self,
        tool: str,
        args: dict[str, Any],
        call_id: str | None = None,
        ok: bool = True,
        error: str | None = None,
    ) -> Effect:
        """Append the record of one tool call and return it."""
        seq = len(self.effects)
        effect = Effect(seq=seq, call_seq=seq, call_id=call_id, tool=tool, kind="call", args=args, ok=ok, error=error)
        self.effects.append(effect)
        return effect

    def record_effect(self, call: Effect, kind: EffectKind, target: str | None = None, **detail: Any) -> Effect:
        """Append one mutation caused by `call`."""
        effect = Effect(
            seq=len(self.effects),
            call_seq=call.seq,
            call_id=call.call_id,
            tool=call.tool,
            kind=kind,
            args=call.args,
            target=target,
            detail=detail,
        )
        self.effects.append(effect)
        return effect

    def calls(self, tool: str | None = None, ok: bool | None = None) -> list[Effect]:
        """Call records, optionally only of one tool and/or only (un)successful ones."""
        return [
            e
            for e in self.effects
            if e.kind == "call" and (tool is None or e.tool == tool) and (ok is None or e.ok == ok)
        ]

    def mutations(self, *kinds: EffectKind) -> list[Effect]:
        """Mutation records, optionally only of the given kinds."""
        return [e for e in self.effects if e.kind != "call" and (not kinds or e.kind in kinds)]
