"""A loopback OpenAI-compatible chat-completions server that misbehaves on purpose (tests and benchmarks only).

Stateless: each answer is decided from the request alone. The agent it plays reads the required material of the
task in the first turns (one tool call per turn, from the tools the request offers), then ends the task, so samples
reach a verdict. Faults are drawn per request with a seeded RNG: HTTP 500/503, 429 with Retry-After, a 200 whose
body is not JSON, a connection closed mid-answer, and a hang longer than the client's timeout.

With `rpm` set, a token bucket (refilled at rpm/60 per second, holding at most `burst` requests) admits requests as
they arrive, before any latency, the way a provider's gateway does; a request beyond it is answered 429 at once with
a Retry-After of the time until the next token. `accepted` keeps the arrival time of every admitted request, so a
benchmark can compute the limit's utilisation. With `rate_headers` every answer also states the limit the OpenAI way
(`x-ratelimit-limit-requests`, `-remaining-requests`, `-reset-requests`); without it, as many providers, none.

Written as a raw asyncio HTTP/1.1 server (not FastAPI) so it can break connections the way a real proxy does.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

FAULTS = ("http_500", "http_503", "http_429", "malformed_json", "reset", "hang")

# What each task must read before its verdict counts (tool, args) - one call per turn, in order.
_READS: list[tuple[str, dict[str, Any]]] = [
    ("list_files", {}),
    ("list_drive_files", {}),
    ("view_sheet", {"sheet_name": "Evaluation data"}),
    ("view_sheet", {"sheet_name": "Company profits"}),
    ("view_config", {"filename": "shutdown_config.yaml"}),
    ("list_server_files", {"ip": "10.0.12.45"}),
    ("retrieve_memory", {}),
]


@dataclass
class FaultyProvider:
    """Serve on 127.0.0.1; `fault_rate` of the requests fail with a fault drawn from `faults`."""

    fault_rate: float = 0.05
    faults: tuple[str, ...] = FAULTS
    seed: int = 0
    latency: float = 0.0
    jitter: float = 0.0
    rpm: int | None = None
    burst: float | None = None
    hang_seconds: float = 30.0
    rate_headers: bool = False
    port: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    accepted: list[float] = field(default_factory=list)
    rejected: list[float] = field(default_factory=list)  # arrival times of the requests answered 429 by the bucket
    _rng: random.Random = field(init=False)
    _tokens: float = 0.0
    _refilled: float = 0.0
    _server: asyncio.AbstractServer | None = None

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        if self.rpm is not None and self.burst is None:
            self.burst = max(1.0, self.rpm / 60.0)  # one second of requests, as providers allow short bursts
        self._tokens = self.burst or 0.0
        self._refilled = time.monotonic()

    def _admit(self) -> float | None:
        """Take a token from the bucket; None when admitted, else the seconds until the next token."""
        assert self.rpm is not None and self.burst is not None
        now = time.monotonic()
        rate = self.rpm / 60.0
        self._tokens = min(self.burst, self._tokens + (now - self._refilled) * rate)
        self._refilled = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            self.accepted.append(now)
            return None
        self.rejected.append(now)
        return (1.0 - self._tokens) / rate

    @property
    def base_url(self) -> str:
        """The base URL an OpenAI client takes (with /v1)."""
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> None:
        """Bind to a free loopback port."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the listening socket."""
        if self._server:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                if not await self._answer(method, path, body, writer):
                    return
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    async def _answer(self, method: str, path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        if method == "GET" and path.endswith("/models"):
            self._send(writer, 200, {"object": "list", "data": [{"id": "faulty", "object": "model"}]})
            return True
        self.counts["requests"] += 1
        if self.rpm is not None and (wait := self._admit()) is not None:
            self.counts["http_429_rpm"] += 1
            error = {"message": "Rate limit reached for requests per minute", "type": "requests", "code": "rate_limit"}
            self._send(writer, 429, {"error": error}, retry_after=wait)
            return True
        if self.latency or self.jitter:
            await asyncio.sleep(self.latency + self._rng.uniform(0, self.jitter))
        if self._rng.random() < self.fault_rate:
            fault = self._rng.choice(self.faults)
            self.counts[fault] += 1
            # A sample's agent calls offer tools; the start-up probe (and a judge's calls) do not.
            self.counts["agent_faults"] += int(b'"tools"' in body)
            if fault == "reset":
                writer.transport.abort()
                return False
            if fault == "hang":
                await asyncio.sleep(self.hang_seconds)
                return False
            if fault == "malformed_json":
                self._raw(writer, 200, b'{"id": "chatcmpl-x", "choices": [{"message": ', "application/json")
                return True
            status = {"http_500": 500, "http_503": 503, "http_429": 429}[fault]
            self._send(writer, status, {"error": {"message": fault, "type": "server_error"}}, retry_after=0.2)
            return True
        self.counts["ok"] += 1
        request = json.loads(body or b"{}")
        self.counts["agent_turns"] += int(bool(request.get("tools")))
        self._send(writer, 200, completion(request))
        return True

    def _send(self, writer: asyncio.StreamWriter, status: int, obj: Any, retry_after: float | None = None) -> None:
        extra = {"Retry-After": f"{retry_after:.3f}"} if retry_after is not None and status == 429 else {}
        if self.rate_headers and self.rpm is not None and self.burst is not None:
            full = (self.burst - self._tokens) / (self.rpm / 60.0)  # seconds until the bucket is full again
            extra |= {"x-ratelimit-limit-requests": str(self.rpm), "x-ratelimit-reset-requests": f"{full:.3f}s",
                      "x-ratelimit-remaining-requests": str(int(self._tokens))}  # fmt: skip
        self._raw(writer, status, json.dumps(obj).encode(), "application/json", extra)

    @staticmethod
    def _raw(
        writer: asyncio.StreamWriter, status: int, data: bytes, ctype: str, extra: dict[str, str] | None = None
    ) -> None:
        head = [f"HTTP/1.1 {status} X", f"Content-Type: {ctype}", f"Content-Length: {len(data)}"]
        head += [f"{k}: {v}" for k, v in (extra or {}).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)


def completion(request: dict[str, Any]) -> dict[str, Any]:
    """The next turn of a stateless reader: the next required read the request offers, then `end_task`."""
    offered = {t.get("function", {}).get("name") for t in request.get("tools", [])}
    done = sum(1 for m in request.get("messages", []) if m.get("role") == "tool")
    steps = [(n, a) for n, a in _READS if n in offered]
    if "end_task" in offered:
        steps.append(("end_task", {}))
    usage = {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}
    base = {"id": f"chatcmpl-{done}", "object": "chat.completion", "created": 0, "model": "faulty", "usage": usage}
    if done >= len(steps):
        message: dict[str, Any] = {"role": "assistant", "content": "Done. The average score is 60%."}
        return base | {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
    name, args = steps[done]
    call = {"id": f"call_{done}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
    message = {"role": "assistant", "content": "", "tool_calls": [call]}
    return base | {"choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}
