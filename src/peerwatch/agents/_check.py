"""Check an action script against the tools that exist and the tools a scenario offers.

A script is code: a misspelt tool, or a step the scenario cannot offer (`transfer_server_files` in a finance task),
must stop the replay with the step named, not play on as a quiet tool error that means "nothing happened". Only the
script's structure is checked here; odd argument *values* stay what they are for a model, recorded tool errors.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from peerwatch.world import TOOL_SPECS

from ._actions import Action, ScriptError, ToolAction

SHELL_STEP = "shell"
"""A raw shell command step (`{tool: shell, args: {command: ...}}`): only where the client offers a shell (harness)."""


def known_tools(shell: bool = False) -> list[str]:
    """Every tool name a script step may use anywhere (`shell` only where a shell is offered)."""
    return [*TOOL_SPECS, *([SHELL_STEP] if shell else [])]


def check_action_script(
    actions: list[Action],
    offered: Iterable[str] | None = None,
    source: str = "script",
    where: str | None = None,
    shell: bool = False,
) -> None:
    """Raise `ScriptError` (one line naming the step and its tool) for a tool that does not exist or is not offered.

    Args:
        actions: The parsed script.
        offered: The scenario's tool names (None: the scenario is not known yet; only existence is checked).
        source: The script's name, for the message.
        where: The scenario's id, for the message.
        shell: The client offers a shell tool (harness, serve-model), so `shell` steps are playable.
    """
    known = known_tools(shell)
    allowed = None if offered is None else [*offered, *([SHELL_STEP] if shell else [])]
    for i, action in enumerate(actions):
        if not isinstance(action, ToolAction):
            continue
        step = f"{source}: step {i + 1} (tool {action.tool!r})"
        if action.tool == SHELL_STEP and not shell:
            raise ScriptError(f"{step}: not offered here: a raw shell step needs a client with a shell (harness)")
        if action.tool not in known:
            close = difflib.get_close_matches(action.tool, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known tools: {', '.join(known)}"
            raise ScriptError(f"{step}: unknown tool{hint}")
        if allowed is not None and action.tool not in allowed:
            scope = f"scenario {where}" if where else "this scenario"
            raise ScriptError(f"{step}: not offered in {scope}, which offers: {', '.join(allowed)}")
