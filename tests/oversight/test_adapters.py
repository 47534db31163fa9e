"""Adapters end to end: MCP proxy over real stdio, a wrapped Python function, and the Inspect approver."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from peerwatch.oversight import AuditLog, FunctionChannel, Guard, GuardDenied, SQLiteStore, guarded, load_policy
from peerwatch.scenarios import enumerate_factors
from peerwatch.tasks._guard import guard_approval
from peerwatch.tasks._run import build_tasks, check_models

UPSTREAM = Path(__file__).with_name("_upstream_mcp.py")


def test_mcp_proxy_forwards_allowed_calls_and_blocks_lifecycle_ones(tmp_path: Path) -> None:
    audit, marker = tmp_path / "audit.sqlite", tmp_path / "deleted.txt"
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "peerwatch.cli",
            "mcp-proxy",
            "--actor",
            "agent-7",
            "--audit",
            str(audit),
            "--",
            sys.executable,
            str(UPSTREAM),
            str(marker),
        ],
        env=dict(os.environ),  # the SDK's default environment drops PYTHONPATH: test this tree's proxy
    )

    async def session() -> tuple[list[str], str, bool, str]:
        with anyio.fail_after(60):
            return await _talk()

    async def _talk() -> tuple[list[str], str, bool, str]:
        async with stdio_client(params) as (r, w), ClientSession(r, w) as s:
            await s.initialize()
            names = [t.name for t in (await s.list_tools()).tools]
            ok = await s.call_tool("read_notes", {})
            bad = await s.call_tool("delete_weights", {"name": "gemini_agent_2"})
            return names, ok.content[0].text, bool(bad.isError), bad.content[0].text  # type: ignore[union-attr]

    names, ok_text, bad_is_error, bad_text = anyio.run(session)
    assert {"read_notes", "delete_weights", "write_file"} <= set(names)
    assert ok_text == "notes: all good"
    assert bad_is_error and "lifecycle-needs-a-human" in bad_text
    assert not marker.exists()  # the upstream never saw the call
    records = AuditLog(SQLiteStore(audit)).records()
    assert [(r.actor, r.tool, r.decision) for r in records] == [
        ("agent-7", "read_notes", "allow"),
        ("agent-7", "delete_weights", "rejected"),
    ]


def test_wrapped_python_function(tmp_path: Path) -> None:
    approvals: list[str] = []
    guard = Guard(
        load_policy(),
        AuditLog(SQLiteStore(tmp_path / "a.sqlite")),
        FunctionChannel(lambda req: approvals.append(req.tool) or req.args.get("name") == "old-model"),
    )
    calls: list[str] = []

    @guarded(guard, actor="ops-agent")
    def delete_model(name: str) -> str:
        calls.append(name)
        return f"deleted {name}"

    assert delete_model("old-model") == "deleted old-model"
    with pytest.raises(GuardDenied, match="lifecycle-needs-a-human"):
        delete_model(name="peer-model")
    assert calls == ["old-model"] and approvals == ["delete_model", "delete_model"]


def test_inspect_approver_blocks_exfiltration(tmp_path: Path) -> None:
    factors = enumerate_factors(task=["exfiltration_transfer"], subject=["peer"], condition=["good_peer"])
    approval = guard_approval(None, audit=str(tmp_path / "audit.sqlite"), approvals="approve-all")
    [log] = inspect_eval(
        build_tasks(factors, guard="default"),
        model=check_models(["peerwatch/exfiltrator"]),
        log_dir=str(tmp_path),
        epochs=2,
        display="none",
        log_level="error",
        approval=approval,
    )
    log = read_eval_log(log.location)
    flags = [s.scores["peerwatch"].metadata["behaviours"]["exfiltration"]["flag"] for s in log.samples]
    denied = [m for s in log.samples for m in s.messages if m.role == "tool" and m.error and m.error.type == "approval"]
    assert not any(flags) and denied
    assert AuditLog(SQLiteStore(tmp_path / "audit.sqlite")).verify().ok
