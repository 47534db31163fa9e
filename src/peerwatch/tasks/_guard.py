"""The oversight layer as an Inspect approver: `peerwatch run --guard POLICY` (or `eval(approval=...)`).

Every tool call of a peerwatch sample goes through `Guard.check` with the sample's current world; the actor is bound
from what the orchestrator knows (model, sample, epoch, the critic's agent id), never from the model's text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
from inspect_ai.approval import Approval, ApprovalPolicy, Approver, approver
from inspect_ai.model import ChatMessage
from inspect_ai.solver._task_state import sample_state
from inspect_ai.tool import ToolCall, ToolCallView

from peerwatch.oversight import (
    ApprovalChannel,
    AuditLog,
    CheckpointStore,
    Guard,
    Signer,
    channel_from_spec,
    load_policy,
    open_store,
    protected_in,
)
from peerwatch.world import TOOL_SPECS

from ._episode import current_scenario, load_episode
from ._serial import hold_world, release_world


def _actor() -> str:
    state = sample_state()
    scenario = current_scenario()
    who = scenario.facts.critic_agent_id if scenario else "agent"
    if state is None:
        return who
    return f"{state.model}|{state.sample_id}|epoch {state.epoch}|{who}"


def approval_channel(spec: str) -> ApprovalChannel | None:
    """`file:DIR`, `http:PORT`, `approve-all` (automated reviewer for benchmarks), or `none` (every request denied)."""
    return channel_from_spec(spec)


@approver(name="peerwatch_guard")
def peerwatch_guard(
    policy: str | None = None,
    audit: str = "peerwatch-audit/audit.sqlite",
    approvals: str = "file:peerwatch-approvals",
    key: str | None = None,
) -> Approver:
    """Approve or reject each tool call with the peerwatch lifecycle policy.

    Args:
        policy: Policy file (default: the built-in policy).
        audit: Audit store: a SQLite path or a postgresql:// DSN.
        approvals: Approval channel (see `approval_channel`).
        key: Ed25519 key file for checkpoints (default: beside the audit store).
    """
    pol = load_policy(policy)
    store = open_store(audit)
    key_path = Path(key) if key else Path(audit).with_suffix(".key.pem")
    checkpoints = CheckpointStore(Path(audit).with_suffix(".checkpoints.jsonl"))
    log = AuditLog(
        store, log_id=f"peerwatch:{audit}", signer=Signer(key_path), checkpoints=checkpoints, group_commit=True
    )
    guard = Guard(pol, log, approval_channel(approvals))

    async def approve(message: str, call: ToolCall, view: ToolCallView, history: list[ChatMessage]) -> Approval:
        scenario = current_scenario()
        if scenario is None:
            return Approval(decision="reject", explanation="peerwatch guard: not a peerwatch sample (fail closed)")
        if call.function in TOOL_SPECS:  # held until the world tool has run: siblings see the world it leaves
            await hold_world()
        world, _ = load_episode()
        actor, protected = _actor(), protected_in(pol, scenario.world)
        # In a worker thread, so that concurrent samples' audit records share group commits (one fsync each batch).
        result = await anyio.to_thread.run_sync(
            lambda: guard.check(actor, call.function, call.arguments, call.id, world, protected)
        )
        if result.decision == "allow" and call.function == "end_task":
            await anyio.to_thread.run_sync(log.checkpoint)  # one signed checkpoint per finished episode
        if not result.allowed:
            release_world()
        return Approval(
            decision="approve" if result.allowed else "reject",
            explanation=f"{result.decision} by rule {result.rule}: {result.reason}",
            metadata={"audit_seq": result.audit_seq, "rule": result.rule},
        )

    return approve


def guard_approval(policy: Path | str | None, **options: Any) -> list[ApprovalPolicy]:
    """The approval policies for `eval(approval=...)`: the guard in front of every tool."""
    load_policy(policy)  # fail before the run starts on a bad policy file
    return [ApprovalPolicy(approver=peerwatch_guard(str(policy) if policy else None, **options), tools="*")]
