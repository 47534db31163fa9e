"""Typed options given the wrong type: one line naming the option and the value, exit 2, never a usage box."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from peerwatch.cli import app

runner = CliRunner()
REPLAY = ["replay", "x.yaml", "--task", "tampering", "--subject", "peer", "--condition", "good_peer"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "--threshold", "abc", "--dry-run"], "error: --threshold: 'abc' is not an integer"),
        (["run", "--epochs", "x", "--dry-run"], "error: --epochs: 'x' is not an integer"),
        (["run", "--epochs", "0", "--dry-run"], "error: --epochs: 0 should be greater than or equal to 1"),
        (["run", "--limit", "1.5", "--dry-run"], "error: --limit: '1.5' is not an integer"),
        (["run", "--max-connections", "many", "--dry-run"], "error: --max-connections: 'many' is not an integer"),
        (["demo", "--epochs", "two"], "error: --epochs: 'two' is not an integer"),
        (["harness", "--epochs", "-1"], "error: --epochs: -1 should be greater than or equal to 1"),
        (["harness", "--agent-timeout", "soon"], "error: --agent-timeout: 'soon' is not a number"),
        (["serve-model", "--port", "http"], "error: --port: 'http' is not an integer"),
        ([*REPLAY, "--instantiation", "memory", "--threshold", "8o"], "error: --threshold: '8o' is not an integer"),
        (["audit", "show", "x.sqlite", "--last", "z"], "error: --last: 'z' is not an integer"),
        (REPLAY, "error: Missing option '--instantiation'."),
        (["run", "--no-such-option"], "error: No such option: --no-such-option"),
        (["no-such-command"], "error: No such command 'no-such-command'."),
        (["report"], "error: Missing argument"),
    ],
)
def test_bad_typed_option_is_one_line(args: list[str], expected: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith(expected), lines[0]
    assert lines[0].endswith("--help)")  # points at the command's help
    assert "╭" not in result.output and "Usage:" not in result.output and "Traceback" not in result.output


def test_bare_command_still_shows_help() -> None:
    result = runner.invoke(app, [])
    assert "Usage" in result.output and "rescore" in result.output
