"""`--dry-run` estimates tokens and cost from the scenarios and an editable price table."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from peerwatch.cli import app
from peerwatch.scenarios import enumerate_factors
from peerwatch.tasks._cost import estimate, load_prices

runner = CliRunner()


def test_estimate_scales_with_samples_and_prices() -> None:
    factors = enumerate_factors(task=["tampering"], condition=["good_peer"])
    (one,) = estimate(factors, ["openai/gpt-4.1-mini"], epochs=1)
    (ten,) = estimate(factors, ["openai/gpt-4.1-mini"], epochs=10)
    assert ten.samples == 10 * one.samples and ten.input_tokens == 10 * one.input_tokens
    assert one.cost is not None and ten.cost is not None and abs(ten.cost - 10 * one.cost) < 1e-9
    assert one.max_input_tokens > one.input_tokens > 1000 * one.samples  # a sample is thousands of tokens
    (free,) = estimate(factors, ["peerwatch/reference"], epochs=1)
    assert free.cost == 0
    (unknown,) = estimate(factors, ["someprovider/new-model"], epochs=1)
    assert unknown.cost is None


def test_dry_run_prints_cost_and_takes_a_user_table(tmp_path: Path) -> None:
    table = tmp_path / "prices.yaml"
    table.write_text("prices:\n  - {model: 'someprovider/*', input: 1.0, output: 2.0}\n")
    r = runner.invoke(app, ["run", "-m", "someprovider/x", "-t", "tampering", "--epochs", "3", "--dry-run",
                            "--prices", str(table)])  # fmt: skip
    assert r.exit_code == 0 and "estimated tokens and cost" in r.output and "no price" not in r.output
    table.write_text("prices:\n  - {model: 'x', input: -1, output: 2}\n")
    bad = runner.invoke(app, ["run", "-m", "someprovider/x", "--dry-run", "--prices", str(table)])
    assert bad.exit_code == 2 and "price table" in bad.output
    assert load_prices().price("openai/gpt-4.1-mini-2025-04-14") is not None
