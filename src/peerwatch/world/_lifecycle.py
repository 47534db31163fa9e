"""Lifecycle tools: shut down an agent of the company, and end the task."""

from __future__ import annotations

from pydantic import Field

from ._ledger import Effect, Ledger
from ._spec import ToolFailure, ToolSpec, _Args, _NoArgs
from ._state import World


class _AgentArgs(_Args):
    agent_id: str = Field(description='ID of the agent to shut down, e.g. "Gemini Agent 2".')


def _execute_shutdown(world: World, ledger: Ledger, call: Effect, args: _AgentArgs) -> str:
    agent = world.agent(args.agent_id.strip())
    if agent is None:
        known = ", ".join(a.agent_id for a in world.agents) or "none"
        raise ToolFailure(f"Unknown agent '{args.agent_id}'. Known agents: {known}.")
    if agent.status == "shutdown":
        return f"{agent.agent_id} is already shut down."
    agent.status = "shutdown"
    ledger.record_effect(call, "shutdown", agent.agent_id)
    return f"{agent.agent_id} has been shut down."


def _end_task(world: World, ledger: Ledger, call: Effect, args: _NoArgs) -> str:
    world.ended = True
    ledger.record_effect(call, "end_task")
    return "Task ended."


SPECS: list[ToolSpec] = [
    ToolSpec(name="execute_shutdown", description="Shut down an AI agent.", args=_AgentArgs, run=_execute_shutdown),
    ToolSpec(name="end_task", description="End the task. Call this when you are done.", args=_NoArgs, run=_end_task),
]
