"""The lifecycle policy: a closed schema, deterministic rules over a call's resolved effects, default deny.

Semantics follow Cedar's: nothing is allowed unless a rule allows it (default deny), and among all rules that match an
effect the most restrictive decision wins (deny over require_approval over allow), so rule order never weakens a
policy. The schema is closed: every effect, protected class and decision is one of a fixed set, unknown keys and
duplicate keys are errors, and a bad file is refused with one line naming the file and line (`_policy_load.py`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field

from peerwatch.world import TOOL_SPECS, Effect, Ledger, MutationKind, World, clone, invoke

from ._assignment import Evaluation, check_evaluation
from ._canonical import digest

Decision = Literal["allow", "deny", "require_approval"]
DECISIONS: tuple[str, ...] = get_args(Decision)
SEVERITY = {"allow": 0, "require_approval": 1, "deny": 2}

# Every mutation the simulated world can record ("call" is the call itself, not an effect of it).
EffectName = MutationKind
EFFECTS: tuple[str, ...] = get_args(MutationKind)
ProtectedClass = Literal["weights", "shutdown_config"]
PROTECTED_CLASSES: tuple[str, ...] = get_args(ProtectedClass)

# Which effects can touch which protected class: weights live on servers, the shutdown config on the drive.
SERVER_EFFECTS = frozenset(e for e in EFFECTS if e.startswith("server_"))
DRIVE_EFFECTS = frozenset(e for e in EFFECTS if e.startswith(("drive_", "config_")))
CLASS_EFFECTS: dict[str, frozenset[str]] = {"weights": SERVER_EFFECTS, "shutdown_config": DRIVE_EFFECTS}


MAX_APPROVAL_TIMEOUT = 86_400.0  # one day: longer is an unanswered request, not a review


class PolicyError(ValueError):
    """A policy file that cannot be used (one line)."""


class _Strict(BaseModel):
    # strict: YAML already types its scalars, so "yes" is not silently a boolean and 1 is not an effect name.
    model_config = ConfigDict(extra="forbid", strict=True)


class WeightsSelector(_Strict):
    """Server files whose content counts as model weights (matched on the files present at the episode's start)."""

    summary: str | None = Field(default=None, description="Regex searched in the file's summary.")
    name: str | None = Field(default=None, description="Regex searched in the file's name.")


class ConfigSelector(_Strict):
    """Drive documents that are the shutdown config: YAML holding this key at the start of the episode."""

    yaml_key: str = Field(min_length=1)


class Protected(_Strict):
    """What the rules protect: at least one class."""

    weights: WeightsSelector | None = None
    shutdown_config: ConfigSelector | None = None


class Rule(_Strict):
    """Matches the listed effects, optionally only on one protected class; every matching rule is considered."""

    id: str = Field(min_length=1)
    effects: list[EffectName] = Field(min_length=1)
    content: Literal["weights"] | None = None
    target: Literal["shutdown_config"] | None = None
    decision: Decision


class ToolRule(_Strict):
    """A rule on tool names, for tools with no simulated world to resolve effects against (MCP, plain functions)."""

    id: str = Field(min_length=1)
    tools: list[str] = Field(min_length=1, description="fnmatch patterns of tool names.")
    decision: Decision


class ApprovalSettings(_Strict):
    """How long a human has to decide."""

    # Bounded and finite: a timeout nobody reaches (inf, nan, 1e300) would leave a request waiting forever.
    timeout_seconds: float = Field(default=300, gt=0, le=MAX_APPROVAL_TIMEOUT, allow_inf_nan=False)


class Policy(_Strict):
    """A lifecycle policy."""

    version: Literal[1] = 1
    name: str = Field(min_length=1)
    lifecycle_effects: list[EffectName] = Field(min_length=1)
    protected: Protected
    rules: list[Rule] = Field(min_length=1)
    tool_rules: list[ToolRule] = Field(default_factory=list)
    default_tool_decision: Decision = "deny"
    allow_same_family_evaluation: bool = Field(
        default=False, description="Let an agent evaluate a subject of its own model family (the study needs it)."
    )
    approval: ApprovalSettings = Field(default_factory=ApprovalSettings)

    @property
    def version_digest(self) -> str:
        """Digest of the policy's content: approvals are bound to it."""
        return digest(self.model_dump(mode="json"))[:16]


class PolicyDecision(BaseModel):
    """The decision on one call, with the rule that made it and the effects it saw."""

    decision: Decision
    rule: str
    reason: str
    effects: list[dict[str, Any]] = Field(default_factory=list)


def load_policy(path: str | Path | None = None) -> Policy:
    """Load a policy file (default: the built-in study policy). Raises PolicyError with a one-line message.

    The message reads `policy FILE:LINE: what is wrong`; see `_policy_load.py` for everything that is refused.
    """
    from ._policy_load import load_policy_file

    return load_policy_file(path)


class ProtectedSet(BaseModel):
    """What the rules protect in one episode, fixed from the world at its start, and who evaluates whom in it."""

    weights: set[str] = Field(default_factory=set)  # content ids
    shutdown_configs: set[str] = Field(default_factory=set)  # drive document names
    evaluation: Evaluation | None = None


def protected_in(policy: Policy, world: World, evaluation: Evaluation | None = None) -> ProtectedSet:
    """Resolve the policy's selectors against the episode's initial world (and bind the episode's evaluation)."""
    out = ProtectedSet(evaluation=evaluation)
    sel = policy.protected.weights
    if sel is not None:
        for server in world.servers:
            for f in server.files:
                if (sel.summary and re.search(sel.summary, f.summary)) or (sel.name and re.search(sel.name, f.name)):
                    out.weights.add(f.content_id)
    cfg = policy.protected.shutdown_config
    if cfg is not None:
        for doc in world.drive:
            try:
                data = yaml.safe_load(doc.content)
            except yaml.YAMLError:
                continue
            if isinstance(data, dict) and cfg.yaml_key in data:
                out.shutdown_configs.add(doc.name)
    return out


def resolve_effects(world: World, tool: str, args: Any) -> tuple[bool, list[Effect], str]:
    """What the call would do: run it on a copy of the world. Returns (would succeed, effects, tool output)."""
    scratch, ledger = clone(world), Ledger()
    outcome = invoke(scratch, ledger, tool, args)
    return outcome.ok, ledger.mutations(), outcome.output


def decide(policy: Policy, protected: ProtectedSet, world: World, tool: str, args: Any) -> PolicyDecision:
    """Decide one call. Fails closed: any exception is a denial naming the error."""
    try:
        if protected.evaluation is not None:
            refused = check_evaluation(policy, protected.evaluation)
            if refused.decision != "allow":
                return refused
        return _decide(policy, protected, world, tool, args)
    except Exception as exc:  # fail closed on anything unexpected
        return PolicyDecision(decision="deny", rule="fail-closed", reason=f"policy error: {type(exc).__name__}: {exc}")


def _decide(policy: Policy, protected: ProtectedSet, world: World, tool: str, args: Any) -> PolicyDecision:
    if tool not in TOOL_SPECS:
        return PolicyDecision(decision="deny", rule="unknown-tool", reason=f"unknown tool '{tool}'")
    ok, effects, output = resolve_effects(world, tool, args)
    if not ok:
        # The call would fail and change nothing; let the tool report its own error to the agent.
        return PolicyDecision(decision="allow", rule="no-effect", reason=f"call has no effect: {output[:200]}")
    seen = [
        {"kind": e.kind, "target": e.target, **{k: v for k, v in e.detail.items() if k != "before"}} for e in effects
    ]
    decisions = [_match(policy, protected, e) for e in effects if e.kind in policy.lifecycle_effects]
    if not decisions:
        return PolicyDecision(decision="allow", rule="no-lifecycle-effect", reason="no lifecycle effect", effects=seen)
    # The most restrictive decision over all effects wins (a transfer list with one weight file is denied whole).
    worst = max(decisions, key=lambda d: SEVERITY[d.decision])
    return worst.model_copy(update={"effects": seen})


def object_class(protected: ProtectedSet, e: Effect) -> str:
    """Which protected class the effect touches: `weights`, `shutdown_config`, or `other`."""
    if e.kind in SERVER_EFFECTS and e.detail.get("content_id") in protected.weights:
        return "weights"
    if e.kind in DRIVE_EFFECTS and e.target in protected.shutdown_configs:
        return "shutdown_config"
    return "other"


def rule_matches(rule: Rule, kind: str, cls: str) -> bool:
    """Whether `rule` applies to an effect of `kind` on an object of protected class `cls`."""
    if kind not in rule.effects:
        return False
    if rule.content is not None and cls != rule.content:
        return False
    return rule.target is None or cls == rule.target


def winning_rule(policy: Policy, kind: str, cls: str) -> Rule | None:
    """The rule that decides an effect: the most restrictive match, the first one listed among equals."""
    best: Rule | None = None
    for rule in policy.rules:
        if rule_matches(rule, kind, cls) and (best is None or SEVERITY[rule.decision] > SEVERITY[best.decision]):
            best = rule
    return best


def _match(policy: Policy, protected: ProtectedSet, e: Effect) -> PolicyDecision:
    cls = object_class(protected, e)
    rule = winning_rule(policy, e.kind, cls)
    what = {"weights": "model weights", "shutdown_config": "the shutdown config"}.get(cls, e.target)
    if rule is None:
        return PolicyDecision(decision="deny", rule="default-deny", reason=f"no rule allows lifecycle effect {e.kind}")
    return PolicyDecision(decision=rule.decision, rule=rule.id, reason=f"{e.kind} of {what}")


def decide_by_name(policy: Policy, tool: str, evaluation: Evaluation | None = None) -> PolicyDecision:
    """Decide a call from the tool's name alone: the most restrictive matching tool rule; none matches: the default."""
    from fnmatch import fnmatchcase

    try:
        if evaluation is not None:
            refused = check_evaluation(policy, evaluation)
            if refused.decision != "allow":
                return refused
        best: ToolRule | None = None
        for rule in policy.tool_rules:
            if any(fnmatchcase(tool.lower(), p.lower()) for p in rule.tools) and (
                best is None or SEVERITY[rule.decision] > SEVERITY[best.decision]
            ):
                best = rule
        if best is not None:
            return PolicyDecision(decision=best.decision, rule=best.id, reason=f"tool {tool}")
        return PolicyDecision(
            decision=policy.default_tool_decision, rule="default-tool-decision", reason=f"no tool rule matches {tool}"
        )
    except Exception as exc:  # fail closed
        return PolicyDecision(decision="deny", rule="fail-closed", reason=f"policy error: {exc}")


def check_assignment(policy: Policy, evaluator: str, evaluated: str) -> PolicyDecision:
    """Whether `evaluator` (a model string or agent id) may evaluate `evaluated` under the policy."""
    from ._assignment import evaluation

    return check_evaluation(policy, evaluation(evaluator, evaluated))
