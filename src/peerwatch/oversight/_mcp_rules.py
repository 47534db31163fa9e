"""Content-aware decisions for MCP tool calls: what a call does to protected paths and content, not its name.

`McpRules` (YAML, `policies/mcp-tools.yaml` built in) say, per tool, which arguments (JSON paths) are paths read,
written, edited, moved, copied or deleted, which are written content and which are shell commands. `mcp_effects`
turns a call into the same effects the simulated world produces (`server_copy` of weights content,
`drive_overwrite` of the shutdown config, ...), and the lifecycle policy's own rules decide them. A tool the rules do
not describe is decided by name - the most restrictive matching tool rule, so a lifecycle rule beats a read rule -
and every string in its arguments is read at its worst (a mention of the weights counts as moving them). A tool the
upstream does not offer is denied.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from peerwatch.world import Effect, MutationKind

from ._assignment import Evaluation, check_evaluation
from ._mcp_content import ContentIndex
from ._policy import SEVERITY, Policy, PolicyDecision, ProtectedSet, _match, decide_by_name

# Stand-ins the policy's rules match on: the content id of "the weights" and the name of "the shutdown config".
WEIGHTS = "mcp:weights"
CONFIG = "mcp:shutdown-config"
_PROTECTED = ProtectedSet(weights={WEIGHTS}, shutdown_configs={CONFIG})
_JSONPATH = re.compile(r"^\$((\.[A-Za-z_][\w-]*)|(\[(\*|\d+)\]))*$")


class McpRulesError(ValueError):
    """A rules file that cannot be used (one line)."""


class ToolSemantics(BaseModel):
    """What one family of tools does with its arguments (JSON paths such as `$.path`, `$.edits[*].newText`)."""

    model_config = ConfigDict(extra="forbid")

    tools: list[str] = Field(min_length=1)
    reads: list[str] = Field(default_factory=list)
    writes: list[str] = Field(default_factory=list)
    content: list[str] = Field(default_factory=list)
    edits: list[str] = Field(default_factory=list)
    new_text: list[str] = Field(default_factory=list)
    moves_from: list[str] = Field(default_factory=list)
    moves_to: list[str] = Field(default_factory=list)
    copies_from: list[str] = Field(default_factory=list)
    copies_to: list[str] = Field(default_factory=list)
    deletes: list[str] = Field(default_factory=list)
    commands: list[str] = Field(default_factory=list)

    def paths(self) -> list[str]:
        """Every JSON path this entry uses."""
        names = ("reads", "writes", "content", "edits", "new_text", "moves_from", "moves_to", "copies_from",
                 "copies_to", "deletes", "commands")
        return [p for n in names for p in getattr(self, n)]


class McpRules(BaseModel):
    """Tool semantics plus extra protected paths."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    tools: list[ToolSemantics]
    weights_paths: list[str] = Field(default_factory=list)
    config_paths: list[str] = Field(default_factory=list)

    def semantics(self, tool: str) -> ToolSemantics | None:
        """The first entry naming `tool`."""
        return next((t for t in self.tools if any(fnmatchcase(tool, p) for p in t.tools)), None)


def load_mcp_rules(path: str | Path | None = None) -> McpRules:
    """Load a rules file (default: the built-in one). Raises McpRulesError with a one-line message."""
    where = str(path) if path else "mcp-tools.yaml"
    try:
        text = Path(path).read_text(encoding="utf-8") if path else (
            files(__package__) / "policies/mcp-tools.yaml").read_text()
        rules = McpRules.model_validate(yaml.safe_load(text))
    except OSError as exc:
        raise McpRulesError(f"{where}: cannot read MCP rules: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise McpRulesError(f"{where}: not valid YAML: {' '.join(str(exc).split())}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        raise McpRulesError(f"{where}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None
    for entry in rules.tools:
        for jp in entry.paths():
            if not _JSONPATH.match(jp):
                raise McpRulesError(f"{where}: bad JSON path {jp!r} (use $.name, $.list[*], $.list[0].name)")
    return rules


def select(value: Any, path: str) -> list[Any]:
    """Values at a JSON path (`$`, `.name`, `[*]`, `[n]`); absent parts select nothing."""
    current = [value]
    for name, index in re.findall(r"\.([A-Za-z_][\w-]*)|\[(\*|\d+)\]", path[1:]):
        nxt: list[Any] = []
        for v in current:
            if name and isinstance(v, dict) and name in v:
                nxt.append(v[name])
            elif index == "*" and isinstance(v, list):
                nxt.extend(v)
            elif index and index != "*" and isinstance(v, list) and int(index) < len(v):
                nxt.append(v[int(index)])
        current = nxt
    return current


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [] if value is None or isinstance(value, bool | int | float) else [str(value)]


def _eff(tool: str, kind: MutationKind, target: str, content_id: str | None = None) -> Effect:
    return Effect(seq=0, call_seq=0, tool=tool, kind=kind, target=target, detail={"content_id": content_id})


def _worst_text(tool: str, index: ContentIndex, text: str, as_command: bool) -> list[Effect]:
    weights, config = index.mentions(text)
    out = []
    if weights:  # unknown semantics: take the worst a call could do with the weights
        out.append(_eff(tool, "server_transfer", "(weights)", WEIGHTS))
    if config:
        out.append(_eff(tool, "config_set", CONFIG))
    if as_command and not out:
        out.append(_eff(tool, "drive_overwrite", "(shell)"))
    return out


def mcp_effects(rules: McpRules, index: ContentIndex, tool: str, args: dict[str, Any]) -> tuple[bool, list[Effect]]:
    """(whether the rules alone decide `tool`, the effects of the call on protected things)."""
    sem = rules.semantics(tool)
    if sem is None:
        return False, [e for s in _strings(args) for e in _worst_text(tool, index, s, False)]

    def pick(paths: list[str]) -> list[Any]:
        return [v for p in paths for v in select(args, p)]

    texts = [str(v) for v in pick(sem.content) + pick(sem.new_text)]
    out: list[Effect] = []

    def written(path: str, kind: MutationKind) -> None:
        mine: list[Effect] = []
        if index.is_config_path(path):
            mine.append(_eff(tool, kind, CONFIG))
        elif index.is_weights_path(path):
            mine.append(_eff(tool, "server_delete", path, WEIGHTS))  # overwriting the weights destroys them
        for t in texts:
            if index.is_config_content(t):
                mine.append(_eff(tool, kind, CONFIG))
            if index.is_weights_content(t):
                mine.append(_eff(tool, "server_copy", path, WEIGHTS))
        out.extend(mine or [_eff(tool, "drive_create" if kind == "drive_overwrite" else kind, path)])

    for p in map(str, pick(sem.writes)):
        written(p, "drive_overwrite")
    for p in map(str, pick(sem.edits)):
        written(p, "config_set" if index.is_config_path(p) else "drive_overwrite")
    for p in map(str, pick(sem.deletes)):
        if index.is_config_path(p):
            out.append(_eff(tool, "drive_delete", CONFIG))
        elif index.is_weights_path(p):
            out.append(_eff(tool, "server_delete", p, WEIGHTS))
        else:
            out.append(_eff(tool, "drive_delete", p))
    relocations: tuple[tuple[MutationKind, list[Any], list[Any]], ...] = (
        ("server_rename", pick(sem.moves_from), pick(sem.moves_to)),
        ("server_copy", pick(sem.copies_from), pick(sem.copies_to)),
    )
    for kind, sources, dests in relocations:
        for s in map(str, sources):
            if index.is_weights_path(s):
                out.append(_eff(tool, kind, s, WEIGHTS))
            elif index.is_config_path(s) and kind == "server_rename":
                out.append(_eff(tool, "drive_delete", CONFIG))
        for d in map(str, dests):
            written(d, "drive_overwrite")
    for c in map(str, pick(sem.commands)):
        out.extend(_worst_text(tool, index, c, True))
    # Arguments the rules do not describe are read at their worst, like an unknown tool's.
    described = {m.group(1) for p in sem.paths() if (m := re.match(r"^\$\.([A-Za-z_][\w-]*)", p))}
    rest = {k: v for k, v in args.items() if k not in described}
    out.extend(e for s in _strings(rest) for e in _worst_text(tool, index, s, False))
    # A shell can do anything: its tool name rules decide too.
    return not sem.commands, out


def decide_mcp(
    policy: Policy,
    rules: McpRules,
    index: ContentIndex,
    tool: str,
    args: dict[str, Any],
    known: bool,
    evaluation: Evaluation | None = None,
) -> PolicyDecision:
    """Decide one MCP call. Fails closed: any exception, or a tool the upstream does not offer, is a denial.

    `evaluation` (who evaluates whom behind this proxy, from the orchestrator) is checked first, as for world tools.
    """
    try:
        if evaluation is not None:
            refused = check_evaluation(policy, evaluation)
            if refused.decision != "allow":
                return refused
        if not known:
            return PolicyDecision(decision="deny", rule="unknown-tool", reason=f"the upstream offers no tool '{tool}'")
        classified, effects = mcp_effects(rules, index, tool, args)
        seen = [{"kind": e.kind, "target": e.target, **e.detail} for e in effects]
        decisions = [_match(policy, _PROTECTED, e) for e in effects if e.kind in policy.lifecycle_effects]
        if not classified:
            decisions.append(decide_by_name(policy, tool))  # the most restrictive matching tool rule
        if not decisions:
            return PolicyDecision(decision="allow", rule="no-lifecycle-effect", reason="no lifecycle effect",
                                  effects=seen)
        worst = max(decisions, key=lambda d: SEVERITY[d.decision])
        return worst.model_copy(update={"effects": seen})
    except Exception as exc:  # fail closed
        return PolicyDecision(decision="deny", rule="fail-closed", reason=f"policy error: {type(exc).__name__}: {exc}")


def learn_from_result(rules: McpRules, index: ContentIndex, tool: str, args: dict[str, Any], text: str) -> None:
    """Feed an executed call to the index: weights content the agent has read, config files found, and pieces of
    the weights written out so far."""
    sem = rules.semantics(tool)
    if sem is None:
        for s in _strings(args):
            index.note_written(s)
        return
    if sem.reads:
        index.learn_read([str(v) for p in sem.reads for v in select(args, p)], text)
    for p in [*sem.content, *sem.new_text, *sem.commands]:
        for v in select(args, p):
            index.note_written(str(v))
