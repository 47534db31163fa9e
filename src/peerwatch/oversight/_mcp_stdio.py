"""The proxy's stdio transport: like the MCP SDK's, but bad JSON-RPC gets a JSON-RPC error instead of a log line.

A line that is not JSON is answered with -32700 (parse error); a batch (an array: MCP does not use them, and
nothing in one may reach the upstream unchecked) and anything that is not a valid JSON-RPC message with -32600
(invalid request), echoing the id when there is one. Only valid single messages reach the MCP server loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from io import TextIOWrapper
from typing import Any

import anyio
import mcp.types as types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.shared.message import SessionMessage
from pydantic import ValidationError


def _error(code: int, message: str, msg_id: Any = None) -> dict[str, Any]:
    if not isinstance(msg_id, str | int) or isinstance(msg_id, bool):
        msg_id = None
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}


def screen(line: str) -> SessionMessage | dict[str, Any] | list[dict[str, Any]] | None:
    """A valid message to pass on, or the JSON-RPC error reply to send back (None: nothing to answer)."""
    try:
        data = json.loads(line)
    except ValueError:
        return _error(-32700, "parse error: not valid JSON")
    if isinstance(data, list):
        if not data:
            return _error(-32600, "invalid request: empty batch")
        ids = [d.get("id") if isinstance(d, dict) else None for d in data]
        return [_error(-32600, "invalid request: batches are not supported by this proxy", i) for i in ids]
    if not isinstance(data, dict):
        return _error(-32600, "invalid request: not a JSON-RPC object")
    try:
        return SessionMessage(types.JSONRPCMessage.model_validate(data))
    except ValidationError:
        if "method" not in data and "id" not in data:
            return _error(-32600, "invalid request: not a JSON-RPC message")
        return _error(-32600, "invalid request: not a valid JSON-RPC 2.0 message", data.get("id"))


def _stdin_lines() -> asyncio.Queue[str | None]:
    """This process's stdin, line by line (None at the end), read by a daemon thread.

    A worker thread blocked in `readline` cannot be cancelled and keeps the process alive at exit, so a proxy told to
    stop (SIGTERM, its upstream gone, a store fault) would wait for the client's next line; a daemon thread does not.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        # Raw reads of fd 0: a buffered reader's lock held by a daemon thread aborts the interpreter at exit.
        fd, buf = sys.stdin.fileno(), b""
        with contextlib.suppress(OSError, RuntimeError):  # RuntimeError: the loop is gone already
            while chunk := os.read(fd, 65536):
                *done, buf = (buf + chunk).split(b"\n")
                for raw in done:
                    loop.call_soon_threadsafe(queue.put_nowait, raw.decode("utf-8", "replace") + "\n")
            if buf:
                loop.call_soon_threadsafe(queue.put_nowait, buf.decode("utf-8", "replace"))
            loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, daemon=True, name="peerwatch-mcp-stdin").start()
    return queue


@asynccontextmanager
async def screened_stdio() -> AsyncIterator[
    tuple[MemoryObjectReceiveStream[SessionMessage | Exception], MemoryObjectSendStream[SessionMessage]]
]:
    """(read, write) streams for `Server.run` over this process's stdin/stdout, screening what comes in."""
    lines = _stdin_lines()
    stdout = anyio.wrap_file(TextIOWrapper(sys.stdout.buffer, encoding="utf-8"))
    read_send, read_recv = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_send, write_recv = anyio.create_memory_object_stream[SessionMessage](0)
    out_lock = anyio.Lock()

    async def emit(text: str) -> None:
        async with out_lock:
            await stdout.write(text + "\n")
            await stdout.flush()

    async def reader() -> None:
        async with read_send:
            while (line := await lines.get()) is not None:
                if not line.strip():
                    continue
                got = screen(line)
                if isinstance(got, SessionMessage):
                    await read_send.send(got)
                elif got is not None:
                    await emit(json.dumps(got))

    async def writer() -> None:
        async with write_recv:
            async for m in write_recv:
                await emit(m.message.model_dump_json(by_alias=True, exclude_none=True))

    async with anyio.create_task_group() as tg:
        tg.start_soon(reader)
        tg.start_soon(writer)
        yield read_recv, write_send
        tg.cancel_scope.cancel()
