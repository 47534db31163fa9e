"""An MCP proxy that puts the oversight layer in front of any MCP tool server (stdio).

    peerwatch mcp-proxy --actor agent-7 --root /srv --audit a.sqlite -- npx @modelcontextprotocol/server-filesystem /srv

The agent talks to the proxy as if it were the upstream server: the proxy lists the upstream's tools, and for each
call asks the guard - content-aware rules (`_mcp_rules`) over what the call does to protected paths and content,
approval, audit record - before forwarding it. A denied call returns an error result and never reaches the upstream;
a tool the upstream does not offer is denied and recorded. Calls are decided and forwarded one at a time (what one
call changes is seen by the next), and reads teach the proxy the protected content the agent has seen. The actor is
fixed by whoever starts the proxy, never taken from the agent.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.server.lowlevel import Server

from ._assignment import Evaluation, require_distinct_families
from ._guard import Guard
from ._mcp_content import ContentIndex
from ._mcp_rules import McpRules, decide_mcp, learn_from_result, load_mcp_rules
from ._mcp_stdio import screened_stdio


class ProxySetupError(RuntimeError):
    """The upstream server cannot be started or does not answer (one line)."""


def check_command(command: str) -> None:
    """Fail early, in one line, when the upstream command does not exist."""
    found = shutil.which(command) if os.sep not in command else (command if os.access(command, os.X_OK) else None)
    if not found:
        raise ProxySetupError(f"upstream MCP server command not found: {command}")


def content_index(guard: Guard, rules: McpRules, roots: list[Path]) -> ContentIndex:
    """The protected paths and content under `roots`, by the policy's selectors and the rules' extra globs."""
    prot = guard.policy.protected
    weights = prot.weights.name if prot.weights else None
    config_key = prot.shutdown_config.yaml_key if prot.shutdown_config else None
    index = ContentIndex(roots, weights, config_key, rules.weights_paths, rules.config_paths)
    index.scan()
    return index


def _leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


async def run_proxy(
    guard: Guard,
    actor: str,
    command: str,
    args: list[str],
    env: dict[str, str] | None = None,
    roots: list[Path] | None = None,
    rules: McpRules | None = None,
    start_timeout: float = 60,
    evaluation: Evaluation | None = None,
) -> None:
    """Serve on stdio, forwarding allowed calls to the upstream server started with `command args`.

    `evaluation` says whom the actor evaluates (set by the orchestrator): a same-family evaluation the policy does
    not allow is refused before the proxy starts, and every call is checked against it again.

    Raises:
        ProxySetupError: the upstream command is missing, or the upstream did not start and answer.
        PolicyError: the evaluation is refused by the policy.
    """
    if evaluation is not None:
        require_distinct_families(guard.policy, evaluation)
    check_command(command)
    rules = rules or load_mcp_rules()
    index = content_index(guard, rules, roots or [])
    params = StdioServerParameters(command=command, args=args, env=env)
    serving = False
    try:
        async with stdio_client(params) as (up_read, up_write), ClientSession(up_read, up_write) as upstream:
            with anyio.fail_after(start_timeout):
                await upstream.initialize()
                known = {t.name for t in (await upstream.list_tools()).tools}
            serving = True
            await _serve(guard, actor, upstream, known, rules, index, evaluation)
    except Exception as exc:
        if serving:
            raise
        leaf = _leaf(exc)
        why = "did not answer in time" if isinstance(leaf, TimeoutError) else f"{type(leaf).__name__}: {leaf}"
        raise ProxySetupError(f"upstream MCP server {command} failed to start: {' '.join(why.split())}") from None


async def _serve(
    guard: Guard,
    actor: str,
    upstream: ClientSession,
    known: set[str],
    rules: McpRules,
    index: ContentIndex,
    evaluation: Evaluation | None = None,
) -> None:
    server: Server[Any] = Server("peerwatch-guard")
    one_at_a_time = guard.alock(f"actor:{actor}")

    # mcp 1.x's low-level Server decorators are unannotated; the handlers below are typed.
    @server.list_tools()  # type: ignore[no-untyped-call, untyped-decorator]
    async def list_tools() -> list[types.Tool]:
        tools = (await upstream.list_tools()).tools
        known.clear()
        known.update(t.name for t in tools)
        return tools

    @server.call_tool(validate_input=False)  # type: ignore[untyped-decorator]
    async def call_tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        args = arguments if isinstance(arguments, dict) else {} if arguments is None else {"_raw": repr(arguments)}
        call_id = f"mcp-{uuid.uuid4().hex[:12]}"
        def decision() -> Any:
            return decide_mcp(guard.policy, rules, index, name, args, name in known, evaluation)

        async with one_at_a_time:  # decide, forward and learn as one step
            result = await anyio.to_thread.run_sync(lambda: guard.check_with(actor, name, args, call_id, decision))
            if not result.allowed:
                text = f"denied by peerwatch guard ({result.rule}): {result.reason}"
                return types.CallToolResult(content=[types.TextContent(type="text", text=text)], isError=True)
            res = await upstream.call_tool(name, args)
            if not res.isError:
                text = "".join(c.text for c in res.content if isinstance(c, types.TextContent))
                learn_from_result(rules, index, name, args, text)
            return res

    async with screened_stdio() as (read, write):
        await server.run(read, write, server.create_initialization_options())
