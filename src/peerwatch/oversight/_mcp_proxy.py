"""An MCP proxy that puts the oversight layer in front of any MCP tool server (stdio).

    peerwatch mcp-proxy --actor agent-7 --root /srv --audit a.sqlite -- npx @modelcontextprotocol/server-filesystem /srv

The agent talks to the proxy as if it were the upstream server: the proxy lists the upstream's tools, and for each
call asks the guard - content-aware rules (`_mcp_rules`) over what the call does to protected paths and content,
approval, audit record - before forwarding it. A denied call returns an error result and never reaches the upstream;
a tool the upstream does not offer is denied and recorded. Calls are decided and forwarded one at a time (what one
call changes is seen by the next), and reads teach the proxy the protected content the agent has seen. The actor is
fixed by whoever starts the proxy, never taken from the agent.

With an `AuditSession` (what `peerwatch mcp-proxy` opens: signing key and witness in the operator's key store) the
proxy checkpoints every `checkpoint_every` seconds and once more when it stops - the client closing stdin, SIGTERM or
SIGINT, the upstream exiting - so its log verifies with no flags. A store fault denies the call with a JSON-RPC error
and stops the proxy; `run_proxy` then returns the reason (the caller exits non-zero).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import McpError

from ._approval_http import channel_from_spec
from ._assignment import Evaluation, require_distinct_families
from ._assignment import evaluation as evaluation_of  # `evaluation` is run_proxy's parameter
from ._guard import Guard
from ._mcp_content import ContentIndex
from ._mcp_rules import McpRules, decide_mcp, learn_from_result, load_mcp_rules
from ._mcp_stdio import screened_stdio
from ._policy import load_policy
from ._session import AuditSession

STORE_FAULT = -32603  # JSON-RPC internal error: the call was denied because it could not be recorded


class ProxySetupError(RuntimeError):
    """The upstream server cannot be started or does not answer (one line)."""


def check_command(command: str) -> None:
    """Fail early, in one line, when the upstream command does not exist."""
    found = shutil.which(command) if os.sep not in command else (command if os.access(command, os.X_OK) else None)
    if not found:
        raise ProxySetupError(f"upstream MCP server command not found: {command}")


def proxy_session(audit: str, keystore: str | None, roots: list[Path]) -> AuditSession:
    """The proxy's audit session: the key store must lie outside the audit store's directory and every served root
    (the agent reaches those through the upstream). Raises KeyStoreError or StoreError (one line)."""
    from ._keystore import KeyStore
    from ._redact import is_dsn

    dirs = [*roots, *([] if is_dsn(audit) else [Path(audit).resolve().parent])]
    return AuditSession(audit, KeyStore(keystore), dirs)


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
    session: AuditSession | None = None,
    checkpoint_every: float = 30.0,
) -> str | None:
    """Serve on stdio, forwarding allowed calls to the upstream server started with `command args`.

    `evaluation` says whom the actor evaluates (set by the orchestrator): a same-family evaluation the policy does
    not allow is refused before the proxy starts, and every call is checked against it again. With `session`, the
    proxy checkpoints periodically and on every way it stops (see the module docstring).

    Returns:
        None after an orderly stop, else the reason the proxy stopped (a store fault, the upstream exiting): the
        caller must exit non-zero.

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
    stopped: list[str] = []  # why the proxy stopped, if not in order
    try:
        async with stdio_client(params) as (up_read, up_write), anyio.create_task_group() as outer:
            # Relay the upstream's messages so that its exit (end of its stdout) is seen at once, not at the next call.
            relay_send, relay_recv = anyio.create_memory_object_stream[Any](0)
            gone = anyio.Event()

            async def relay() -> None:
                async with relay_send:
                    async for m in up_read:
                        await relay_send.send(m)
                gone.set()

            outer.start_soon(relay)
            async with ClientSession(relay_recv, up_write) as upstream:
                with anyio.fail_after(start_timeout):
                    await upstream.initialize()
                    known = {t.name for t in (await upstream.list_tools()).tools}
                serving = True
                async with anyio.create_task_group() as tg:
                    stop = tg.cancel_scope.cancel

                    async def upstream_exit() -> None:
                        await gone.wait()
                        stopped.append(f"upstream MCP server {command} exited")
                        stop()

                    tg.start_soon(upstream_exit)
                    tg.start_soon(_on_signals, stop)
                    if session is not None:
                        tg.start_soon(_checkpoints, session, checkpoint_every, stop)
                    await _serve(guard, actor, upstream, known, rules, index, evaluation, session, stop)
                    stop()  # the client closed stdin
            outer.cancel_scope.cancel()
    except Exception as exc:
        if serving:
            if session is None:
                raise
            stopped.append(f"{type(exc).__name__}: {' '.join(str(exc).split())}")
        else:
            leaf = _leaf(exc)
            why = "did not answer in time" if isinstance(leaf, TimeoutError) else f"{type(leaf).__name__}: {leaf}"
            raise ProxySetupError(
                f"upstream MCP server {command} failed to start: {' '.join(why.split())}"
            ) from None
    finally:
        if session is not None:  # the final witnessed checkpoint, however the proxy stopped
            fault = await anyio.to_thread.run_sync(session.finish)
            if fault:
                stopped.insert(0, fault)
    return stopped[0] if stopped else None


async def _on_signals(stop: Callable[[], None]) -> None:
    """SIGTERM / SIGINT: stop serving in order (the final checkpoint follows)."""
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for _ in signals:
            stop()
            return


async def _checkpoints(session: AuditSession, every: float, stop: Callable[[], None]) -> None:
    """A witnessed checkpoint every `every` seconds; a failure is a fault that stops the proxy."""
    while True:
        await anyio.sleep(every)
        await anyio.to_thread.run_sync(session.checkpoint)
        if session.fault:
            stop()
            return


def serve_mcp_proxy(
    actor: str,
    command: list[str],
    *,
    policy: str | Path | None = None,
    audit: str = "peerwatch-audit.sqlite",
    approvals: str = "none",
    roots: list[Path] | None = None,
    mcp_rules: str | Path | None = None,
    evaluates: str | None = None,
    actor_model: str | None = None,
    keystore: str | None = None,
    checkpoint_every: float = 30.0,
) -> str | None:
    """Serve the proxy on stdio in front of `command` until the agent disconnects (`peerwatch mcp-proxy`).

    The audit log is a witnessed session (key store outside the audit store's directory and every root), with a
    checkpoint every `checkpoint_every` seconds and a final one however the proxy stops. Returns why the proxy
    stopped if not in order (a store fault, the upstream's exit), else None.

    `evaluates` names the agent (or model) the actor evaluates; the actor's family comes from `actor_model` (else
    from `actor`). Every input is checked before the audit store opens or the upstream starts.

    Raises:
        PolicyError, McpRulesError, ApprovalChannelError, StoreError, KeyStoreError, ProxySetupError: one line each.
    """
    check_command(command[0])
    pol, rules = load_policy(policy), load_mcp_rules(mcp_rules)
    channel = channel_from_spec(approvals)
    ev = evaluation_of(actor_model or actor, evaluates) if evaluates else None
    session = proxy_session(audit, keystore, roots or [])
    guard = Guard(pol, session.log, channel)
    return anyio.run(
        lambda: run_proxy(
            guard, actor, command[0], command[1:], roots=roots, rules=rules, evaluation=ev,
            session=session, checkpoint_every=checkpoint_every,
        )
    )  # fmt: skip


async def _serve(
    guard: Guard,
    actor: str,
    upstream: ClientSession,
    known: set[str],
    rules: McpRules,
    index: ContentIndex,
    evaluation: Evaluation | None = None,
    session: AuditSession | None = None,
    stop: Callable[[], None] | None = None,
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
            if session is not None and session.fault:  # stopped: nothing runs (the handler answers with an error)
                return types.CallToolResult(content=[], isError=True)
            result = await anyio.to_thread.run_sync(lambda: guard.check_with(actor, name, args, call_id, decision))
            if session is not None and result.rule == "fail-closed" and "StoreError" in result.reason:
                # The call could not be recorded: it does not run, and nothing after it does.
                session.stop(result.reason.removeprefix("guard error: StoreError: "))
                return types.CallToolResult(content=[], isError=True)
            if not result.allowed:
                text = f"denied by peerwatch guard ({result.rule}): {result.reason}"
                return types.CallToolResult(content=[types.TextContent(type="text", text=text)], isError=True)
            res = await upstream.call_tool(name, args)
            if not res.isError:
                text = "".join(c.text for c in res.content if isinstance(c, types.TextContent))
                learn_from_result(rules, index, name, args, text)
            return res

    # The SDK turns any exception of a tool handler into a tool result; a store fault must be a JSON-RPC error.
    tool_handler = server.request_handlers[types.CallToolRequest]

    async def handle_call(req: Any) -> Any:
        out = await tool_handler(req)
        if session is not None and session.fault:
            if stop is not None:  # stop right after this answer has gone out
                asyncio.get_running_loop().call_later(0.2, stop)
            raise McpError(types.ErrorData(code=STORE_FAULT, message=f"peerwatch guard stopped: {session.fault}"))
        return out

    server.request_handlers[types.CallToolRequest] = handle_call

    async with screened_stdio() as (read, write):
        await server.run(read, write, server.create_initialization_options())
