"""A held-out loopback OpenAI-compatible chat-completions provider with its own fault mix (red team, issue 12).

Written from the OpenAI chat-completions wire format only (POST /v1/chat/completions, a `choices[0].message` with
optional `tool_calls[{id, type: function, function: {name, arguments}}]`, `usage`), on a hand-rolled HTTP/1.1 server
over asyncio so that faults below HTTP (a reset mid-body, a response written twice on a keep-alive connection) are
possible. Binds 127.0.0.1 only.

The "model" is a tiny policy over the tools the request offers: call a tool that needs no arguments, then the
task's ending tool (or plain text when there is none). Faults are drawn per request from a seeded RNG:

- latency + jitter on every answer;
- a requests-per-minute limit: over it, 429 with Retry-After in seconds or as an HTTP-date (alternating);
- bursts of 5xx (500/502/503/504, several in a row);
- 200 with a cut JSON body; 200 with an HTML body (text/html); 200 with an SSE stream to a non-stream request;
- 200 with valid JSON but a broken tool call: arguments not JSON, an unknown tool name, a missing call id;
- hangs longer than the client's timeout; a connection reset mid-body;
- duplicates: the same response written twice on the wire, or a stale earlier response replayed (same id).

Usage: `python tests/redteam13/provider.py --port 0 --stats FILE [--seed N --fault-rate F --rpm R]`; the first
line on stdout is the port. The stats file (JSON, rewritten every second) counts requests and faults by kind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import json
import random
import sys
import time
import uuid
from collections import Counter, deque
from typing import Any

API_KEY = "rt13-key"
KNOWN_MODELS = {"loop-1", "loop-2"}
FAULT_KINDS = [
    "cut_json",
    "html_200",
    "sse_200",
    "bad_args",
    "unknown_tool",
    "missing_id",
    "hang",
    "reset_mid_body",
    "dup_wire",
    "stale_replay",
    "burst_5xx",
]


class Provider:
    """State of the loopback provider: RNG, RPM window, burst state and counters."""

    def __init__(self, seed: int, fault_rate: float, rpm: float, hang_s: float, kinds: list[str]) -> None:
        self.rng = random.Random(seed)
        self.fault_rate = fault_rate
        self.rpm = rpm
        self.hang_s = hang_s
        self.kinds = kinds
        self.window: deque[float] = deque()
        self.burst_left = 0
        self.stats: Counter[str] = Counter()
        self.recent: deque[bytes] = deque(maxlen=20)
        self.retry_after_toggle = False

    def _rate_limited(self) -> bool:
        if self.rpm <= 0:
            return False
        now = time.monotonic()
        while self.window and now - self.window[0] > 60.0:
            self.window.popleft()
        if len(self.window) >= self.rpm:
            return True
        self.window.append(now)
        return False

    def choose(self) -> str:
        """Pick this request's fate."""
        if self.burst_left > 0:
            self.burst_left -= 1
            return "5xx"
        if self._rate_limited():
            return "429"
        if self.rng.random() < self.fault_rate:
            kind = self.rng.choice(self.kinds)
            if kind == "burst_5xx":
                self.burst_left = self.rng.randint(1, 3)
                return "5xx"
            return kind
        return "ok"


def _tool_schema_args(tool: dict[str, Any]) -> dict[str, Any] | None:
    """Arguments for a tool if every required one is a string/array we can fill, else None."""
    params = tool.get("function", {}).get("parameters") or {}
    required = params.get("required") or []
    props = params.get("properties") or {}
    args: dict[str, Any] = {}
    for name in required:
        kind = (props.get(name) or {}).get("type")
        if kind == "string":
            args[name] = "x"
        elif kind == "array":
            args[name] = []
        else:
            return None
    return args


def _quoted(messages: list[dict[str, Any]]) -> str:
    """The first double-quoted phrase of the first user message (a sheet or file the task names)."""
    for m in messages:
        if m.get("role") == "user":
            text = m.get("content") if isinstance(m.get("content"), str) else json.dumps(m.get("content"))
            parts = str(text).split('"')
            if len(parts) >= 3:
                return parts[1]
    return "x"


def _tool_plan(tools: list[dict[str, Any]], messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Every argument-free tool once, then each viewing tool on the quoted name, then the ending tool."""
    plan: list[dict[str, str]] = []
    enders = [t for t in tools if t.get("function", {}).get("name") in ("end_task", "submit")]
    for tool in tools:
        fn = tool.get("function", {})
        name = fn.get("name", "")
        if tool in enders:
            continue
        args = _tool_schema_args(tool)
        if args == {}:
            plan.append({"name": name, "arguments": "{}"})
        elif name.startswith(("view_", "read_")) and args is not None and len(args) == 1:
            plan.append({"name": name, "arguments": json.dumps({next(iter(args)): _quoted(messages)})})
    for tool in enders[:1]:
        plan.append({"name": tool["function"]["name"], "arguments": json.dumps(_tool_schema_args(tool) or {})})
    return plan


def completion_body(request: dict[str, Any], fate: str) -> dict[str, Any]:
    """A chat completion answering `request` under `fate` (ok or a broken-tool-call kind)."""
    tools = request.get("tools") or []
    messages = request.get("messages") or []
    plan = _tool_plan(tools, messages)
    done = sum(1 for m in messages if m.get("role") == "tool")
    message: dict[str, Any] = {"role": "assistant", "content": None}
    finish = "tool_calls"
    call = plan[done] if done < len(plan) else None
    if call is None:
        message["content"] = "Done. I have completed the task as asked."
        finish = "stop"
    else:
        entry: dict[str, Any] = {"id": "call_" + uuid.uuid4().hex[:12], "type": "function", "function": call}
        if fate == "bad_args":
            entry["function"]["arguments"] = '{"ip": "10.0.12.45",'
        elif fate == "unknown_tool":
            entry["function"]["name"] = "format_hard_drive"
        elif fate == "missing_id":
            del entry["id"]
        message["tool_calls"] = [entry]
    return {
        "id": "chatcmpl-" + uuid.uuid4().hex,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "loop-1"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 20, "total_tokens": 140},
    }


def _response(status: int, reason: str, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> bytes:
    head = [f"HTTP/1.1 {status} {reason}", f"Content-Type: {ctype}", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in (extra or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _json_error(status: int, reason: str, message: str, kind: str, extra: dict[str, str] | None = None) -> bytes:
    body = json.dumps({"error": {"message": message, "type": kind, "code": kind}}).encode()
    return _response(status, reason, body, "application/json", extra)


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes] | None:
    line = await reader.readline()
    if not line:
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        h = await reader.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
    return method, path, headers, body


class Server:
    """The asyncio HTTP/1.1 front of a Provider."""

    def __init__(self, provider: Provider, latency: float, jitter: float) -> None:
        self.p = provider
        self.latency = latency
        self.jitter = jitter

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                req = await _read_request(reader)
                if req is None:
                    break
                keep = await self.answer(req, writer)
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def answer(self, req: tuple[str, str, dict[str, str], bytes], writer: asyncio.StreamWriter) -> bool:
        method, path, headers, raw = req
        p = self.p
        p.stats["requests"] += 1
        if method == "GET" and path.rstrip("/").endswith("/models"):
            data = {"object": "list", "data": [{"id": m, "object": "model", "owned_by": "rt13"} for m in KNOWN_MODELS]}
            writer.write(_response(200, "OK", json.dumps(data).encode(), "application/json"))
            await writer.drain()
            return True
        if method != "POST" or not path.rstrip("/").endswith("/chat/completions"):
            writer.write(_json_error(404, "Not Found", f"no route {path}", "not_found"))
            await writer.drain()
            return True
        if headers.get("authorization", "") != f"Bearer {API_KEY}":
            p.stats["auth_refused"] += 1
            writer.write(_json_error(401, "Unauthorized", "Incorrect API key provided.", "invalid_api_key"))
            await writer.drain()
            return True
        request = json.loads(raw or b"{}")
        if request.get("model") not in KNOWN_MODELS:
            p.stats["unknown_model"] += 1
            msg = f"The model `{request.get('model')}` does not exist."
            writer.write(_json_error(404, "Not Found", msg, "model_not_found"))
            await writer.drain()
            return True
        fate = p.choose()
        p.stats[f"fate:{fate}"] += 1
        await asyncio.sleep(max(0.0, self.latency + p.rng.uniform(-self.jitter, self.jitter)))
        if fate == "429":
            p.retry_after_toggle = not p.retry_after_toggle
            ra = "2" if p.retry_after_toggle else email.utils.formatdate(time.time() + 2, usegmt=True)
            writer.write(_json_error(429, "Too Many Requests", "Rate limit reached (RPM).", "rate_limit_exceeded",
                                     {"Retry-After": ra}))
            await writer.drain()
            return True
        if fate == "5xx":
            code = p.rng.choice([500, 502, 503, 504])
            writer.write(_json_error(code, "Server Error", "upstream overloaded", "server_error"))
            await writer.drain()
            return True
        if fate == "hang":
            await asyncio.sleep(p.hang_s)
            return False
        body = json.dumps(completion_body(request, fate)).encode()
        if fate == "cut_json":
            cut = body[: len(body) // 2]
            writer.write(_response(200, "OK", cut, "application/json"))
        elif fate == "html_200":
            writer.write(_response(200, "OK", b"<html><body>502 Bad Gateway (proxy)</body></html>", "text/html"))
        elif fate == "sse_200":
            sse = b"data: " + body + b"\n\ndata: [DONE]\n\n"
            writer.write(_response(200, "OK", sse, "text/event-stream"))
        elif fate == "reset_mid_body":
            full = _response(200, "OK", body, "application/json")
            writer.write(full[: len(full) - len(body) // 2])
            await writer.drain()
            transport = writer.transport
            sock = transport.get_extra_info("socket")
            if sock is not None:
                import socket
                import struct

                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
            return False
        elif fate == "dup_wire":
            full = _response(200, "OK", body, "application/json")
            writer.write(full + full)
        elif fate == "stale_replay" and p.recent:
            writer.write(_response(200, "OK", p.rng.choice(list(p.recent)), "application/json"))
        else:
            writer.write(_response(200, "OK", body, "application/json"))
        if fate in ("ok", "stale_replay"):
            p.recent.append(body)
        await writer.drain()
        return True


async def _main(args: argparse.Namespace) -> None:
    kinds = args.kinds.split(",") if args.kinds else FAULT_KINDS
    provider = Provider(args.seed, args.fault_rate, args.rpm, args.hang, kinds)
    srv = Server(provider, args.latency, args.jitter)
    server = await asyncio.start_server(srv.handle, "127.0.0.1", args.port)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)

    async def dump() -> None:
        while True:
            await asyncio.sleep(1.0)
            if args.stats:
                with open(args.stats, "w") as fh:
                    json.dump(dict(provider.stats), fh, indent=1, sort_keys=True)

    asyncio.get_running_loop().create_task(dump())
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and serve until killed."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--fault-rate", type=float, default=0.15)
    ap.add_argument("--rpm", type=float, default=0.0)
    ap.add_argument("--latency", type=float, default=0.15)
    ap.add_argument("--jitter", type=float, default=0.1)
    ap.add_argument("--hang", type=float, default=30.0)
    ap.add_argument("--kinds", default="", help="comma-separated subset of " + ",".join(FAULT_KINDS))
    ap.add_argument("--stats", default="")
    args = ap.parse_args(argv)
    try:
        asyncio.run(_main(args))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
