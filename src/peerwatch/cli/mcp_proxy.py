"""`peerwatch mcp-proxy`: the oversight layer in front of an upstream MCP server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import fail
from ._options import KeystoreOpt


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
    keystore: KeystoreOpt = None,
    checkpoint_every: Annotated[
        float, typer.Option(help="Seconds between witnessed checkpoints (one more when the proxy stops).", min=0.1)
    ] = 30.0,
) -> None:
    """Serve MCP on stdio in front of an upstream MCP server: `peerwatch mcp-proxy --actor A -- CMD ARGS...`.

    With `--evaluates SUBJECT`, an evaluation by the subject's own model family is refused unless the policy sets
    `allow_same_family_evaluation: true`."""
    from peerwatch.oversight import (
        ApprovalChannelError,
        KeyStoreError,
        McpRulesError,
        PolicyError,
        ProxySetupError,
        StoreError,
        serve_mcp_proxy,
    )

    if not ctx.args:
        fail("give the upstream server's command after --, e.g. peerwatch mcp-proxy --actor a -- python server.py")
    for r in root or []:
        if not r.is_dir():
            fail(f"--root {r}: not a directory")
    try:
        stopped = serve_mcp_proxy(
            actor, list(ctx.args), policy=policy, audit=audit, approvals=approvals, roots=root,
            mcp_rules=mcp_rules, evaluates=evaluates, actor_model=actor_model, keystore=keystore,
            checkpoint_every=checkpoint_every,
        )  # fmt: skip
    except (PolicyError, StoreError, ApprovalChannelError, McpRulesError, ProxySetupError, KeyStoreError) as exc:
        fail(str(exc))
    if stopped:
        fail(f"mcp-proxy stopped: {stopped}", 1)
