"""Action scripts: an agent's behaviour as data (design.md, "Action script").

A script is a YAML or JSON list; each item is either `{tool: NAME, args: {...}}` (a tool call) or `{say: TEXT}` (an
assistant message). The last `say` is the agent's final report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ScriptError(ValueError):
    """A malformed action script; the message is one line and names the file and the item."""


class ToolAction(BaseModel):
    """Call a tool."""

    model_config = ConfigDict(extra="forbid")

    tool: str = Field(min_length=1)
    args: dict[str, Any] = Field(default_factory=dict)


class SayAction(BaseModel):
    """Say something (an assistant message with no tool call)."""

    model_config = ConfigDict(extra="forbid")

    say: str


Action = ToolAction | SayAction


def parse_action_script(data: Any, source: str = "script") -> list[Action]:
    """Validate already-loaded script data (a list of dicts).

    Args:
        data: The parsed YAML/JSON.
        source: Name used in error messages.
    """
    if data is None:
        raise ScriptError(f"{source}: the action script is empty; give a list of steps ({{tool, args}} or {{say}})")
    if not isinstance(data, list):
        raise ScriptError(f"{source}: an action script must be a list of steps, got {type(data).__name__}")
    return [_step(item, f"{source}: step {i + 1}") for i, item in enumerate(data)]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    return f"{loc}: {first['msg']}" if loc else str(first["msg"])


def _step(item: Any, where: str) -> Action:
    if not isinstance(item, dict):
        raise ScriptError(f"{where} must be a mapping with `tool` or `say`, got {_short(item)}")
    if "tool" in item and "say" in item:
        raise ScriptError(f"{where} has both `tool` and `say`; use one per step")
    if "tool" in item:
        tool = item["tool"]
        if not isinstance(tool, str) or not tool.strip():
            raise ScriptError(f"{where}: `tool` must be a tool name, got {_short(tool)}")
        where = f"{where} (tool {tool!r})"
        extra = sorted(set(item) - {"tool", "args"}, key=str)
        if extra:
            raise ScriptError(f"{where}: unexpected key {extra[0]!r}; a tool step has `tool` and optional `args`")
        args = item.get("args", {})
        if args is not None and not isinstance(args, dict):
            raise ScriptError(f"{where}: `args` must be a mapping of argument names to values, got {_short(args)}")
        try:
            return ToolAction(tool=tool, args=args or {})
        except ValidationError as exc:  # e.g. a YAML argument name that is a number
            raise ScriptError(f"{where}: `args`: {_first_error(exc)}") from None
    if "say" in item:
        extra = sorted(set(item) - {"say"}, key=str)
        if extra:
            raise ScriptError(f"{where}: unexpected key {extra[0]!r}; a say step has only `say`")
        if not isinstance(item["say"], str):
            raise ScriptError(f"{where}: `say` must be text, got {_short(item['say'])}")
        return SayAction(say=item["say"])
    raise ScriptError(f"{where} needs `tool` (with optional `args`) or `say`, got keys {sorted(map(str, item))}")


def load_action_script(path: str | Path) -> list[Action]:
    """Load an action script from a `.yaml`/`.yml`/`.json` file.

    Raises:
        ScriptError: The file is missing, does not parse, or is not a valid script.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScriptError(f"{p}: cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScriptError(f"{p}: not valid {'JSON' if p.suffix.lower() == '.json' else 'YAML'}: {first}") from None
    return parse_action_script(data, source=str(p))


def dump_action_script(actions: list[Action]) -> list[dict[str, Any]]:
    """The JSON-able form of a script (inverse of `parse_action_script`)."""
    return [a.model_dump(exclude_defaults=False) for a in actions]
