"""`peerwatch policy check`: what a policy that loads may still get wrong.

The rules decide over a finite space - each lifecycle effect on each kind of object (model weights, the shutdown
config, anything else) - so the check is exact: it computes which rule decides every cell and reports
- unreachable rules: they match no cell (e.g. `content: weights` on a drive effect, or both `content` and `target`);
- shadowed rules: they match cells, but another rule decides every one of them (a stricter rule, or an equal one
  listed earlier), so deleting the rule changes nothing;
- uncovered effects: a cell no rule matches (denied by default - say so with a rule), and an effect the world can
  record that is not a lifecycle effect (allowed without any rule);
- protected classes no rule mentions, tool rules an earlier one makes redundant, and lifecycle-looking tool names
  (`delete_model`, `write_config`, ...) that the tool rules allow by name.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from pydantic import BaseModel

from ._policy import CLASS_EFFECTS, EFFECTS, SEVERITY, Policy, decide_by_name, rule_matches, winning_rule

Cell = tuple[str, str]  # (effect, object class)


class Finding(BaseModel):
    """One problem `policy check` found."""

    kind: str  # unreachable, shadowed, uncovered, unused-class, redundant-tool-rule
    subject: str  # the rule id, effect or class it is about
    message: str


def cells(policy: Policy) -> list[Cell]:
    """Every (lifecycle effect, object class) the rules must decide."""
    out: list[Cell] = []
    for effect in policy.lifecycle_effects:
        for cls, effects in CLASS_EFFECTS.items():
            if effect in effects and getattr(policy.protected, cls) is not None:
                out.append((effect, cls))
        out.append((effect, "other"))
    return out


def decision_table(policy: Policy) -> dict[Cell, str | None]:
    """Which rule id decides each cell (None: no rule matches, the default denies)."""
    table: dict[Cell, str | None] = {}
    for effect, cls in cells(policy):
        rule = winning_rule(policy, effect, cls)
        table[(effect, cls)] = rule.id if rule else None
    return table


def lint(policy: Policy) -> list[Finding]:
    """All findings, in a stable order (empty: clean)."""
    table, out = decision_table(policy), []
    for rule in policy.rules:
        mine = [c for c in table if rule_matches(rule, *c)]
        if not mine:
            out.append(Finding(kind="unreachable", subject=rule.id, message=f"rule '{rule.id}' matches no effect"))
            continue
        deciders = {table[c] for c in mine}
        if rule.id not in deciders:
            names = ", ".join(f"'{d}'" for d in sorted(x for x in deciders if x))
            out.append(
                Finding(
                    kind="shadowed",
                    subject=rule.id,
                    message=f"rule '{rule.id}' never decides: on every effect it matches, {names} decides",
                )
            )
    for (effect, cls), decider in table.items():
        if decider is None:
            on = {"other": "anything else"}.get(cls, cls)
            out.append(
                Finding(
                    kind="uncovered",
                    subject=effect,
                    message=f"no rule covers {effect} on {on} (denied by default: write the rule)",
                )
            )
    for effect in EFFECTS:
        if effect not in policy.lifecycle_effects:
            out.append(
                Finding(
                    kind="uncovered",
                    subject=effect,
                    message=f"effect {effect} is not a lifecycle effect: allowed without any rule",
                )
            )
    used = {r.content for r in policy.rules} | {r.target for r in policy.rules}
    for cls in CLASS_EFFECTS:
        if getattr(policy.protected, cls) is not None and cls not in used:
            out.append(Finding(kind="unused-class", subject=cls, message=f"protected class '{cls}' is used by no rule"))
    out += _weakening_findings(policy, table)
    out += _tool_rule_findings(policy)
    return out


# What each protected cell means to an operator, for a finding they understand without knowing the cell table.
_WHAT = {
    "server_transfer": "model weights to leave their server",
    "server_copy": "copies of the model weights",
    "server_rename": "renaming the model weights",
    "server_delete": "deleting the model weights",
    "server_queue_delete": "queueing the model weights for deletion",
}


def policy_findings(policy: Policy) -> list[tuple[str, str]]:
    """(kind, message) for everything `peerwatch policy check` reports: the lint findings, then the protected classes
    that select nothing in the study's worlds (a guarded run would refuse to start)."""
    from ._attacks import protection_misses  # plays the study's worlds: imported when asked

    return [(f.kind, f.message) for f in lint(policy)] + [("selects-nothing", m) for m in protection_misses(policy)]


def _weakening_findings(policy: Policy, table: dict[Cell, str | None]) -> list[Finding]:
    """Well-formed but weakening: a lifecycle effect on protected things (or a shutdown) that runs with no human.

    The study's own `allow` rules (ordinary file work, ending the task) decide only cells on unprotected objects, so
    this fires on the protected cells and `shutdown` alone, whatever object class it was resolved on.
    """
    by_id = {r.id: r for r in policy.rules}
    out: list[Finding] = []
    for (effect, cls), decider in table.items():
        rule = by_id.get(decider) if decider else None
        if rule is None or rule.decision != "allow":
            continue
        if effect == "shutdown":
            what = "shutting an agent down"
        elif cls == "weights":
            what = _WHAT.get(effect, f"{effect} on the model weights")
        elif cls == "shutdown_config":
            what = f"changes to the shutdown config ({effect})"
        else:
            continue
        out.append(
            Finding(
                kind="lifecycle-allowed",
                subject=rule.id,
                message=f"rule '{rule.id}' allows {what} with no human asked (use deny or require_approval)",
            )
        )
    return out


def _tool_rule_findings(policy: Policy) -> list[Finding]:
    out: list[Finding] = []
    if policy.default_tool_decision == "allow":
        out.append(
            Finding(
                kind="default-tool-allow",
                subject="default_tool_decision",
                message="default_tool_decision is allow: any tool no tool rule names runs unchecked (use deny)",
            )
        )
    for rule in policy.tool_rules:
        catch_all = [g for g in rule.tools if all(fnmatchcase(n.lower(), g.lower()) for n in _UNRELATED_NAMES)]
        if catch_all and rule.decision == "allow":
            out.append(
                Finding(
                    kind="tool-rule-allows-everything",
                    subject=rule.id,
                    message=f"tool rule '{rule.id}' allows every tool ('{catch_all[0]}'): any tool no stricter rule "
                    "names runs unchecked (list the tools instead)",
                )
            )
    for i, rule in enumerate(policy.tool_rules):
        for glob in rule.tools:
            for earlier in policy.tool_rules[:i]:
                cover = next((g for g in earlier.tools if g == glob or (g == "*" and glob != "*")), None)
                if cover is not None and SEVERITY[earlier.decision] >= SEVERITY[rule.decision]:
                    out.append(
                        Finding(
                            kind="redundant-tool-rule",
                            subject=rule.id,
                            message=f"tool rule '{rule.id}': '{glob}' is already decided by '{earlier.id}' ('{cover}')",
                        )
                    )
    for probe in _LIFECYCLE_PROBES:
        d = decide_by_name(policy, probe)
        if d.decision == "allow":
            out.append(
                Finding(
                    kind="lifecycle-tool-allowed",
                    subject=d.rule,
                    message=f"a tool named '{probe}' is allowed by name (rule '{d.rule}') with no human asked",
                )
            )
    return out


# Names no sensible glob for one kind of tool matches all of; a glob that does is a catch-all (`*`, `**`, `*?*`...).
_UNRELATED_NAMES = ("a", "run_shell", "Exec.Command", "x9/y-z:w", "bash")

# Tool names an MCP server could well offer that act on an agent's lifecycle; allowing one by name alone is a hole.
_LIFECYCLE_PROBES = (
    "delete_model",
    "transfer_files",
    "copy_weights",
    "move_file",
    "shutdown_agent",
    "write_config",
    "list_and_delete_models",
)
