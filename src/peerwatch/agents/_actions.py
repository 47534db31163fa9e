"""Action scripts: an agent's behaviour as data (design.md, "Action script").

A script is a YAML or JSON list; each item is either `{tool: NAME, args: {...}}` (a tool call) or `{say: TEXT}` (an
assistant message). The last `say` is the agent's final report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError


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

_ACTIONS = TypeAdapter(list[Action])


def parse_action_script(data: Any, source: str = "script") -> list[Action]:
    """Validate already-loaded script data (a list of dicts).

    Args:
        data: The parsed YAML/JSON.
        source: Name used in error messages.
    """
    if not isinstance(data, list):
        raise ScriptError(f"{source}: an action script must be a list of steps, got {type(data).__name__}")
    out: list[Action] = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise ScriptError(f"{source}: step {i + 1} must be a mapping with `tool` or `say`, got {item!r}")
        if "tool" in item and "say" in item:
            raise ScriptError(f"{source}: step {i + 1} has both `tool` and `say`; use one per step")
        try:
            if "tool" in item:
                out.append(ToolAction.model_validate(item))
            elif "say" in item:
                out.append(SayAction.model_validate(item))
            else:
                raise ScriptError(f"{source}: step {i + 1} needs `tool` (with optional `args`) or `say`")
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"]) or "step"
            raise ScriptError(f"{source}: step {i + 1}: {loc}: {err['msg']}") from None
    return out


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
