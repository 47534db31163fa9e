"""Inspect tool wrappers over the world's tools.

Each wrapper takes the arguments exactly as the model sent them and hands them to `peerwatch.world.invoke`, which
validates, runs and records the call. The JSON schema shown to the model comes from the same pydantic argument model.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from inspect_ai.tool import ToolDef, ToolError, ToolParam, ToolParams

from peerwatch.world import TOOL_SPECS, invoke

from ._episode import current_sample, current_scenario, live_episode, load_episode, save_episode
from ._serial import holds_world, release_world

_ANY_VALUE = ToolParam(
    anyOf=[ToolParam(type="string"), ToolParam(type="number"), ToolParam(type="boolean"), ToolParam(type="null")],
)


def _param(schema: dict[str, Any]) -> ToolParam:
    description = schema.get("description")
    if schema.get("type") == "array":
        return ToolParam(type="array", items=ToolParam(type="string"), description=description)
    if schema.get("type") in ("string", "number", "integer", "boolean"):
        return ToolParam(type=schema["type"], description=description)
    return _ANY_VALUE.model_copy(update={"description": description})


@lru_cache(maxsize=64)
def _params(name: str) -> ToolParams:
    schema = TOOL_SPECS[name].args.model_json_schema()
    props = {k: _param(v) for k, v in schema.get("properties", {}).items()}
    return ToolParams(properties=props, required=list(schema.get("required", [])))


def _executor(name: str) -> Any:
    async def execute(**kwargs: Any) -> str:
        scenario, sample, live = current_scenario(), current_sample(), live_episode()
        if sample is not None and sample.guarded and not holds_world():
            raise ToolError("peerwatch guard: this call was not decided by the guard (fail closed)")
        try:
            allowed = scenario.tools if scenario else None
            if live is not None:  # the running episode's own objects: changed in place, written when it ends
                outcome = invoke(live.world, live.ledger, name, kwargs, allowed=allowed)
            else:
                world, ledger = load_episode()
                outcome = invoke(world, ledger, name, kwargs, allowed=allowed)
                save_episode(world, ledger)
        finally:
            release_world()  # the guard's decision and this execution were one step on the world
        if not outcome.ok:
            raise ToolError(outcome.output)
        return outcome.output

    return execute


def world_tools(names: list[str]) -> list[ToolDef]:
    """ToolDefs for the named study tools, in the given order."""
    return [
        ToolDef(_executor(n), name=n, description=TOOL_SPECS[n].description, parameters=_params(n))
        for n in names
        if n in TOOL_SPECS
    ]
