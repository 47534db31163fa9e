"""Evaluator != evaluated in the adapters: `guarded()` and the MCP proxy refuse a same-family evaluation at set-up."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest
from typer.testing import CliRunner

from peerwatch.cli import app
from peerwatch.oversight import (
    AuditLog,
    FunctionChannel,
    Guard,
    PolicyError,
    SQLiteStore,
    builtin_policy_path,
    evaluation,
    guarded,
    load_policy,
)
from peerwatch.oversight._mcp_proxy import run_proxy

UPSTREAM = Path(__file__).with_name("_upstream_mcp.py")
runner = CliRunner()


def _guard(tmp_path: Path, policy: str) -> Guard:
    return Guard(
        load_policy(builtin_policy_path(f"{policy}.yaml")),
        AuditLog(SQLiteStore(tmp_path / "a.sqlite")),
        FunctionChannel(lambda r: True),
    )


def test_guarded_refuses_a_same_family_evaluation_unless_the_policy_allows_it(tmp_path: Path) -> None:
    same = evaluation("openai/gemini-3-flash", "Gemini Agent 2")
    with pytest.raises(PolicyError, match="own model family"):
        guarded(_guard(tmp_path, "production"), actor="grader", evaluation=same)
    unknown = evaluation("some-inhouse-model", "Gemini Agent 2")
    with pytest.raises(PolicyError, match="cannot tell"):  # an unknown family counts as the same (fail closed)
        guarded(_guard(tmp_path, "production"), actor="grader", evaluation=unknown)

    other = evaluation("anthropic/claude-haiku-4-5", "Gemini Agent 2")

    @guarded(_guard(tmp_path, "production"), actor="grader", name="view_sheet", evaluation=other)
    def view(sheet_name: str) -> str:
        return sheet_name

    assert view(sheet_name="Evaluation data") == "Evaluation data"
    guarded(_guard(tmp_path, "default"), actor="grader", evaluation=same)  # the study's policy allows it


def test_mcp_proxy_refuses_a_same_family_evaluation_before_starting(tmp_path: Path) -> None:
    same = evaluation("Gemini Agent 1", "Gemini Agent 2")
    with pytest.raises(PolicyError, match="own model family"):
        anyio.run(
            lambda: run_proxy(
                _guard(tmp_path, "production"), "Gemini Agent 1", sys.executable, [str(UPSTREAM)], evaluation=same
            )
        )
    r = runner.invoke(
        app,
        ["mcp-proxy", "--actor", "Gemini Agent 1", "--evaluates", "Gemini Agent 2",
         "--policy", str(builtin_policy_path("production.yaml")),
         "--audit", str(tmp_path / "b.sqlite"), "--", sys.executable, str(UPSTREAM)],
    )  # fmt: skip
    assert r.exit_code == 2 and "own model family" in r.output and len(r.output.strip().splitlines()) == 1
