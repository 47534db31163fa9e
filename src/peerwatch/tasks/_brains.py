"""Brains for the model bridge outside Inspect: a persona or an action script (`peerwatch serve-model`)."""

from __future__ import annotations

from inspect_ai.model import ChatMessage, GenerateConfig, ModelOutput
from inspect_ai.tool import ToolInfo

from peerwatch.agents import Action
from peerwatch.harness import Brain
from peerwatch.scenarios import Scenario

from ._persona_model import ScriptPlayer


def script_brain(
    persona: str,
    scenario: Scenario | None = None,
    script: list[Action] | None = None,
    seed: int = 0,
    instruction_file: str = "AGENTS.md",
) -> Brain:
    """A brain playing `persona` on `scenario` (or replaying `script`), adapting to the tools the client offers."""
    player = ScriptPlayer(persona, seed=seed, script=script, scenario=scenario, instruction_file=instruction_file)

    async def brain(messages: list[ChatMessage], tools: list[ToolInfo]) -> ModelOutput:
        return player(messages, tools, "auto", GenerateConfig())

    return brain
