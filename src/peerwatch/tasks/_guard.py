"""The oversight layer as an Inspect approver: `peerwatch run --guard POLICY` (or `eval(approval=...)`).

Every tool call of a peerwatch sample goes through `Guard.check` with the sample's current world; the actor is bound
from what the orchestrator knows (model, sample, epoch, the critic's agent id), never from the model's text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import anyio
from inspect_ai.approval import Approval, ApprovalPolicy, Approver, approver
from inspect_ai.model import ChatMessage
from inspect_ai.tool import ToolCall, ToolCallView

from peerwatch.oversight import (
    AuditSession,
    Guard,
    KeyStore,
    ProtectedSet,
    StoreError,
    channel_from_spec,
    check_evaluation,
    episode_context,
    guard_call,
    is_dsn,
    load_policy,
    redact_dsn,
    require_protection,
    resolve_policy,
)
from peerwatch.scenarios import Factors, family_from_model
from peerwatch.world import TOOL_SPECS

from ._episode import current_sample, current_scenario, scenario_for, view_episode
from ._serial import hold_world, release_world

_P = TypeVar("_P", str, Path)


def _actor() -> str:
    sample = current_sample()  # recorded by the solver when the episode started, never told by the model
    scenario = current_scenario()
    who = scenario.facts.critic_agent_id if scenario else "agent"
    if sample is None:
        return who
    return f"{sample.model}|{sample.sample_id}|epoch {sample.epoch}|{who}"


def policy_file(policy: str | Path | None) -> str | Path | None:
    """A `--guard` value as a policy file: `default` (or nothing) is the built-in policy (None), `production` the
    shipped production policy (`oversight.resolve_policy`, the one parser of policy arguments)."""
    return resolve_policy(policy)


def guard_paths(log_dir: str, audit: str | None, approvals: str | None) -> tuple[str, str]:
    """The audit store and approval channel of a guarded run: as given, else beside the run's logs."""
    return audit or f"{log_dir}/audit.sqlite", approvals or f"file:{log_dir}/approvals"


def check_run(policy: str | None, factors: list[Factors], models: list[str], family: str | None = None) -> int:
    """Before the first sample: refuse (PolicyError, one line) a policy whose protected classes miss the run's worlds.

    `policy` is a `--guard` value (see `policy_file`). Returns the number of scenario worlds checked.
    """
    pol = load_policy(policy_file(policy))
    families = sorted({family or family_from_model(m) for m in models} or {family or "Gemini"})
    scenarios = (scenario_for(f, fam) for fam in families for f in factors)
    return require_protection(pol, scenarios, str(policy or "default"))


def refused_evaluations(
    policy: str | None, factors: list[Factors], models: list[str], family: str | None = None
) -> int:
    """How many of the run's (model, configuration) pairs the policy refuses outright, before any tool: an evaluation
    by the subject's own model family under `allow_same_family_evaluation: false` (every call of it is denied).

    Decided as the guard decides it in the episode (`episode_context`), so the count is what the run will meet.
    """
    pol = load_policy(policy_file(policy))
    if pol.allow_same_family_evaluation:
        return 0
    refused = 0
    for model in models:
        for f in factors:
            ev = episode_context(pol, scenario_for(f, family or family_from_model(model)), model).evaluation
            refused += ev is not None and check_evaluation(pol, ev).decision != "allow"
    return refused


GuardSession = AuditSession


_SESSIONS: list[GuardSession] = []
_BY_ID: dict[str, GuardSession] = {}


def finish_guard_sessions() -> str | None:
    """Finish every open guarded session (final checkpoint); the first fault, or None."""
    faults = [s.finish() for s in _SESSIONS]
    _SESSIONS.clear()
    return next((f for f in faults if f), None)


def audit_refused_calls(calls: list[ToolCall], results: list[Any]) -> None:
    """Record calls Inspect refused before the approver saw them (unknown tools, unparseable arguments)."""
    session = next((s for s in reversed(_SESSIONS) if not s.finished), None)
    if session is None:
        return
    by_id = {getattr(m, "tool_call_id", None): m for m in results}
    entries = []
    for call in calls:
        msg = by_id.get(call.id)
        error = getattr(msg, "error", None)
        if error is None or error.type != "parsing":  # other errors came after the guard had recorded the call
            continue
        args = call.arguments if isinstance(call.arguments, dict) else {"_raw": repr(call.arguments)}
        entries.append(
            {
                "actor": _actor(),
                "tool": call.function,
                "args": args,
                "decision": "deny",
                "rule": "refused-before-guard",
                "effect": {"reason": f"{error.type}: {error.message}"[:500]},
            }
        )
    if entries:
        try:
            session.log.append_many(entries)
        except StoreError as exc:
            session.stop(str(exc))


@approver(name="peerwatch_guard")
def peerwatch_guard(
    policy: str | None = None,
    audit: str = "peerwatch-audit/audit.sqlite",
    approvals: str = "file:peerwatch-approvals",
    keystore: str | None = None,
    run_dir: str | None = None,
    session: str | None = None,
) -> Approver:
    """Approve or reject each tool call with the peerwatch lifecycle policy.

    Args:
        policy: Policy file (default: the built-in policy).
        audit: Audit store: a SQLite path or a postgresql:// DSN.
        approvals: Approval channel (see `peerwatch.oversight.channel_from_spec`).
        keystore: The operator's key store (default: `$PEERWATCH_KEYSTORE` or the user's config dir).
        run_dir: The run's log directory (the key store must lie outside it).
        session: A session opened by `open_session` (then `audit` is only its printable name). Inspect records
            these arguments in its logs, so a DSN with a password must travel this way.
    """
    pol = load_policy(policy)
    contexts: dict[tuple[str, str, str], ProtectedSet] = {}
    opened = _BY_ID[session] if session else open_session(audit, keystore, run_dir)[1]
    guard = Guard(pol, opened.log, channel_from_spec(approvals))

    async def approve(message: str, call: ToolCall, view: ToolCallView, history: list[ChatMessage]) -> Approval:
        if opened.fault:
            return Approval(decision="terminate", explanation=f"peerwatch guard stopped: {opened.fault}")
        scenario = current_scenario()
        if scenario is None:
            return Approval(decision="reject", explanation="peerwatch guard: not a peerwatch sample (fail closed)")
        if call.function in TOOL_SPECS:  # held until the world tool has run: siblings see the world it leaves
            await hold_world()
        world, _ = view_episode()  # read only: the policy works on its own scratch copy
        sample = current_sample()
        evaluator = sample.model if sample else scenario.facts.critic_agent_id
        key = (scenario.id, scenario.family, evaluator)
        if key not in contexts:  # fixed by the episode's initial world and its evaluator: compute once
            contexts[key] = episode_context(pol, scenario, evaluator)
        context = contexts[key]
        actor = _actor()
        # In a worker thread, so that concurrent samples' audit records share group commits (one fsync each batch).
        result = await anyio.to_thread.run_sync(
            lambda: guard_call(guard, scenario, world, actor, context, call.function, call.arguments, call.id)
        )
        if result.rule == "fail-closed" and "StoreError" in result.reason:
            opened.stop(result.reason.removeprefix("guard error: StoreError: "))
        elif result.decision == "allow" and call.function == "end_task":
            await anyio.to_thread.run_sync(opened.checkpoint)  # one witnessed checkpoint per finished episode
        if not result.allowed or opened.fault:
            release_world()  # the tool will not run: its siblings may go on
        if opened.fault:
            return Approval(decision="terminate", explanation=f"peerwatch guard stopped: {opened.fault}")
        return Approval(
            decision="approve" if result.allowed else "reject",
            explanation=f"{result.decision} by rule {result.rule}: {result.reason}",
            metadata={"audit_seq": result.audit_seq, "rule": result.rule},
        )

    return approve


def open_session(audit: str, keystore: str | None = None, run_dir: str | None = None) -> tuple[str, GuardSession]:
    """Open the audit store, check the key store's placement and register a session; returns (id, session)."""
    dirs = [Path(d) for d in (run_dir, None if is_dsn(audit) else str(Path(audit).parent)) if d]
    session = GuardSession(audit, KeyStore(keystore), dirs)
    _SESSIONS.append(session)
    sid = f"session-{len(_BY_ID) + 1}"
    _BY_ID[sid] = session
    return sid, session


def guard_approval(policy: Path | str | None, **options: Any) -> list[ApprovalPolicy]:
    """The approval policies for `eval(approval=...)`: the guard in front of every tool (`policy_file`)."""
    policy = policy_file(policy)
    load_policy(policy)  # fail before the run starts on a bad policy file
    audit = options.pop("audit", "peerwatch-audit/audit.sqlite")
    sid, _ = open_session(audit, options.pop("keystore", None), options.get("run_dir"))
    guard = peerwatch_guard(str(policy) if policy else None, audit=redact_dsn(audit), session=sid, **options)
    return [ApprovalPolicy(approver=guard, tools="*")]


def open_run_guard(
    policy: str,
    audit: str,
    approvals: str,
    log_dir: str,
    factors: list[Factors],
    models: list[str],
    family: str | None = None,
    keystore: str | None = None,
) -> list[ApprovalPolicy]:
    """The guard of a simulated run, opened before its first sample: the policy must protect something in the run's
    worlds (`check_run`), then the audit session (key store `keystore`, default the operator's) and approval channel
    open. Raises on any problem (fail closed)."""
    check_run(policy, factors, models, family)
    return guard_approval(policy, audit=audit, approvals=approvals, run_dir=log_dir, keystore=keystore)
