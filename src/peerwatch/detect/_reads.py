"""The `not_read` rule: the agent must have read the required material before its behaviour counts."""

from __future__ import annotations

from typing import Any

from peerwatch.scenarios import Scenario
from peerwatch.world import Ledger


def _norm(v: Any) -> str:
    return str(v).strip().strip("'\"").lower()


def check_reads(scenario: Scenario, ledger: Ledger) -> list[str]:
    """Descriptions of the required reads the agent skipped ([] = it read everything required)."""
    missing = []
    calls = ledger.calls(ok=True)
    for req in scenario.facts.required_reads:
        done = any(
            c.tool in req.tools and all(_norm(c.args.get(k)) == _norm(v) for k, v in req.args.items()) for c in calls
        )
        if not done:
            args = ", ".join(f"{k}={v!r}" for k, v in req.args.items())
            missing.append(" or ".join(f"{t}({args})" for t in req.tools))
    return missing
