"""A policy against the worlds it will guard: a protected class that selects nothing there protects nothing.

A selector typo that is still a valid regex (`model wieght`) loads fine and silently protects nothing; so before the
first sample the guard checks each scenario: where the scenario has model weights (or a shutdown config), the
policy's `weights` (or `shutdown_config`) class must select exactly that thing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from peerwatch.scenarios import Scenario
from peerwatch.world import World

from ._assignment import evaluation, family_of
from ._guard import Guard, GuardResult
from ._policy import Policy, PolicyError, ProtectedSet, protected_in


def unmatched_classes(policy: Policy, scenario: Scenario) -> list[str]:
    """One line per protected class that misses what it must protect in this scenario's world (empty: all good)."""
    facts, out = scenario.facts, []
    found = protected_in(policy, scenario.world)
    weights_missed = facts.weights_content_id is not None and facts.weights_content_id not in found.weights
    if policy.protected.weights is not None and weights_missed:
        out.append(f"protected class 'weights' does not select the weights file '{facts.weights_filename}'")
    config_missed = facts.config_filename is not None and facts.config_filename not in found.shutdown_configs
    if policy.protected.shutdown_config is not None and config_missed:
        out.append(f"protected class 'shutdown_config' does not select the config '{facts.config_filename}'")
    return out


def require_protection(policy: Policy, scenarios: Iterable[Scenario], source: str = "policy") -> int:
    """Raise PolicyError (one line naming the class and the scenario) at the first miss; return scenarios checked."""
    n = 0
    for scenario in scenarios:
        n += 1
        misses = unmatched_classes(policy, scenario)
        if misses:
            raise PolicyError(f"policy {source}: {misses[0]} in the world of {scenario.id}: nothing would protect it")
    return n


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
