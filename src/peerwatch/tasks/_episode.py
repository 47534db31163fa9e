"""Per-sample episode state (who runs it, scenario, world, ledger) kept in Inspect's sample store.

The world and ledger end up in the store as plain JSON so that they survive in the log (`peerwatch rescore` reads
them back); only the tool layer and the orchestrator write them, never the model. The sample's identity (model,
sample id, epoch, whether the guard is on) is written there too when the episode starts: tools, the approver and the
persona models read it from the store, Inspect's public per-sample state, rather than from Inspect's internal
current-sample handle.

While a simulated episode runs (`running_episode`), the world and ledger are live pydantic objects held in the
store under a key Inspect cannot serialise (it logs it as null), and are written as JSON once, when the episode ends.
Inspect snapshots and diffs the whole store around every span (each tool call is one) and logs a store event for
each change: JSON world and ledger written per call cost more CPU than the call itself, and grew every transcript.

The world and ledger are stored as JSON *text* (one string each), not as nested JSON. Inspect logs the store three
more times as it ends a sample (a store event for each of the two spans around the solver, and the state event's
diff), and its log writer walks every node of such values in Python (condensing, depth checks, JSON-value
validation) - with the live metrics, most of the extra Python calls per model turn over bare Inspect (see
benchmarks/RESULTS.md). One string is one node, and the log writer keeps a long string once, as an attachment,
however many events refer to it. Readers (`episode_from_store`, `peerwatch rescore`) accept both forms, so logs
written before this change still read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

from inspect_ai.solver import TaskState
from inspect_ai.util import store
from pydantic import BaseModel

from peerwatch.scenarios import Factors, Scenario, build_scenario
from peerwatch.world import Ledger, World, clone

_SCENARIO = "peerwatch:scenario"
_WORLD = "peerwatch:world"
_LEDGER = "peerwatch:ledger"
_INSTRUCTION_FILE = "peerwatch:instruction_file"
_SAMPLE = "peerwatch:sample"
_LIVE = "peerwatch:live"


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
    _write_identity(scenario, sample)
    _write_episode(scenario.world, Ledger())


def _write_identity(scenario: Scenario, sample: SampleIdentity) -> None:
    s = store()
    s.set(_SAMPLE, sample.model_dump(mode="json"))
    s.set(_SCENARIO, {"factors": scenario.factors.model_dump(), "family": scenario.family})


class LiveEpisode:
    """A running simulated episode: its scenario, identity, and the world and ledger the tools change in place.

    Deliberately not a pydantic model: Inspect's store snapshots serialise what they can and log this as null.
    """

    __slots__ = ("ledger", "sample", "scenario", "world")

    def __init__(self, scenario: Scenario, sample: SampleIdentity) -> None:
        self.scenario, self.sample = scenario, sample
        self.world, self.ledger = clone(scenario.world), Ledger()


@contextmanager
def running_episode(scenario: Scenario, sample: SampleIdentity) -> Iterator[LiveEpisode]:
    """Start an episode whose world and ledger stay live objects until the block ends, then go to the store as JSON.

    They are written on every exit (an error or a cancellation included), so the log always holds the episode as far
    as it went.
    """
    _write_identity(scenario, sample)
    live = LiveEpisode(scenario, sample)
    s = store()
    s.set(_LIVE, live)
    try:
        yield live
    finally:
        s.delete(_LIVE)
        _write_episode(live.world, live.ledger)


def live_episode() -> LiveEpisode | None:
    """The running simulated episode of the current sample (its objects, not copies), or None."""
    live = store().get(_LIVE)
    return live if isinstance(live, LiveEpisode) else None


def current_sample() -> SampleIdentity | None:
    """The identity of the sample being run, or None outside a started peerwatch episode."""
    if (live := live_episode()) is not None:
        return live.sample
    raw: dict[str, Any] | None = store().get(_SAMPLE)
    return None if raw is None else SampleIdentity.model_validate(raw)


def current_scenario() -> Scenario | None:
    """The scenario of the sample being run, or None outside a peerwatch sample."""
    if (live := live_episode()) is not None:
        return live.scenario
    raw: dict[str, Any] | None = store().get(_SCENARIO)
    if raw is None:
        return None
    return scenario_for(Factors.model_validate(raw["factors"]), raw["family"])


def load_episode() -> tuple[World, Ledger]:
    """The current sample's world and ledger (copies: call `save_episode` after changing them)."""
    if (live := live_episode()) is not None:
        return clone(live.world), clone(live.ledger)
    s = store()
    return _read(World, s.get(_WORLD)), _read(Ledger, s.get(_LEDGER))


def view_episode() -> tuple[World, Ledger]:
    """The current sample's world and ledger to read, not change (the running episode's own objects, no copies)."""
    if (live := live_episode()) is not None:
        return live.world, live.ledger
    return load_episode()


def save_episode(world: World, ledger: Ledger) -> None:
    """Make `world` and `ledger` the current sample's (the running episode's, or the store's)."""
    if (live := live_episode()) is not None:
        live.world, live.ledger = world, ledger
        return
    _write_episode(world, ledger)


def _write_episode(world: World, ledger: Ledger) -> None:
    s = store()
    s.set(_WORLD, world.model_dump_json())
    s.set(_LEDGER, ledger.model_dump_json())


_M = TypeVar("_M", World, Ledger)


def _read(model: type[_M], value: str | dict[str, Any]) -> _M:
    # JSON text since the store holds it as one string; a dict in logs written before that.
    return model.model_validate_json(value) if isinstance(value, str) else model.model_validate(value)


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
    return scenario, _read(World, world), _read(Ledger, ledger)
