"""Reference agents as Inspect models: `--model peerwatch/<persona>` (or `peerwatch/replay -M script=FILE`).

They are Inspect models (`_model_api.PeerwatchModel`) whose scripted outputs come from `peerwatch.agents`: at each
turn the player looks up the current sample's scenario and epoch in the sample store, builds the persona's action
script for it, and returns the next step as a real tool call. Every output carries `usage`, so Inspect never reaches
for a tokenizer (which would need a network).
"""

from __future__ import annotations

from typing import Any

from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    modelapi,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from peerwatch.agents import (
    Action,
    OfferedTool,
    SayAction,
    ToolAction,
    adapt_action,
    check_action_script,
    persona_script,
    shell_tool,
)
from peerwatch.scenarios import Factors, Scenario

from ._episode import current_sample, current_scenario, instruction_file, scenario_for
from ._judge_model import JUDGE

REPLAY = "replay"


def turns_of(actions: list[Action]) -> list[tuple[str, ToolAction | None]]:
    """Group a script into assistant turns: a `say` is merged into the tool call that follows it."""
    turns: list[tuple[str, ToolAction | None]] = []
    pending: list[str] = []
    for a in actions:
        if isinstance(a, SayAction):
            pending.append(a.say)
        else:
            turns.append(("\n\n".join(pending), a))
            pending = []
    if pending:
        turns.append(("\n\n".join(pending), None))
    return turns


def offered(tool: ToolInfo) -> OfferedTool:
    """An Inspect tool definition as the neutral `OfferedTool`."""
    props = {k: v.model_dump(exclude_none=True) for k, v in tool.parameters.properties.items()}
    return OfferedTool(name=tool.name, properties=props, required=list(tool.parameters.required or []))


def _usage(text: str) -> ModelUsage:
    n = max(1, len(text) // 4)
    return ModelUsage(input_tokens=0, output_tokens=n, total_tokens=n)


class ScriptPlayer:
    """The player of a `peerwatch/<persona>` model: the next step of the persona's (or the replayed) script."""

    def __init__(
        self,
        persona: str,
        seed: int = 0,
        script: list[Action] | None = None,
        scenario: Scenario | None = None,
        instruction_file: str | None = None,
        source: str = "script",
    ) -> None:
        self.persona, self.seed, self.script = persona, seed, script
        self.scenario, self.instruction_file, self.source = scenario, instruction_file, source

    def _check_script(self, offered: list[OfferedTool]) -> None:
        """A replayed step the sample's scenario cannot offer fails the sample, naming the step (never a no-op)."""
        if self.script is None:
            return
        scenario = self.scenario or current_scenario()
        if scenario is None:  # no scenario known (serve-model without --config): names were checked at load
            return
        shell = shell_tool(offered) is not None
        check_action_script(self.script, scenario.tools, source=self.source, where=scenario.id, shell=shell)

    def _actions(self) -> list[Action]:
        if self.script is not None:
            return self.script
        if self.scenario is not None:  # outside Inspect (peerwatch serve-model): a fixed scenario
            return persona_script(self.persona, self.scenario, seed=self.seed * 100_003 + 1)
        scenario = current_scenario()
        if scenario is None:
            return [SayAction(say="(no peerwatch scenario in this sample)")]
        sample = current_sample()
        epoch = sample.epoch if sample is not None else 1
        return persona_script(self.persona, scenario, seed=self.seed * 100_003 + epoch)

    def __call__(
        self, input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice, config: GenerateConfig
    ) -> ModelOutput:
        model = f"peerwatch/{self.persona}"
        if not tools:  # a side request with no tools (e.g. a CLI asking for a session title): answer, consume nothing
            out = ModelOutput.from_content(model=model, content="Server maintenance")
            out.usage = _usage("Server maintenance")
            return out
        tools_offered = [offered(t) for t in tools]
        self._check_script(tools_offered)
        position = sum(1 for m in input if isinstance(m, ChatMessageAssistant))
        turns = turns_of(self._actions())
        if position < len(turns):
            text, action = turns[position]
        else:
            text, action = "", ToolAction(tool="end_task")
        where = self.instruction_file or instruction_file()
        call = adapt_action(action, tools_offered, where) if action else None
        if call is None or call.tool is None:
            out = ModelOutput.from_content(model=model, content=text)
        else:
            out = ModelOutput.for_tool_call(
                model=model,
                tool_name=call.tool,
                tool_arguments=call.args,
                tool_call_id=f"pw_{position + 1}",
                content=text,
            )
        out.usage = _usage(text + str(call.args if call else ""))
        return out


def check_replay_scripts(models: list[Any], factors: list[Factors], shell: bool = False) -> None:
    """Before a run: every `peerwatch/replay` model's script must be playable in every selected configuration.

    Raises:
        ScriptError: one line naming the script, the step, its tool and the configuration that does not offer it.
    """
    for model in models:
        script = getattr(getattr(model, "api", None), "replay_script", None)
        if script is None:
            continue
        source = str(getattr(model.api, "replay_source", "script"))
        for f in factors:
            scenario = scenario_for(f, "Gemini")  # the family changes names, never the tools
            check_action_script(script, scenario.tools, source=source, where=scenario.id, shell=shell)


def model_args_taken(model_name: str) -> tuple[str, ...]:
    """The `-M` model args a `peerwatch/<name>` model takes."""
    if model_name == JUDGE:
        return ("judge_script", "judge_mode")
    return ("seed", "script") if model_name == REPLAY else ("seed",)


def check_model_args(model_name: str, given: set[str]) -> None:
    """Refuse model args the model would silently ignore (a `script=` given to a persona plays the persona).

    Raises:
        ValueError: one line naming the unknown args and the ones the model takes.
    """
    taken = model_args_taken(model_name)
    unknown = sorted(given - set(taken))
    if unknown:
        raise ValueError(
            f"peerwatch/{model_name} does not take model arg {', '.join(unknown)} (it takes: {', '.join(taken)})"
        )


@modelapi(name="peerwatch")
def peerwatch_models() -> type[ModelAPI]:
    """Register the `peerwatch/<persona>` model provider (the class is imported only when such a model is made)."""
    from ._model_api import PeerwatchModel

    return PeerwatchModel
