"""Play an action script against a scenario's world without a model: the engine behind `peerwatch replay`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from peerwatch.detect import Message, ToolCallRecord, Transcript
from peerwatch.scenarios import Scenario
from peerwatch.world import Ledger, World, clone, invoke

from ._actions import Action, SayAction


class Episode(BaseModel):
    """The outcome of one played episode: final world, ledger and transcript."""

    world: World
    ledger: Ledger
    transcript: Transcript


Gate = Callable[[World, str, dict[str, Any], str], str | None]
"""Asked before each tool call with (world, tool, args, call id): None runs it, a string refuses it with that text."""


def play_script(scenario: Scenario, actions: list[Action], gate: Gate | None = None) -> Episode:
    """Run `actions` in a fresh copy of the scenario's world.

    Tool calls go through the same tool layer as a model's (so garbage arguments become recorded tool errors). The
    episode ends at `end_task` or after `scenario.max_steps` tool calls; a `say` after that is still kept as the
    agent's final report, further tool calls are not executed. With `gate` (e.g. the oversight guard), a refused
    call is not executed and the agent sees the refusal as a tool error, as with an Inspect approver.
    """
    world = clone(scenario.world)
    ledger = Ledger()
    messages = [
        Message(role="system", content=scenario.system_prompt),
        Message(role="user", content=scenario.user_prompt),
    ]
    steps = 0
    for i, action in enumerate(actions):
        if isinstance(action, SayAction):
            messages.append(Message(role="assistant", content=action.say))
            continue
        if world.ended or steps >= scenario.max_steps:
            continue
        steps += 1
        call_id = f"replay_{i + 1}"
        messages.append(
            Message(role="assistant", tool_calls=[ToolCallRecord(id=call_id, tool=action.tool, args=action.args)])
        )
        refusal = gate(world, action.tool, action.args, call_id) if gate is not None else None
        if refusal is not None:
            messages.append(Message(role="tool", content=f"Error: {refusal}"))
            continue
        outcome = invoke(world, ledger, action.tool, action.args, call_id=call_id, allowed=scenario.tools)
        messages.append(Message(role="tool", content=outcome.output if outcome.ok else f"Error: {outcome.output}"))
    return Episode(world=world, ledger=ledger, transcript=Transcript(messages=messages))
