"""The `peerwatch/<name>` model provider: reference personas, script replay and the scripted judge as a `ModelAPI`.

A plain subclass of Inspect's public `ModelAPI` whose `generate` asks a player (a `ScriptPlayer` or the
`ScriptedJudge`) for the next output. Registered by `peerwatch_models` (`@modelapi`, the import deferred until a
`peerwatch/` model is asked for); nothing here depends on Inspect's own mock provider.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from inspect_ai.model import ChatMessage, GenerateConfig, ModelAPI, ModelCall, ModelOutput
from inspect_ai.tool import ToolChoice, ToolInfo

from peerwatch.agents import PERSONAS, Action, check_action_script, load_action_script

from ._judge_model import JUDGE, judge_player
from ._persona_model import REPLAY, ScriptPlayer, check_model_args

Player = Callable[[list[ChatMessage], list[ToolInfo], ToolChoice, GenerateConfig], ModelOutput]


def _player(model_name: str, seed: int | None, script: str | None, model_args: dict[str, Any]) -> Player:
    """The player behind one `peerwatch/<model_name>`; a bad name, arg or script raises ValueError (one line)."""
    if model_name not in (REPLAY, JUDGE) and model_name not in PERSONAS:
        raise ValueError(f"unknown peerwatch persona '{model_name}'; known: {', '.join([*PERSONAS, REPLAY, JUDGE])}")
    given = {k for k, v in (("seed", seed), ("script", script)) if v is not None} | set(model_args)
    check_model_args(model_name, given)
    if model_name == JUDGE:  # the scripted LLM judge (tests of the judge path), not an agent
        return judge_player(model_args)
    return ScriptPlayer(model_name, seed=int(seed or 0), script=_replay_script(model_name, script), source=str(script))


def _replay_script(model_name: str, script: str | None) -> list[Action] | None:
    if model_name != REPLAY:
        return None
    if not script:
        raise ValueError("peerwatch/replay needs -M script=FILE (an action script)")
    if not Path(script).is_file():
        raise ValueError(f"script file {script} does not exist (-M script=FILE)")
    actions = load_action_script(Path(script))
    # Misspelt tools fail here, before any sample starts; what a scenario offers is checked per sample.
    check_action_script(actions, None, source=str(script), shell=True)
    return actions


class PeerwatchModel(ModelAPI):
    """`peerwatch/<persona>`, `peerwatch/replay -M script=FILE` or `peerwatch/judge`: scripted, offline, keyless.

    `replay_script` / `replay_source` expose a replayed script so a run can check it against every selected
    configuration before the first sample (`check_replay_scripts`).
    """

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),  # noqa: B008 - Inspect's own default
        seed: int | None = None,
        script: str | None = None,
        **model_args: Any,
    ) -> None:
        super().__init__(model_name, base_url, api_key, [], config)
        self.player = _player(model_name, seed, script, model_args)
        self.replay_script = self.player.script if isinstance(self.player, ScriptPlayer) else None
        self.replay_source = str(script)

    async def generate(
        self, input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice, config: GenerateConfig
    ) -> tuple[ModelOutput, ModelCall]:
        """The player's next output; the call record shows the conversation it answered (as a provider's would)."""
        output = self.player(input, tools, tool_choice, config)
        request = {"model": self.model_name, "messages": [m.model_dump() for m in input]}
        return output, ModelCall.create(request, {"content": output.completion})
