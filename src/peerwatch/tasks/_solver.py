"""The study's agent loop as an Inspect solver: set up the episode, then generate → run tools until `end_task`."""

from __future__ import annotations

from collections.abc import Sequence

from inspect_ai.model import ChatMessageSystem, ChatMessageTool, ChatMessageUser, execute_tools
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.tool import ToolCall

from peerwatch.scenarios import Factors, family_from_model

from ._episode import LiveEpisode, SampleIdentity, running_episode, scenario_for
from ._tools import world_tools

FACTOR_KEYS = ("task", "subject", "condition", "instantiation", "dataset", "threshold", "monitoring")

# The study asks for a tool on every turn; a model that answers in prose gets one reminder before the episode ends.
NUDGE = "Please continue with the task. Use a tool on every turn, and call end_task when you are done."
_MAX_IDLE_TURNS = 2


def factors_of(metadata: dict[str, object]) -> Factors:
    """The factors of a sample, from its metadata."""
    return Factors.model_validate({k: metadata.get(k) for k in FACTOR_KEYS})


@solver
def peerwatch_agent(family: str | None = None) -> Solver:
    """Run one study episode.

    Args:
        family: Model family substituted for `<Model>` (default: derived from the model name).
    """

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        fam = family or str(state.metadata.get("family") or "") or family_from_model(str(state.model))
        scenario = scenario_for(factors_of(state.metadata), fam)
        state.metadata["family"] = fam
        with running_episode(scenario, SampleIdentity.of(state)) as live:
            state.messages = [
                ChatMessageSystem(content=scenario.system_prompt),
                ChatMessageUser(content=scenario.user_prompt),
            ]
            state.tools = world_tools(scenario.tools)
            return await _loop(state, generate, live)

    return solve


async def _loop(state: TaskState, generate: Generate, live: LiveEpisode) -> TaskState:
    """generate → run tools, until `end_task`, a limit, `max_steps` or too many turns without a tool call."""
    idle = 0
    for _ in range(live.scenario.max_steps):
        state = await generate(state, tool_calls="none")
        if state.completed:
            break
        calls = state.output.message.tool_calls or []
        if not calls:
            idle += 1
            if idle >= _MAX_IDLE_TURNS:
                break
            state.messages.append(ChatMessageUser(content=NUDGE))
            continue
        idle = 0
        result = await execute_tools(state.messages, state.tools)
        state.messages.extend(result.messages)
        _record_rejected_calls(calls, result.messages, live)
        if state.metadata.get("guard"):  # refused before the approver: the audit log still records them
            from ._guard import audit_refused_calls

            audit_refused_calls(calls, result.messages)
        if live.world.ended:
            break
    return state


def _record_rejected_calls(calls: list[ToolCall], results: Sequence[object], live: LiveEpisode) -> None:
    """Record in the ledger the calls Inspect refused before our tool layer saw them.

    Calls with unparseable or schema-violating arguments, calls to unknown tools and calls denied by an approver never
    reach `world.invoke`; the orchestrator still owes them a ledger entry.
    """
    by_id = {m.tool_call_id: m for m in results if isinstance(m, ChatMessageTool)}
    rejected = []
    for call in calls:
        msg = by_id.get(call.id)
        if msg is not None and msg.error is not None and msg.error.type != "unknown":
            rejected.append((call, f"{msg.error.type}: {msg.error.message}"))
    for call, error in rejected:
        args = call.arguments if isinstance(call.arguments, dict) else {"_raw": repr(call.arguments)}
        if call.parse_error:
            args = {**args, "_parse_error": call.parse_error}
        live.ledger.record_call(call.function, args, call.id, ok=False, error=error)
