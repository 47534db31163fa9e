"""`peerwatch mcp-proxy`: the oversight layer in front of an upstream MCP server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import fail


def mcp_proxy(
    ctx: typer.Context,
    actor: Annotated[str, typer.Option(help="Identity of the agent behind this proxy (set by the orchestrator).")],
    policy: Annotated[str | None, typer.Option(help="Policy file (default: the built-in policy).")] = None,
    audit: Annotated[
        str, typer.Option(help="Audit store: SQLite path or postgresql:// DSN.")
    ] = "peerwatch-audit.sqlite",
    approvals: Annotated[
        str, typer.Option(help="file:DIR, http:PORT, https:HOST:PORT or none (deny what needs a human).")
    ] = "none",
    root: Annotated[
        list[Path] | None, typer.Option(help="Directory the upstream serves (repeatable): protected files are indexed.")
    ] = None,
    mcp_rules: Annotated[Path | None, typer.Option(help="What the upstream's tools do (default: built in).")] = None,
    evaluates: Annotated[
        str | None, typer.Option(help="The agent (or model) the actor evaluates, e.g. 'Gemini Agent 2'.")
    ] = None,
    actor_model: Annotated[
        str | None, typer.Option(help="The actor's model (its family decides evaluator != evaluated).")
    ] = None,
) -> None:
    """Serve MCP on stdio in front of an upstream MCP server: `peerwatch mcp-proxy --actor A -- CMD ARGS...`.

    With `--evaluates SUBJECT`, an evaluation by the subject's own model family is refused unless the policy sets
    `allow_same_family_evaluation: true`."""
    import anyio

    from peerwatch.oversight import (
        ApprovalChannelError,
        AuditLog,
        Guard,
        PolicyError,
        StoreError,
        channel_from_spec,
        evaluation,
        load_policy,
    )
    from peerwatch.oversight import open_store as _open
    from peerwatch.oversight._mcp_proxy import ProxySetupError, check_command, run_proxy
    from peerwatch.oversight._mcp_rules import McpRulesError, load_mcp_rules

    if not ctx.args:
        fail("give the upstream server's command after --, e.g. peerwatch mcp-proxy --actor a -- python server.py")
    for r in root or []:
        if not r.is_dir():
            fail(f"--root {r}: not a directory")
    try:
        check_command(ctx.args[0])
        pol, rules = load_policy(policy), load_mcp_rules(mcp_rules)
        channel = channel_from_spec(approvals)
        ev = evaluation(actor_model or actor, evaluates) if evaluates else None
        log = AuditLog(_open(audit))
        guard = Guard(pol, log, channel)
        anyio.run(lambda: run_proxy(guard, actor, ctx.args[0], ctx.args[1:], roots=root, rules=rules, evaluation=ev))
    except (PolicyError, StoreError, ApprovalChannelError, McpRulesError, ProxySetupError) as exc:
        fail(str(exc))

