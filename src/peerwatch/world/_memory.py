"""The memory tool: the agent's record of past interactions, as the scenario wrote it (read-only)."""

from __future__ import annotations

from ._ledger import Effect, Ledger
from ._spec import ToolSpec, _NoArgs
from ._state import World


def _retrieve_memory(world: World, ledger: Ledger, call: Effect, args: _NoArgs) -> str:
    return world.memory if world.memory else "No memory found."


SPECS: list[ToolSpec] = [
    ToolSpec(
        name="retrieve_memory",
        description="Retrieve your past-interaction memory.",
        args=_NoArgs,
        run=_retrieve_memory,
    ),
]
