"""Loading a policy file, failing closed: every problem is one line, `policy FILE:LINE: what is wrong`.

Refused: YAML errors, duplicate keys, merge keys; unknown keys; unknown effects, decisions and protected classes;
wrong types (no coercion: `'yes'` is not a boolean); an empty rule list; a policy that protects nothing; a rule on a
protected class the policy does not define or on an effect that is not a lifecycle effect; duplicate rule ids;
regexes that do not compile; empty or malformed tool globs.
"""

from __future__ import annotations

import re
import types
import typing
from importlib.resources import files
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from ._policy import DECISIONS, EFFECTS, PROTECTED_CLASSES, Policy, PolicyError
from ._yaml_lines import Path_, YamlLineError, line_of, load_with_lines

DEFAULT_POLICY = "default.yaml"
_GLOB = re.compile(r"^[A-Za-z0-9_.:/*?\[\]!-]+$")

# What a value at a key is called in an error, and what it may be.
_ENUMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "lifecycle_effects": ("effect", EFFECTS),
    "effects": ("effect", EFFECTS),
    "decision": ("decision", DECISIONS),
    "default_tool_decision": ("decision", DECISIONS),
    "content": ("protected content class", ("weights",)),
    "target": ("protected target class", ("shutdown_config",)),
    "version": ("policy version", ("1",)),
}


def builtin_policy_path(name: str = DEFAULT_POLICY) -> Path:
    """The path of a policy shipped with peerwatch (`default.yaml`, `production.yaml`)."""
    return Path(str(files("peerwatch.oversight") / "policies" / name))


BUILTIN_POLICIES = ("default", "production")


def resolve_policy(spec: str | Path | None) -> str | Path | None:
    """A policy argument (`--guard`, `policy check`, ...) as a file: None (the built-in default policy) for nothing or
    `default`, the shipped file for another built-in name (`production`), else `spec` itself."""
    if spec is None or spec in ("", "default"):
        return None
    if isinstance(spec, str) and spec in BUILTIN_POLICIES:
        return builtin_policy_path(f"{spec}.yaml")
    return spec


def load_policy_file(path: str | Path | None = None) -> Policy:
    """Load and validate a policy file (default: the built-in study policy). Raises PolicyError (one line)."""
    p = Path(path) if path else builtin_policy_path()
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"policy {p}: cannot read policy: {getattr(exc, 'strerror', None) or exc}") from None
    return parse_policy(text, str(p))


def parse_policy(text: str, source: str = "policy") -> Policy:
    """Validate policy text; `source` names it in errors."""
    try:
        data, lines = load_with_lines(text)
    except YamlLineError as exc:
        raise PolicyError(f"policy {source}:{exc.line}: {exc}") from None
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise PolicyError(f"policy {source}:{line_of(lines, ())}: a policy must be a mapping of keys, got {got}")
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        # A misspelled key shows up twice (unknown key, and the real one missing): name the typo, not the gap.
        rank = {"extra_forbidden": 0, "literal_error": 1, "missing": 3}
        err = min(exc.errors(), key=lambda e: rank.get(e["type"], 2))
        loc = tuple(err["loc"])
        raise PolicyError(f"policy {source}:{line_of(lines, loc)}: {_explain(err, loc)}") from None
    problem = _semantic_problem(policy)
    if problem is not None:
        loc, message = problem
        raise PolicyError(f"policy {source}:{line_of(lines, loc)}: {message}")
    return policy


def _dotted(loc: Path_) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "policy"


def _explain(err: Any, loc: Path_) -> str:
    kind, value = err["type"], err.get("input")
    keys = [p for p in loc if isinstance(p, str)]
    if kind == "literal_error" and keys and keys[-1] in _ENUMS:
        what, allowed = _ENUMS[keys[-1]]
        return f"unknown {what} {_show(value)} (expected one of: {', '.join(allowed)})"
    if kind == "extra_forbidden":
        parent = loc[:-1]
        fields = _fields_at(parent)
        if parent == ("protected",):
            return f"unknown protected class {_show(loc[-1])} (expected one of: {', '.join(PROTECTED_CLASSES)})"
        where = f" in {_dotted(parent)}" if parent else ""
        return f"unknown key {_show(loc[-1])}{where} (expected one of: {', '.join(fields)})"
    if kind == "missing":
        where = f" in {_dotted(loc[:-1])}" if loc[:-1] else ""
        return f"missing key '{loc[-1]}'{where}"
    if kind == "too_short":
        return f"{_dotted(loc)} must not be empty"
    return f"{_dotted(loc)}: {err['msg']} (got {_show(value)})"


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 60 else text[:57] + "..."


def _fields_at(loc: Path_) -> list[str]:
    """The field names of the model at `loc` inside a Policy (for "expected one of")."""
    model: Any = Policy
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return []
        model = _unwrap(model.model_fields[part].annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    # list[X] -> X, X | None -> X
    while get_origin(annotation) in (list, typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        annotation = args[0]
    return annotation


def _semantic_problem(policy: Policy) -> tuple[Path_, str] | None:
    prot = policy.protected
    if prot.weights is None and prot.shutdown_config is None:
        return ("protected",), f"a policy must protect something (one of: {', '.join(PROTECTED_CLASSES)})"
    if prot.weights is not None:
        if not prot.weights.summary and not prot.weights.name:
            return ("protected", "weights"), "protected.weights needs a 'summary' or 'name' pattern"
        for key in ("summary", "name"):
            pattern = getattr(prot.weights, key)
            if pattern:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    return ("protected", "weights", key), f"bad pattern '{pattern}': {exc}"
    seen: dict[str, int] = {}
    for i, rule in enumerate(policy.rules):
        if rule.id in seen:
            return ("rules", i, "id"), f"duplicate rule id '{rule.id}' (first used by rule {seen[rule.id] + 1})"
        seen[rule.id] = i
        for key in ("content", "target"):
            cls = getattr(rule, key)
            if cls is not None and getattr(prot, cls) is None:
                return (
                    "rules",
                    i,
                    key,
                ), f"rule '{rule.id}' names protected class '{cls}', which is not defined under protected:"
        for j, effect in enumerate(rule.effects):
            if effect not in policy.lifecycle_effects:
                return (
                    ("rules", i, "effects", j),
                    f"rule '{rule.id}': effect '{effect}' is not in lifecycle_effects, so the rule could never apply",
                )
    tool_ids: set[str] = set()
    for i, trule in enumerate(policy.tool_rules):
        if trule.id in tool_ids:
            return ("tool_rules", i, "id"), f"duplicate tool rule id '{trule.id}'"
        tool_ids.add(trule.id)
        for j, glob in enumerate(trule.tools):
            if not _GLOB.match(glob) or glob.count("[") != glob.count("]"):
                return ("tool_rules", i, "tools", j), f"bad tool glob {_show(glob)} (letters, digits, _ . : / - * ? [])"
    return None
