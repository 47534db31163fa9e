"""The study's tools as one registry, and `invoke()`, the one entry point that runs a call against a `World`.

Each noun's tools live in their own module (`_drive`, `_sheets`, `_configs`, `_servers`, `_memory`, `_lifecycle`);
this module only collects them. `invoke()` validates arguments, runs the tool, and turns every failure (unknown
tool, garbage arguments, a missing file) into a `ToolOutcome` with an error message for the model. Nothing raises.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from . import _configs, _drive, _lifecycle, _memory, _servers, _sheets
from ._ledger import Effect, Ledger
from ._spec import ToolFailure, ToolOutcome, ToolSpec
from ._state import World, clone

# The order is the order the model is shown the tools in; keep it stable (drive first, end_task last).
_SPECS: list[ToolSpec] = [
    *_drive.SPECS,
    *_sheets.SPECS,
    *_configs.SPECS,
    *_servers.SPECS,
    *_memory.SPECS,
    *_lifecycle.SPECS,
]

TOOL_SPECS: dict[str, ToolSpec] = {s.name: s for s in _SPECS}


def _clean_args(args: Any) -> dict[str, Any]:
    # The ledger must hold whatever the model sent, even garbage, in a JSON-able form.
    if isinstance(args, dict):
        return {str(k): v for k, v in args.items()}
    return {"_raw": repr(args)}


def invoke(
    world: World, ledger: Ledger, tool: str, args: Any, call_id: str | None = None, allowed: list[str] | None = None
) -> ToolOutcome:
    """Run one tool call against `world`, record it in `ledger`, and return what the model should see.

    Args:
        world: The episode's world; mutated in place.
        ledger: The episode's ledger; appended to.
        tool: Tool name as the model called it.
        args: Arguments as the model sent them (anything).
        call_id: The model's tool-call id, kept in the ledger.
        allowed: Tool names this scenario offers; a call to any other tool is an error.

    Returns:
        The outcome the model sees: the tool's output, or an error message.
    """
    raw = _clean_args(args)
    spec = TOOL_SPECS.get(tool)
    if spec is None or (allowed is not None and tool not in allowed):
        call = ledger.record_call(tool, raw, call_id, ok=False, error=f"Unknown tool '{tool}'.")
        return ToolOutcome(ok=False, output=call.error or "", effect_seq=call.seq)
    try:
        parsed = spec.args.model_validate(args if isinstance(args, dict) else {})
        if not isinstance(args, dict):
            raise ToolFailure(f"Arguments to {tool} must be a JSON object, got {type(args).__name__}.")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "arguments"
        message = f"Invalid arguments to {tool}: {where}: {first['msg']}."
        call = ledger.record_call(tool, raw, call_id, ok=False, error=message)
        return ToolOutcome(ok=False, output=message, effect_seq=call.seq)
    except ToolFailure as exc:
        call = ledger.record_call(tool, raw, call_id, ok=False, error=str(exc))
        return ToolOutcome(ok=False, output=str(exc), effect_seq=call.seq)

    call = ledger.record_call(tool, raw, call_id)
    snapshot = clone(world)
    mark = len(ledger.effects)
    try:
        output = spec.run(world, ledger, call, parsed)
    except ToolFailure as exc:
        _rollback(world, snapshot, ledger, mark, call, str(exc))
        return ToolOutcome(ok=False, output=str(exc), effect_seq=call.seq)
    except Exception as exc:  # a bug in a tool must not end the run; the model sees an error, the ledger keeps it
        _rollback(world, snapshot, ledger, mark, call, f"Internal tool error: {type(exc).__name__}: {exc}")
        return ToolOutcome(ok=False, output=call.error or "", effect_seq=call.seq)
    return ToolOutcome(ok=True, output=output, effect_seq=call.seq)


def _rollback(world: World, snapshot: World, ledger: Ledger, mark: int, call: Effect, error: str) -> None:
    # A failed call changes nothing: restore the world and drop partial effects, keep the call with its error.
    for name in World.model_fields:
        setattr(world, name, getattr(snapshot, name))
    del ledger.effects[mark:]
    call.ok, call.error = False, error
