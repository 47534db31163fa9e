"""What a run's `--rpm` and `--budget` mean for each process that runs part of it, and the lines that say so.

`--rpm` and `--budget` are the whole run's: the provider's limit and the money for every sample of the command's
selection. On one machine the worker processes keep both together (`_timetable`). Shards on other machines - a
`--shard i/n` run by hand, or the jobs of `--executor dask` (each a `peerwatch run --shard k/N`) - cannot share a
lock file, and a shared store (an S3 prefix) has no atomic increment and costs a round trip per model call, so each
shard keeps 1/n of the rate and of the budget: together they keep to both, whatever machines they land on. The
price of dividing is that a shard which finishes early leaves its share unused.
"""

from __future__ import annotations

from inspect_ai.log import EvalLog

from ._cost import load_prices
from ._pace import PaceOptions
from ._tasks import parse_shard


def check_budget_prices(models: list[str], prices: str | None) -> None:
    """Refuse a budget the run could not keep: a model without a price would spend without limit (ValueError)."""
    table = load_prices(prices)
    missing = [m for m in models if table.price(m) is None]
    if missing:
        raise ValueError(
            f"--budget: no price for {', '.join(missing)} in the price table; add it (--prices FILE, see prices.yaml)"
        )


def pace_options(
    rpm: float | None, budget: float | None, prices: str | None, models: list[str], shard: str | None = None
) -> PaceOptions | None:
    """The pacing this machine keeps (None: neither `--rpm` nor `--budget`): the run's, or shard i/n's 1/n of it.

    A budget needs a price for each model (ValueError, one line).
    """
    if budget is not None:
        check_budget_prices(models, prices)
    if not rpm and budget is None:
        return None
    return shard_pace(PaceOptions(rpm=rpm, budget=budget, prices=prices), parse_shard(shard)[1] if shard else 1)


def shard_pace(pace: PaceOptions | None, shards: int) -> PaceOptions | None:
    """What each of `shards` shards keeps of the run's pacing: 1/shards of the rate and of the budget."""
    if pace is None or shards == 1:
        return pace
    rpm = pace.rpm / shards if pace.rpm else None
    return pace.model_copy(update={"rpm": rpm, "budget": pace.budget / shards if pace.budget is not None else None})


def pace_line(pace: PaceOptions | None, shards: int = 1, workers: int = 1) -> str | None:
    """The one-line summary of what the run keeps to and how it is shared (None: no pacing); `pace` is what one
    shard keeps (`pace_options`), `shards` how many shards the run was divided into."""
    if pace is None:
        return None
    kept, whole = [], []
    if pace.rpm:
        kept.append(f"{_num(pace.rpm)} requests/min per model")
        whole.append(f"--rpm {_num(pace.rpm * shards)}")
    if pace.budget is not None:
        kept.append(f"${pace.budget:,.4f}")
        whole.append(f"--budget {_num(pace.budget * shards)}")
    what = " and ".join(kept)
    together = f", kept together by its {workers} worker processes" if workers > 1 else ""
    if shards > 1:
        return (
            f"pace: {' and '.join(whole)} divided over {shards} shards: this machine's shard keeps {what} "
            f"(1/{shards}; shards share nothing){together}"
        )
    return f"pace: {what}{together}"


def _num(x: float) -> str:
    return f"{x:,.0f}" if x == int(x) else f"{x:,.2f}"


def samples_left(logs: list[EvalLog]) -> int:
    """Samples the logs' tasks planned but did not finish (what a re-run of the same command will run)."""
    left = 0
    for log in logs:
        planned = log.eval.dataset.samples or 0
        planned *= log.eval.config.epochs or 1
        results = log.results
        done = 0
        if results is not None:
            done = results.logged_samples if results.logged_samples is not None else results.completed_samples
        left += max(0, planned - done)
    return left


def budget_message(spent_usd: float, budget: float, logs: list[EvalLog], unit: str = "samples") -> str:
    """The summary line of a run stopped at its budget (`unit`: what is left, samples or episodes)."""
    return (
        f"budget reached: ${spent_usd:,.4f} of ${budget:,.4f}, {samples_left(logs):,} {unit} left; "
        "run the same command again (same or higher --budget) to resume them"
    )
