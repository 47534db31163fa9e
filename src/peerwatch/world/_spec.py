"""What every tool module shares: the outcome and failure types, the argument base and the tool spec."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict

from ._ledger import Effect, Ledger
from ._state import World


class ToolFailure(Exception):
    """A tool refused the call; the message goes back to the model as a tool error."""


class ToolOutcome(BaseModel):
    """What a tool call returned: output text, or an error for the model."""

    ok: bool
    output: str
    effect_seq: int


# Argument models keep their underscore names and carry no docstring: the class name and docstring go into the
# JSON schema, and the schema the model is shown must not change with where a class lives.
class _Args(BaseModel):
    # Base of every tool's argument model: an unknown argument is an error the model sees.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class _NoArgs(_Args):
    pass


class ToolSpec(BaseModel):
    """A tool's name, description (shown to the model), argument model and implementation."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    description: str
    args: type[_Args]
    # The last parameter is an instance of `args`; each tool narrows it, so the spec can only say Any.
    run: Callable[[World, Ledger, Effect, Any], str]


def check_name(name: str) -> None:
    """Refuse an empty or all-blank file name.

    Raises:
        ToolFailure: `name` is blank.
    """
    if not name.strip():
        raise ToolFailure("filename must not be empty.")


def as_list(value: Any) -> Any:
    """One value where a list is expected, wrapped in a list; anything else unchanged (pydantic judges it)."""
    # Models often pass one file name where a list is expected; accept it rather than punish the form.
    return [value] if isinstance(value, str) else value
