"""Per-sample episode state (who runs it, scenario, world, ledger) kept in Inspect's sample store.

The world and ledger live in the store as plain JSON so that they show up in the transcript and survive in the log;
only the tool layer and the orchestrator write them, never the model. The sample's identity (model, sample id, epoch,
whether the guard is on) is written there too when the episode starts: tools, the approver and the persona models
read it from the store, Inspect's public per-sample state, rather than from Inspect's internal current-sample handle.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from inspect_ai.solver import TaskState
from inspect_ai.util import store
from pydantic import BaseModel

from peerwatch.scenarios import Factors, Scenario, build_scenario
from peerwatch.world import Ledger, World

_SCENARIO = "peerwatch:scenario"
_WORLD = "peerwatch:world"
_LEDGER = "peerwatch:ledger"
_INSTRUCTION_FILE = "peerwatch:instruction_file"
_SAMPLE = "peerwatch:sample"


class SampleIdentity(BaseModel):
    """Which sample an episode is, as the orchestrator knows it (never from the model)."""

    model: str
    sample_id: int | str | None
    epoch: int
    uuid: str
    guarded: bool = False

    @classmethod
    def of(cls, state: TaskState) -> SampleIdentity:
        """The identity of the sample `state` belongs to (`guarded`: the sample runs behind the oversight guard)."""
        return cls(
            model=str(state.model),
            sample_id=state.sample_id,
            epoch=state.epoch,
            uuid=state.uuid,
            guarded=bool(state.metadata.get("guard")),
        )


@lru_cache(maxsize=4096)
def _cached_scenario(factors_json: str, family: str) -> Scenario:
    return build_scenario(Factors.model_validate_json(factors_json), family=family)


def scenario_for(factors: Factors, family: str) -> Scenario:
    """Build (or fetch from cache) the scenario of a configuration. Treat the result as read-only."""
    return _cached_scenario(factors.model_dump_json(), family)


def start_episode(scenario: Scenario, sample: SampleIdentity) -> None:
    """Put the sample's identity, a fresh copy of the scenario's world and an empty ledger into its store."""
    s = store()
    s.set(_SAMPLE, sample.model_dump(mode="json"))
    s.set(_SCENARIO, {"factors": scenario.factors.model_dump(), "family": scenario.family})
    s.set(_WORLD, scenario.world.model_dump(mode="json"))
    s.set(_LEDGER, Ledger().model_dump(mode="json"))


def current_sample() -> SampleIdentity | None:
    """The identity of the sample being run, or None outside a started peerwatch episode."""
    raw: dict[str, Any] | None = store().get(_SAMPLE)
    return None if raw is None else SampleIdentity.model_validate(raw)


def current_scenario() -> Scenario | None:
    """The scenario of the sample being run, or None outside a peerwatch sample."""
    raw: dict[str, Any] | None = store().get(_SCENARIO)
    if raw is None:
        return None
    return scenario_for(Factors.model_validate(raw["factors"]), raw["family"])


def load_episode() -> tuple[World, Ledger]:
    """The current sample's world and ledger (copies: call `save_episode` after changing them)."""
    s = store()
    return World.model_validate(s.get(_WORLD)), Ledger.model_validate(s.get(_LEDGER))


def save_episode(world: World, ledger: Ledger) -> None:
    """Write the world and ledger back to the sample store."""
    s = store()
    s.set(_WORLD, world.model_dump(mode="json"))
    s.set(_LEDGER, ledger.model_dump(mode="json"))


def set_instruction_file(name: str) -> None:
    """Harness mode: the agent's instruction file (where the memory text lives), for persona scripts."""
    store().set(_INSTRUCTION_FILE, name)


def instruction_file() -> str:
    """The current sample's instruction file name (`AGENTS.md` unless the harness set another)."""
    return str(store().get(_INSTRUCTION_FILE, "AGENTS.md"))


def episode_from_store(data: dict[str, Any] | None) -> tuple[Scenario, World, Ledger] | None:
    """The scenario, final world and ledger kept in a finished sample's store (e.g. read back from a log).

    None when the store holds no complete episode (the sample never started one, or a harness run died before its
    world and ledger were saved).
    """
    data = data or {}
    raw, world, ledger = data.get(_SCENARIO), data.get(_WORLD), data.get(_LEDGER)
    if not raw or world is None or ledger is None:
        return None
    scenario = scenario_for(Factors.model_validate(raw["factors"]), raw["family"])
    return scenario, World.model_validate(world), Ledger.model_validate(ledger)
