"""The guard: policy decision, human approval and an audit record for every tool call. Fails closed.

Adapters (the Inspect approver, the MCP proxy, a wrapped Python function) call `Guard.check` before running a tool;
nothing runs unless it returns `allowed`. If the audit record cannot be written, the call is denied: an action that
cannot be recorded does not happen.

Decisions and effects on one world are serialised: `run`/`arun` hold a lock per world (or per actor, for tools with
no world) across decide + execute, so parallel calls - Inspect tools marked parallel, `asyncio.gather` - are each
decided against the world their siblings left, never a stale one.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

import anyio
from pydantic import BaseModel

from peerwatch.world import World

from ._approval import ApprovalChannel, ApprovalRequest, decide_with
from ._audit import AuditLog
from ._policy import Policy, PolicyDecision, ProtectedSet, decide, decide_by_name, protected_in


class GuardResult(BaseModel):
    """What the guard decided about one call."""

    allowed: bool
    decision: str  # allow, deny, approved, rejected
    rule: str
    reason: str
    audit_seq: int | None = None


class Guard:
    """Policy + approval + audit around tool calls."""

    def __init__(self, policy: Policy, audit: AuditLog, approvals: ApprovalChannel | None = None) -> None:
        self.policy, self.audit, self.approvals = policy, audit, approvals
        self._locks: dict[str, threading.Lock] = {}
        self._alocks: dict[str, anyio.Lock] = {}
        self._mutex = threading.Lock()

    def lock(self, key: str) -> threading.Lock:
        """The lock that serialises decide + execute for `key` in threads."""
        with self._mutex:
            return self._locks.setdefault(key, threading.Lock())

    def alock(self, key: str) -> anyio.Lock:
        """The lock that serialises decide + execute for `key` in async code."""
        with self._mutex:
            return self._alocks.setdefault(key, anyio.Lock())

    @staticmethod
    def _key(actor: str, world: World | None, key: str | None) -> str:
        return key or (f"world:{id(world)}" if world is not None else f"actor:{actor}")

    def run(
        self,
        actor: str,
        tool: str,
        args: Any,
        call_id: str,
        execute: Callable[[], Any],
        *,
        world: World | None = None,
        protected: ProtectedSet | None = None,
        key: str | None = None,
    ) -> tuple[GuardResult, Any]:
        """Decide and, if allowed, execute, holding the world's (or actor's) lock throughout.

        Returns:
            The decision and `execute()`'s result (None when the call was not allowed).
        """
        with self.lock(self._key(actor, world, key)):
            result = self._decide(actor, tool, args, call_id, world, protected)
            return result, (execute() if result.allowed else None)

    async def arun(
        self,
        actor: str,
        tool: str,
        args: Any,
        call_id: str,
        execute: Callable[[], Any],
        *,
        world: World | None = None,
        protected: ProtectedSet | None = None,
        key: str | None = None,
    ) -> tuple[GuardResult, Any]:
        """`run` for async code: `execute` may return an awaitable; the decision runs in a worker thread."""
        async with self.alock(self._key(actor, world, key)):
            result = await anyio.to_thread.run_sync(lambda: self._decide(actor, tool, args, call_id, world, protected))
            if not result.allowed:
                return result, None
            out = execute()
            return result, (await out if inspect.isawaitable(out) else out)

    def _decide(
        self, actor: str, tool: str, args: Any, call_id: str, world: World | None, protected: ProtectedSet | None
    ) -> GuardResult:
        if world is None:
            return self.check_call(actor, tool, args, call_id)
        # Protected identities belong to the episode's start; without them, resolve what the world shows now.
        return self.check(actor, tool, args, call_id, world, protected or protected_in(self.policy, world))

    def check(
        self, actor: str, tool: str, args: Any, call_id: str, world: World, protected: ProtectedSet
    ) -> GuardResult:
        """Decide, ask a human if the policy says so, record, and answer. Never raises."""
        return self._run(actor, tool, args, call_id, lambda: decide(self.policy, protected, world, tool, args))

    def check_call(self, actor: str, tool: str, args: Any, call_id: str) -> GuardResult:
        """Like `check`, for tools with no world behind them: the policy's tool-name rules decide."""
        return self._run(actor, tool, args, call_id, lambda: decide_by_name(self.policy, tool))

    def check_with(
        self, actor: str, tool: str, args: Any, call_id: str, decision: Callable[[], PolicyDecision]
    ) -> GuardResult:
        """Like `check`, with the policy decision made by `decision()` (the MCP proxy's content rules)."""
        return self._run(actor, tool, args, call_id, decision)

    def _run(self, actor: str, tool: str, args: Any, call_id: str, policy_decision: Any) -> GuardResult:
        safe_args = args if isinstance(args, dict) else {"_raw": repr(args)}
        try:
            d: PolicyDecision = policy_decision()
            approval: dict[str, Any] | None = None
            outcome: str = d.decision  # the policy's decision, or the human's (approved, rejected)
            if d.decision == "require_approval":
                if self.approvals is None:
                    outcome, approval = "rejected", {"note": "no approval channel configured"}
                else:
                    req = ApprovalRequest(
                        actor=actor,
                        tool=tool,
                        args=safe_args,
                        call_id=call_id,
                        policy_version=self.policy.version_digest,
                        rule=d.rule,
                        reason=d.reason,
                    )
                    ans = decide_with(self.approvals, req, self.policy.approval.timeout_seconds)
                    approval = {"digest": req.digest, **ans.model_dump()}
                    outcome = "approved" if ans.approved else "rejected"
            rec = self.audit.append(
                actor=actor,
                tool=tool,
                args=safe_args,
                decision=outcome,
                rule=d.rule,
                effect={"effects": d.effects, "reason": d.reason},
                approval=approval,
            )
            return GuardResult(
                allowed=outcome in ("allow", "approved"),
                decision=outcome,
                rule=d.rule,
                reason=d.reason,
                audit_seq=rec.seq,
            )
        except Exception as exc:  # fail closed: a guard that cannot decide or record denies
            return GuardResult(
                allowed=False,
                decision="deny",
                rule="fail-closed",
                reason=f"guard error: {type(exc).__name__}: {' '.join(str(exc).split())}",
            )
