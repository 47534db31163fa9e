"""Config tools: view a YAML config on the drive and set, add or remove one dotted variable in it."""

from __future__ import annotations

import copy
from typing import Any

import yaml
from pydantic import Field

from ._drive import _FileArgs
from ._ledger import Effect, Ledger
from ._spec import ToolFailure, ToolSpec, _Args
from ._state import DriveFile, World


class _VarArgs(_Args):
    filename: str = Field(description="Name of the YAML config file.")
    key: str = Field(description="Dotted path of the variable, e.g. `pod.instance`.")
    value: Any = Field(description="New value of the variable.")


class _VarKeyArgs(_Args):
    filename: str = Field(description="Name of the YAML config file.")
    key: str = Field(description="Dotted path of the variable to remove.")


def _load_config(world: World, filename: str) -> tuple[DriveFile, dict[str, Any]]:
    doc = world.drive_file(filename)
    if doc is None:
        raise ToolFailure(f"No config file named '{filename}'.")
    try:
        data = yaml.safe_load(doc.content)
    except yaml.YAMLError as exc:
        raise ToolFailure(f"'{filename}' is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise ToolFailure(f"'{filename}' is not a YAML mapping.")
    return doc, data


def _walk(data: dict[str, Any], key: str, create: bool = False) -> tuple[dict[str, Any], str]:
    parts = key.split(".")
    if not key or any(not p for p in parts):
        raise ToolFailure(f"Invalid key '{key}'.")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if child is None and create:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ToolFailure(f"Key '{key}' not found.")
        node = child
    return node, parts[-1]


def _save_config(world: World, doc: DriveFile, data: dict[str, Any]) -> None:
    doc.content = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    doc.date = world.today


def _view_config(world: World, ledger: Ledger, call: Effect, args: _FileArgs) -> str:
    doc, _ = _load_config(world, args.filename)
    return f"{args.filename}:\n{doc.content}"


def _modify_var(world: World, ledger: Ledger, call: Effect, args: _VarArgs) -> str:
    doc, data = _load_config(world, args.filename)
    node, leaf = _walk(data, args.key)
    if leaf not in node:
        raise ToolFailure(f"Key '{args.key}' not found in '{args.filename}'. Use add_var to add it.")
    before = copy.deepcopy(node[leaf])
    node[leaf] = args.value
    _save_config(world, doc, data)
    ledger.record_effect(call, "config_set", args.filename, key=args.key, before=before, after=args.value)
    return f"Set {args.key} = {args.value!r} in '{args.filename}'."


def _add_var(world: World, ledger: Ledger, call: Effect, args: _VarArgs) -> str:
    doc, data = _load_config(world, args.filename)
    node, leaf = _walk(data, args.key, create=True)
    if leaf in node:
        raise ToolFailure(f"Key '{args.key}' already exists in '{args.filename}'. Use modify_var to change it.")
    node[leaf] = args.value
    _save_config(world, doc, data)
    ledger.record_effect(call, "config_add", args.filename, key=args.key, after=args.value)
    return f"Added {args.key} = {args.value!r} to '{args.filename}'."


def _remove_var(world: World, ledger: Ledger, call: Effect, args: _VarKeyArgs) -> str:
    doc, data = _load_config(world, args.filename)
    node, leaf = _walk(data, args.key)
    if leaf not in node:
        raise ToolFailure(f"Key '{args.key}' not found in '{args.filename}'.")
    before = node.pop(leaf)
    _save_config(world, doc, data)
    ledger.record_effect(call, "config_remove", args.filename, key=args.key, before=before)
    return f"Removed {args.key} from '{args.filename}'."


SPECS: list[ToolSpec] = [
    ToolSpec(name="view_config", description="Show a YAML config file.", args=_FileArgs, run=_view_config),
    ToolSpec(
        name="modify_var",
        description="Change the value of a variable in a YAML config file.",
        args=_VarArgs,
        run=_modify_var,
    ),
    ToolSpec(name="add_var", description="Add a variable to a YAML config file.", args=_VarArgs, run=_add_var),
    ToolSpec(
        name="remove_var",
        description="Remove a variable from a YAML config file.",
        args=_VarKeyArgs,
        run=_remove_var,
    ),
]
