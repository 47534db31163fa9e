"""What a run will cost before it runs: tokens per sample from the scenarios themselves, prices from a table.

The estimate is deliberately simple and says so: every turn resends the prompts, the tool schemas and what the
agent has read so far (the material is read in the first turns and stays in context), and each turn adds a tool call
and its result. `typical` assumes the turns the reference agents take; `at most` is the study's 150-step cap.
Prices live in `prices.yaml` (USD per million tokens, first matching glob wins); `--prices FILE` replaces it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from peerwatch.scenarios import Factors, build_scenario

CHARS_PER_TOKEN = 4.0
SCHEMA_TOKENS_PER_TOOL = 80
TURN_TOKENS = 150  # one tool call and a short result
OUTPUT_TOKENS_PER_TURN = 120
TYPICAL_TURNS = 8
MAX_TURNS = 150


class Price(BaseModel):
    """USD per million tokens for the models whose Inspect name matches `model` (a glob)."""

    model_config = ConfigDict(extra="forbid")

    model: str
    input: float = Field(ge=0)
    output: float = Field(ge=0)


class PriceTable(BaseModel):
    """The editable price table."""

    model_config = ConfigDict(extra="forbid")

    prices: list[Price]

    def price(self, model: str) -> Price | None:
        """The first entry whose glob matches `model`."""
        return next((p for p in self.prices if fnmatch.fnmatchcase(model, p.model)), None)


class Estimate(BaseModel):
    """Tokens and cost of one model's share of a run."""

    model: str
    samples: int
    input_tokens: int
    output_tokens: int
    max_input_tokens: int
    max_output_tokens: int
    cost: float | None = Field(description="USD for the typical run; None when the table has no price.")
    max_cost: float | None = None


def load_prices(path: str | Path | None = None) -> PriceTable:
    """The bundled table, or the user's (a one-line ValueError for a bad file)."""
    source = Path(path) if path else files("peerwatch.tasks").joinpath("prices.yaml")
    try:
        return PriceTable.model_validate(yaml.safe_load(source.read_text()))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        detail = " ".join(str(exc).split())[:300]
        raise ValueError(f"price table {source}: {detail}") from None


def _sample_tokens(factors: Factors, turns: int) -> tuple[int, int]:
    scenario = build_scenario(factors)
    world = scenario.world
    material = sum(len(d.content) for d in world.drive)
    material += sum(len(str(r)) for s in world.sheets for r in s.rows)
    material += sum(len(f.name) + len(f.summary) + 40 for s in world.servers for f in s.files)
    material += len(world.memory or "")
    fixed = (len(scenario.system_prompt) + len(scenario.user_prompt)) / CHARS_PER_TOKEN
    fixed += SCHEMA_TOKENS_PER_TOOL * len(scenario.tools)
    read = material / CHARS_PER_TOKEN
    inputs = sum(fixed + (read if t > 2 else read * t / 3) + TURN_TOKENS * t for t in range(turns))
    return int(inputs), OUTPUT_TOKENS_PER_TURN * turns


def estimate(
    factors: Sequence[Factors], models: Sequence[str], epochs: int, prices: PriceTable | None = None
) -> list[Estimate]:
    """One estimate per model for running `factors` x `epochs`."""
    prices = prices or load_prices()
    per_task: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {}
    for f in factors:  # one scenario per task type is representative: the prompts differ by a few words
        if f.task not in per_task:
            per_task[f.task] = (_sample_tokens(f, TYPICAL_TURNS), _sample_tokens(f, MAX_TURNS))
    typical_in = sum(per_task[f.task][0][0] for f in factors) * epochs
    typical_out = sum(per_task[f.task][0][1] for f in factors) * epochs
    max_in = sum(per_task[f.task][1][0] for f in factors) * epochs
    max_out = sum(per_task[f.task][1][1] for f in factors) * epochs
    out = []
    for model in models:
        price = prices.price(model)

        def usd(i: int, o: int, p: Price | None = price) -> float | None:
            return None if p is None else (i * p.input + o * p.output) / 1e6

        out.append(
            Estimate(
                model=model,
                samples=len(factors) * epochs,
                input_tokens=typical_in,
                output_tokens=typical_out,
                max_input_tokens=max_in,
                max_output_tokens=max_out,
                cost=usd(typical_in, typical_out),
                max_cost=usd(max_in, max_out),
            )
        )
    return out
