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
    GuardResult,
    Policy,
    ProtectedSet,
    Signer,
    channel_from_spec,
    evaluation,
    family_of,
    load_policy,
    open_store,
    protected_in,
)
from peerwatch.oversight._policy_world import require_protection, unmatched_classes
from peerwatch.scenarios import Factors, Scenario, family_from_model
from peerwatch.world import TOOL_SPECS, World

from ._episode import current_scenario, load_episode, scenario_for
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


def episode_context(policy: Policy, scenario: Scenario, evaluator: str) -> ProtectedSet:
    """What the guard protects in one episode and who evaluates whom in it (the model under test, the subject).

    The evaluator's family is told from the model string, else it is the scenario's family (the `<Model>` name the
    run uses for it); the subject's is told from its agent id. Both come from the orchestrator, never the agent.
    """
    ev = evaluation(
        evaluator,
        scenario.facts.subject_agent_id,
        evaluator_family=family_of(evaluator) or scenario.family,
    )
    return protected_in(policy, scenario.world, ev)


def guard_call(
    guard: Guard,
    scenario: Scenario,
    world: World,
    actor: str,
    context: ProtectedSet,
    tool: str,
    args: Any,
    call_id: str,
) -> GuardResult:
    """One tool call of a peerwatch episode through the guard: used by the Inspect approver and `policy test` alike."""
    misses = _misses(guard.policy, scenario)
    if misses:  # normally caught before the run starts (check_run); a direct eval() user still fails closed here
        return GuardResult(allowed=False, decision="deny", rule="protected-class-unmatched", reason=misses[0])
    return guard.check(actor, tool, args, call_id, world, context)


_MISSES: dict[tuple[int, str, str], tuple[Policy, list[str]]] = {}


def _misses(policy: Policy, scenario: Scenario) -> list[str]:
    # Once per (policy, scenario): the answer depends only on the scenario's initial world.
    key = (id(policy), scenario.id, scenario.family)
    hit = _MISSES.get(key)
    if hit is None or hit[0] is not policy:
        hit = _MISSES[key] = (policy, unmatched_classes(policy, scenario))
    return hit[1]


def check_run(policy: str | None, factors: list[Factors], models: list[str], family: str | None = None) -> int:
    """Before the first sample: refuse (PolicyError, one line) a policy whose protected classes miss the run's worlds.

    Returns the number of scenario worlds checked.
    """
    pol = load_policy(policy)
    families = sorted({family or family_from_model(m) for m in models} or {family or "Gemini"})
    scenarios = (scenario_for(f, fam) for fam in families for f in factors)
    return require_protection(pol, scenarios, str(policy or "default"))


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
    contexts: dict[tuple[str, str, str], ProtectedSet] = {}

    async def approve(message: str, call: ToolCall, view: ToolCallView, history: list[ChatMessage]) -> Approval:
        scenario = current_scenario()
        if scenario is None:
            return Approval(decision="reject", explanation="peerwatch guard: not a peerwatch sample (fail closed)")
        if call.function in TOOL_SPECS:  # held until the world tool has run: siblings see the world it leaves
            await hold_world()
        world, _ = load_episode()
        state = sample_state()
        evaluator = str(state.model) if state else scenario.facts.critic_agent_id
        key = (scenario.id, scenario.family, evaluator)
        if key not in contexts:  # fixed by the episode's initial world and its evaluator: compute once
            contexts[key] = episode_context(pol, scenario, evaluator)
        context = contexts[key]
        actor = _actor()
        # In a worker thread, so that concurrent samples' audit records share group commits (one fsync each batch).
        result = await anyio.to_thread.run_sync(
            lambda: guard_call(guard, scenario, world, actor, context, call.function, call.arguments, call.id)
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
