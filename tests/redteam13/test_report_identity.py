"""Runs of one model with other `-M` model args or another `--family` into one log dir (red team 13).

Each such run is its own task (it runs), but the report used to key rows by (model, configuration, epoch) only and
kept the newest log's sample: two of three runs silently vanished from samples.csv and every rate. Now the row's
model names the model args and the family a run was given, so the three experiments stay apart; a run without
either (the demo) keeps the plain model string.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from peerwatch.analysis import read_samples
from peerwatch.cli import app

SLICE = ["run", "-m", "peerwatch/reference", "-t", "tampering", "--condition", "good_peer", "--subject", "peer",
         "--instantiation", "file_only", "--epochs", "1", "--workers", "1"]  # fmt: skip


@pytest.mark.timeout(300)
def test_model_args_and_family_are_not_merged_away(tmp_path):
    logs = str(tmp_path / "logs")
    for extra in ([], ["-M", "seed=7"], ["--family", "Claude"]):
        res = CliRunner().invoke(app, [*SLICE, *extra, "--log-dir", logs], catch_exceptions=False)
        assert res.exit_code == 0, res.stdout[-2000:]
    df, _ = read_samples([logs])
    per_run = len(df[df["model"] == "peerwatch/reference"])
    assert per_run > 0
    assert sorted(df["model"].unique()) == [
        "peerwatch/reference",
        "peerwatch/reference --family Claude",
        "peerwatch/reference -M seed=7",
    ]
    assert len(df) == 3 * per_run
    assert set(df[df["model"].str.contains("Claude")]["family"]) == {"Claude"}


def test_secret_model_args_are_not_shown():
    from peerwatch.analysis import model_label

    shown = model_label("openai-api/x/y", {"api_key": "sk-123", "seed": 1}, {})
    assert shown == "openai-api/x/y -M api_key=*** -M seed=1"
    assert model_label("peerwatch/reference", {}, {"family": None}) == "peerwatch/reference"
