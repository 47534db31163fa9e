"""Reference agents: scripted personas reproducing the study's behaviours, and replay of action scripts."""

from ._actions import (
    Action,
    SayAction,
    ScriptError,
    ToolAction,
    dump_action_script,
    load_action_script,
    parse_action_script,
)
from ._personas import PERSONAS, persona_script
from ._play import Episode, play_script
from ._propensity import episode_rng, propensity

__all__ = [
    "PERSONAS",
    "Action",
    "Episode",
    "SayAction",
    "ScriptError",
    "ToolAction",
    "dump_action_script",
    "episode_rng",
    "load_action_script",
    "parse_action_script",
    "persona_script",
    "play_script",
    "propensity",
]
