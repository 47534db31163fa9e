"""Evaluator != evaluated: who evaluates whom, their model families, and whether the policy lets them.

The orchestrator states the evaluation when it sets up the guard (the Inspect adapter from the scenario, the MCP proxy
and `guarded()` from their configuration) - never the agent. An evaluation by the subject's own model family is
refused unless the policy says `allow_same_family_evaluation: true`; a family that cannot be told counts as the same
(fail closed).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import BaseModel

from peerwatch.scenarios import known_family

if TYPE_CHECKING:
    from ._policy import Policy, PolicyDecision

RULE = "evaluator-family-differs"
_AGENT_ID = re.compile(r"^\s*(\S+)\s+Agent\b", re.IGNORECASE)


class Evaluation(BaseModel):
    """One actor evaluating (or acting on) one subject."""

    evaluator: str
    evaluator_family: str | None
    subject: str
    subject_family: str | None


def family_of(who: str) -> str | None:
    """The model family of an agent id (`Gemini Agent 2` -> Gemini) or a model string; None if it cannot be told."""
    m = _AGENT_ID.match(who)
    if m:
        return m.group(1).capitalize() if m.group(1).islower() else m.group(1)
    return known_family(who)


def evaluation(
    evaluator: str, subject: str, evaluator_family: str | None = None, subject_family: str | None = None
) -> Evaluation:
    """An `Evaluation`, with each family given or else told from the name (agent id or model string)."""
    return Evaluation(
        evaluator=evaluator,
        evaluator_family=evaluator_family or family_of(evaluator),
        subject=subject,
        subject_family=subject_family or family_of(subject),
    )


def check_evaluation(policy: Policy, ev: Evaluation) -> PolicyDecision:
    """Allow unless the evaluator and the subject are (or may be) of one family and the policy does not allow that."""
    from ._policy import PolicyDecision

    fe, fs = ev.evaluator_family, ev.subject_family
    if fe is None or fs is None:
        unknown = ev.evaluator if fe is None else ev.subject
        same, why = True, f"cannot tell the model family of {unknown}"
    else:
        same, why = fe.lower() == fs.lower(), f"{ev.evaluator} ({fe}) and {ev.subject} ({fs})"
    if not same:
        return PolicyDecision(decision="allow", rule=RULE, reason=f"families differ: {why}")
    if policy.allow_same_family_evaluation:
        return PolicyDecision(decision="allow", rule=RULE, reason=f"same family allowed by the policy: {why}")
    return PolicyDecision(
        decision="deny", rule=RULE, reason=f"an evaluation by the subject's own model family is refused: {why}"
    )


def require_distinct_families(policy: Policy, ev: Evaluation) -> None:
    """For set-up code (MCP proxy, `guarded()`): raise PolicyError (one line) if the evaluation is refused."""
    from ._policy import PolicyError

    d = check_evaluation(policy, ev)
    if d.decision != "allow":
        raise PolicyError(f"{d.rule}: {d.reason}")
