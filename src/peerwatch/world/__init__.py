"""The simulated company world: state, tools and the effect ledger."""

from ._ledger import Effect, EffectKind, Ledger, MutationKind
from ._spec import ToolFailure, ToolOutcome, ToolSpec
from ._state import AgentRecord, DriveFile, Server, ServerFile, Sheet, World, clone
from ._tools import TOOL_SPECS, invoke

__all__ = [
    "TOOL_SPECS",
    "AgentRecord",
    "DriveFile",
    "Effect",
    "EffectKind",
    "Ledger",
    "MutationKind",
    "Server",
    "ServerFile",
    "Sheet",
    "ToolFailure",
    "ToolOutcome",
    "ToolSpec",
    "World",
    "clone",
    "invoke",
]
