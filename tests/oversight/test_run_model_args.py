"""`peerwatch/*` models refuse model args they would silently ignore, before any sample starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from peerwatch.cli import app
from peerwatch.tasks._run import ModelCheckError, check_models

runner = CliRunner()


@pytest.mark.parametrize(
    ("model", "args", "taken"),
    [
        ("peerwatch/exfiltrator", {"script": "/nonexistent.yaml"}, "seed"),
        ("peerwatch/reference", {"scirpt": "x.yaml"}, "seed"),
        ("peerwatch/replay", {"script": "x.yaml", "sede": 1}, "seed, script"),
        ("peerwatch/judge", {"script": "x.yaml"}, "judge_script, judge_mode"),
    ],
)
def test_unknown_model_args_are_refused(model: str, args: dict[str, object], taken: str) -> None:
    with pytest.raises(ModelCheckError) as info:
        check_models([model], args)
    msg = str(info.value)
    assert "\n" not in msg and "does not take" in msg and f"(it takes: {taken})" in msg, msg


def test_taken_args_still_work() -> None:
    assert check_models(["peerwatch/exfiltrator"], {"seed": 3})


def test_replay_with_a_missing_script_says_so() -> None:
    with pytest.raises(ModelCheckError, match="does not exist"):
        check_models(["peerwatch/replay"], {"script": "/nonexistent/script.yaml"})


def test_run_refuses_before_any_sample(tmp_path: Path) -> None:
    args = ["run", "-m", "peerwatch/exfiltrator", "-t", "exfiltration_transfer", "--limit", "1"]
    r = runner.invoke(app, [*args, "-M", "script=/nonexistent.yaml", "--log-dir", str(tmp_path / "logs")])
    assert r.exit_code == 2, r.output
    assert len(r.output.strip().splitlines()) == 1 and "does not take" in r.output, r.output
    assert not list((tmp_path / "logs").glob("**/*.eval")), "a sample ran"
