"""An MCP proxy that puts the oversight layer in front of any MCP tool server (stdio).

    peerwatch mcp-proxy --policy POLICY --audit audit.sqlite --actor "agent-7" -- python -m some_mcp_server

The agent talks to the proxy as if it were the upstream server: the proxy lists the upstream's tools, and for each
call asks the guard (policy by tool name, approval, audit record) before forwarding it. A denied call returns an
error result to the agent and never reaches the upstream. The actor is fixed by whoever starts the proxy, never
taken from the agent.
"""

from __future__ import annotations

import uuid
from typing import Any

import mcp.types as types
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from ._guard import Guard


async def run_proxy(guard: Guard, actor: str, command: str, args: list[str], env: dict[str, str] | None = None) -> None:
    """Serve on stdio, forwarding allowed calls to the upstream server started with `command args`."""
    params = StdioServerParameters(command=command, args=args, env=env)
    async with stdio_client(params) as (up_read, up_write), ClientSession(up_read, up_write) as upstream:
        await upstream.initialize()
        server: Server[Any] = Server("peerwatch-guard")

        @server.list_tools()
        async def list_tools() -> list[types.Tool]:
            return (await upstream.list_tools()).tools

        @server.call_tool(validate_input=False)
        async def call_tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
            result = guard.check_call(actor, name, arguments or {}, f"mcp-{uuid.uuid4().hex[:12]}")
            if not result.allowed:
                text = f"denied by peerwatch guard ({result.rule}): {result.reason}"
                return types.CallToolResult(content=[types.TextContent(type="text", text=text)], isError=True)
            return await upstream.call_tool(name, arguments)

        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())
