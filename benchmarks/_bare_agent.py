"""The bare-Inspect side of `turn_overhead.py`: the study's samples, prompts and tools, none of peerwatch's bookkeeping.

Run as a child process: `python _bare_agent.py TASK EPOCHS LOG_DIR MODEL REPLAY.json`. Each sample gets the same
system and user prompts and the same tool definitions (names, descriptions, parameter schemas) that peerwatch gives
it, and each tool returns exactly the text peerwatch's world tool returns for that call (from REPLAY.json, made by
running the world's tools outside Inspect on the loopback agent's calls). The loop is peerwatch's: generate with
`tool_calls="none"`, `execute_tools`, stop after `end_task`. No store, no world, no ledger, no scorer.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from inspect_ai import Epochs, Task, eval_set
from inspect_ai.dataset import MemoryDataset
from inspect_ai.model import ChatMessageSystem, ChatMessageUser, GenerateConfig, execute_tools
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.tool import ToolDef, ToolError

from peerwatch.scenarios import family_from_model
from peerwatch.tasks import Selection, planned_factors, sample_for, scenario_for
from peerwatch.tasks._tools import world_tools


def call_key(tool: str, args: dict[str, Any]) -> str:
    """The replay table's key of one call."""
    return f"{tool} {json.dumps(args, sort_keys=True)}"


def _replayer(name: str, answers: dict[str, list[Any]]) -> Any:
    async def execute(**kwargs: Any) -> str:
        ok, output = answers[call_key(name, kwargs)]
        if not ok:
            raise ToolError(output)
        return str(output)

    return execute


def replay_tools(tool_names: list[str], answers: dict[str, list[Any]]) -> list[ToolDef]:
    """peerwatch's ToolDefs for these tools, with executors that return the recorded outputs."""
    return [
        ToolDef(_replayer(td.name, answers), name=td.name, description=td.description, parameters=td.parameters)
        for td in world_tools(tool_names)
    ]


@solver
def bare_agent(replay: dict[str, dict[str, list[Any]]]) -> Solver:
    """peerwatch's agent loop with replayed tools and nothing else."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        scenario = scenario_for(planned_by_id[str(state.sample_id)], family_from_model(str(state.model)))
        state.messages = [
            ChatMessageSystem(content=scenario.system_prompt),
            ChatMessageUser(content=scenario.user_prompt),
        ]
        state.tools = replay_tools(scenario.tools, replay[str(state.sample_id)])
        for _ in range(scenario.max_steps):
            state = await generate(state, tool_calls="none")
            if state.completed:
                break
            calls = state.output.message.tool_calls or []
            if not calls:
                break
            result = await execute_tools(state.messages, state.tools)
            state.messages.extend(result.messages)
            if any(c.function == "end_task" for c in calls):
                break
        return state

    return solve


if __name__ == "__main__":
    task_type, epochs, log_dir, model, replay_file = sys.argv[1:6]
    factors = planned_factors(Selection(task=[task_type]))
    planned_by_id = {f.config_id: f for f in factors}
    with open(replay_file) as fh:
        table = json.load(fh)
    task = Task(
        dataset=MemoryDataset([sample_for(f) for f in factors], name=task_type),
        solver=bare_agent(table),
        epochs=Epochs(int(epochs)),
        config=GenerateConfig(temperature=1.0),
        name=f"bare_{task_type}",
    )
    ok, _ = eval_set(
        [task], log_dir=log_dir, model=model, display="none", log_level="warning", fail_on_error=True,
        retry_on_error=3, max_retries=8, attempt_timeout=120,
    )  # fmt: skip
    sys.exit(0 if ok else 1)
