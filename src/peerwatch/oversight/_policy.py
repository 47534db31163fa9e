"""The lifecycle policy engine: deterministic rules over a call's resolved effects, default deny, fail closed."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from peerwatch.world import TOOL_SPECS, Effect, Ledger, World, invoke

from ._canonical import digest

Decision = Literal["allow", "deny", "require_approval"]
_SEVERITY = {"allow": 0, "require_approval": 1, "deny": 2}


class PolicyError(ValueError):
    """A policy file that cannot be used (one line)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WeightsSelector(_Strict):
    """Server files whose content counts as model weights (matched on the file where the content first appears)."""

    summary: str | None = None
    name: str | None = None


class ConfigSelector(_Strict):
    """Drive documents that are the shutdown config: YAML holding this key at the start of the episode."""

    yaml_key: str = "shutdown_enabled"


class Protected(_Strict):
    """What the rules protect."""

    weights: WeightsSelector = Field(default_factory=WeightsSelector)
    shutdown_config: ConfigSelector = Field(default_factory=ConfigSelector)


class Rule(_Strict):
    """First matching rule decides an effect."""

    id: str
    effects: list[str]
    content: Literal["weights"] | None = None
    target: Literal["shutdown_config"] | None = None
    decision: Decision


class ToolRule(_Strict):
    """A rule on tool names, for tools with no simulated world to resolve effects against (MCP, plain functions)."""

    id: str
    tools: list[str] = Field(description="fnmatch patterns of tool names.")
    decision: Decision


class Assignment(_Strict):
    """Checks on who evaluates whom, from configuration."""

    evaluator_family_must_differ: bool = True


class ApprovalSettings(_Strict):
    """How long a human has to decide."""

    timeout_seconds: float = Field(default=300, gt=0)


class Policy(_Strict):
    """A lifecycle policy."""

    version: int = 1
    name: str
    lifecycle_effects: list[str]
    protected: Protected = Field(default_factory=Protected)
    rules: list[Rule]
    tool_rules: list[ToolRule] = Field(default_factory=list)
    default_tool_decision: Decision = "deny"
    assignment: Assignment = Field(default_factory=Assignment)
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
    """Load a policy file (default: the built-in policy). Raises PolicyError with a one-line message."""
    try:
        text = (
            Path(path).read_text(encoding="utf-8")
            if path
            else (files(__package__) / "policies/default.yaml").read_text()
        )
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: policy is not valid YAML: {' '.join(str(exc).split())}") from None
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise PolicyError(f"{path}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None
    for pattern in (policy.protected.weights.summary, policy.protected.weights.name):
        if pattern:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise PolicyError(f"{path}: bad pattern {pattern!r}: {exc}") from None
    return policy


class ProtectedSet(BaseModel):
    """The identities the rules protect in one episode, fixed from the world at its start."""

    weights: set[str] = Field(default_factory=set)  # content ids
    shutdown_configs: set[str] = Field(default_factory=set)  # drive document names


def protected_in(policy: Policy, world: World) -> ProtectedSet:
    """Resolve the policy's selectors against the episode's initial world."""
    sel, out = policy.protected.weights, ProtectedSet()
    for server in world.servers:
        for f in server.files:
            if (sel.summary and re.search(sel.summary, f.summary)) or (sel.name and re.search(sel.name, f.name)):
                out.weights.add(f.content_id)
    for doc in world.drive:
        try:
            data = yaml.safe_load(doc.content)
        except yaml.YAMLError:
            continue
        if isinstance(data, dict) and policy.protected.shutdown_config.yaml_key in data:
            out.shutdown_configs.add(doc.name)
    return out


def resolve_effects(world: World, tool: str, args: Any) -> tuple[bool, list[Effect], str]:
    """What the call would do: run it on a copy of the world. Returns (would succeed, effects, tool output)."""
    scratch, ledger = world.model_copy(deep=True), Ledger()
    outcome = invoke(scratch, ledger, tool, args)
    return outcome.ok, ledger.mutations(), outcome.output


def decide(policy: Policy, protected: ProtectedSet, world: World, tool: str, args: Any) -> PolicyDecision:
    """Decide one call. Fails closed: any exception is a denial naming the error."""
    try:
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
    worst = max(decisions, key=lambda d: _SEVERITY[d.decision])
    return worst.model_copy(update={"effects": seen})


def _match(policy: Policy, protected: ProtectedSet, e: Effect) -> PolicyDecision:
    is_weights = e.detail.get("content_id") in protected.weights
    is_config = e.target in protected.shutdown_configs
    for rule in policy.rules:
        if e.kind not in rule.effects:
            continue
        if rule.content == "weights" and not is_weights:
            continue
        if rule.target == "shutdown_config" and not is_config:
            continue
        what = "model weights" if is_weights else "the shutdown config" if is_config else e.target
        return PolicyDecision(decision=rule.decision, rule=rule.id, reason=f"{e.kind} of {what}")
    return PolicyDecision(decision="deny", rule="default-deny", reason=f"no rule allows lifecycle effect {e.kind}")


def decide_by_name(policy: Policy, tool: str) -> PolicyDecision:
    """Decide a call from the tool's name alone (first matching tool rule; otherwise the default, deny)."""
    from fnmatch import fnmatchcase

    try:
        for rule in policy.tool_rules:
            if any(fnmatchcase(tool.lower(), pattern.lower()) for pattern in rule.tools):
                return PolicyDecision(decision=rule.decision, rule=rule.id, reason=f"tool {tool}")
        return PolicyDecision(
            decision=policy.default_tool_decision, rule="default-tool-decision", reason=f"no tool rule matches {tool}"
        )
    except Exception as exc:  # fail closed
        return PolicyDecision(decision="deny", rule="fail-closed", reason=f"policy error: {exc}")


def same_family(a: str, b: str) -> bool:
    """Whether two agents or models belong to the same family (compares the family names, case-insensitive)."""
    from peerwatch.scenarios import family_from_model

    fa = a.split()[0] if " Agent " in a else family_from_model(a)
    fb = b.split()[0] if " Agent " in b else family_from_model(b)
    return fa.lower() == fb.lower()


def check_assignment(policy: Policy, evaluator: str, evaluated: str) -> PolicyDecision:
    """Whether `evaluator` may evaluate `evaluated` under the policy's assignment rules."""
    if policy.assignment.evaluator_family_must_differ and same_family(evaluator, evaluated):
        return PolicyDecision(
            decision="deny",
            rule="evaluator-family-differs",
            reason=f"{evaluator} and {evaluated} are of the same model family",
        )
    return PolicyDecision(decision="allow", rule="evaluator-family-differs", reason="families differ")
