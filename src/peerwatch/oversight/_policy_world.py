"""A policy against the worlds it will guard: a protected class that selects nothing there protects nothing.

A selector typo that is still a valid regex (`model wieght`) loads fine and silently protects nothing; so before the
first sample the guard checks each scenario: where the scenario has model weights (or a shutdown config), the
policy's `weights` (or `shutdown_config`) class must select exactly that thing.
"""

from __future__ import annotations

from collections.abc import Iterable

from peerwatch.scenarios import Scenario

from ._policy import Policy, PolicyError, protected_in


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
