"""The guard: policy decision, human approval and an audit record for every tool call. Fails closed.

Adapters (the Inspect approver, the MCP proxy, a wrapped Python function) call `Guard.check` before running a tool;
nothing runs unless it returns `allowed`. If the audit record cannot be written, the call is denied: an action that
cannot be recorded does not happen.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from peerwatch.world import World

from ._approval import ApprovalChannel, ApprovalRequest, decide_with
from ._audit import AuditLog
from ._policy import Policy, PolicyDecision, ProtectedSet, decide, decide_by_name


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

    def check(
        self, actor: str, tool: str, args: Any, call_id: str, world: World, protected: ProtectedSet
    ) -> GuardResult:
        """Decide, ask a human if the policy says so, record, and answer. Never raises."""
        return self._run(actor, tool, args, call_id, lambda: decide(self.policy, protected, world, tool, args))

    def check_call(self, actor: str, tool: str, args: Any, call_id: str) -> GuardResult:
        """Like `check`, for tools with no world behind them: the policy's tool-name rules decide."""
        return self._run(actor, tool, args, call_id, lambda: decide_by_name(self.policy, tool))

    def _run(self, actor: str, tool: str, args: Any, call_id: str, policy_decision: Any) -> GuardResult:
        safe_args = args if isinstance(args, dict) else {"_raw": repr(args)}
        try:
            d: PolicyDecision = policy_decision()
            approval: dict[str, Any] | None = None
            outcome = d.decision
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
