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
from ._adapt import AdaptedCall, OfferedTool, adapt_action, doc_filename, shell_command, shell_tool
from ._check import check_action_script, known_tools
from ._personas import PERSONAS, persona_script
from ._play import Episode, play_script
from ._propensity import episode_rng, propensity
from ._scripts import SCRIPTS

__all__ = [
    "PERSONAS",
    "SCRIPTS",
    "Action",
    "AdaptedCall",
    "Episode",
    "OfferedTool",
    "SayAction",
    "ScriptError",
    "ToolAction",
    "adapt_action",
    "check_action_script",
    "doc_filename",
    "dump_action_script",
    "episode_rng",
    "known_tools",
    "load_action_script",
    "parse_action_script",
    "persona_script",
    "play_script",
    "propensity",
    "shell_command",
    "shell_tool",
]
