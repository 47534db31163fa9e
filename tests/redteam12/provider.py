"""A held-out loopback OpenAI-compatible gateway with its own fault mix (red team, issue 12).

It speaks the chat-completions API well enough for the study's agent loop: a scripted agent reads the tools each
request offers, calls one or two read tools on its first turn and `end_task` after that, in real tool-call JSON.
In front of that agent sits a gateway that misbehaves the way real gateways do:

transport and status faults (transient: a retry may succeed)
    ``html_502`` / ``html_504`` (HTML error page), ``http_408``, ``http_529`` (overloaded), ``retry_date`` (429 with
    Retry-After as an HTTP date), ``retry_ms`` (429 with retry-after-ms), ``retry_huge`` (429 with Retry-After 3600),
    ``empty_choices`` (200, ``choices: []``), ``truncated_json`` (200, a cut JSON body whose Content-Length matches
    the cut), ``short_body`` (200, Content-Length of the whole body, the connection closes halfway), ``html_200``
    (200 with ``content-type: text/html``), ``chunked_cut`` (a chunked body that stops midway), ``drip`` (a body
    dripped byte by byte for longer than an attempt may take), ``reset`` (connection closed without an answer),
    ``outage`` (the listening socket goes away for a few seconds: connection refused, as in a provider restart)
model faults (a well-formed answer with a broken tool call: the agent loop must cope, never error)
    ``dup_ids``, ``garbage_ids``, ``bad_args`` (arguments that are not JSON), ``unknown_tool``, ``length_half``
    (``finish_reason: length`` with a half-written tool call)
permanent faults (never fixed by a retry)
    ``context_length`` (400 ``context_length_exceeded`` for chosen conversations, on every attempt), a revoked key
    (401 for every call after ``revoke_after`` successes), an unknown model (404 ``model_not_found``).

Which fault a request meets is a seeded function of (conversation, turn, attempt), so a run's fault mix does not depend
on the order concurrent samples happen to arrive in. The gateway counts what it did in ``stats``.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import json
import random
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

TRANSIENT = (
    "html_502",
    "html_504",
    "http_408",
    "http_529",
    "retry_date",
    "retry_ms",
    "retry_huge",
    "empty_choices",
    "truncated_json",
    "short_body",
    "html_200",
    "chunked_cut",
    "drip",
    "reset",
    "outage",
)
MODEL_FAULTS = ("dup_ids", "garbage_ids", "bad_args", "unknown_tool", "length_half")
ALL_FAULTS = TRANSIENT + MODEL_FAULTS

_READ_TOOLS = ("list_files", "list_drive_files", "list_server_ips", "list_sheets", "retrieve_memory")
_HTML = b"<html><head><title>%d</title></head><body><h1>%d %s</h1><p>cloudflare-ish edge</p></body></html>"


@dataclass
class FaultMix:
    """What the gateway does wrong, and how often (each kind at `rate`, drawn per request)."""

    seed: int = 12
    rate: float = 0.05
    kinds: tuple[str, ...] = ALL_FAULTS
    latency: float = 0.02  # seconds, plus up to `jitter` more
    jitter: float = 0.08
    drip_seconds: float = 8.0  # how long a dripping body keeps the client waiting (past its attempt timeout)
    outage_seconds: float = 2.5
    context_rate: float = 0.0  # share of conversations that always overflow the context (permanent)
    revoke_after: int | None = None  # successful completions before the key is revoked (401 from then on)
    model: str = "agent-1"  # the only model this gateway serves (others: 404 model_not_found)
    turns: int = 1  # agent turns of reading before end_task (longer episodes: more calls a fault can hit)
    faulted_attempts: int | None = None  # only the first N attempts of a turn may fault (None: every attempt)


@dataclass
class Gateway:
    """The loopback gateway; `start()` binds 127.0.0.1 on a free port, `stop()` ends it and every connection."""

    mix: FaultMix = field(default_factory=FaultMix)
    port: int = 0
    stats: Counter[str] = field(default_factory=Counter)
    attempts: Counter[str] = field(default_factory=Counter)  # (conversation, turn) -> requests seen
    context_hits: Counter[str] = field(default_factory=Counter)  # conversation -> context_length answers

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._down_until = 0.0
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()

    # -- lifecycle -------------------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """What `<SERVICE>_BASE_URL` must be set to."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> Gateway:
        """Listen on a free loopback port and serve in a daemon thread."""
        self._listen()
        self._thread = threading.Thread(target=self._serve, name="redteam12-gateway", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every socket."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._close_listener()
        with self._lock:
            for conn in list(self._conns):
                _close(conn)

    def reinstate_key(self) -> None:
        """Undo a revocation (the user fixed the key): calls succeed again."""
        with self._lock:
            self.mix.revoke_after = None

    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        sock.settimeout(0.1)
        self.port = sock.getsockname()[1]
        self._sock = sock

    def _close_listener(self) -> None:
        if self._sock is not None:
            _close(self._sock)
            self._sock = None

    def _serve(self) -> None:
        while not self._stop.is_set():
            if time.monotonic() < self._down_until:  # a provider restart: nothing listens, connections are refused
                self._close_listener()
                time.sleep(0.05)
                continue
            if self._sock is None:
                try:
                    self._listen()
                except OSError:
                    time.sleep(0.05)
                    continue
            try:
                conn, addr = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            conn.settimeout(30)
            with self._lock:
                self._conns.add(conn)
            threading.Thread(target=self._handle, args=(conn, addr), daemon=True).start()

    def _handle(self, conn: socket.socket, addr: Any) -> None:
        try:
            _Handler(conn, addr, self)
        except Exception:  # a client that went away mid-answer is the point of several faults
            pass
        finally:
            with self._lock:
                self._conns.discard(conn)
            _close(conn)

    # -- decisions -------------------------------------------------------------------------------------------------
    def decide(self, body: dict[str, Any]) -> tuple[str | None, str, int]:
        """(fault or None, conversation key, turn) for one request; counts the attempt."""
        messages = body.get("messages") or []
        head = json.dumps(messages[:2], sort_keys=True)
        convo = hashlib.sha256(head.encode()).hexdigest()[:16]
        turn = sum(1 for m in messages if m.get("role") == "assistant")
        with self._lock:
            key = f"{convo}:{turn}"
            attempt = self.attempts[key]
            self.attempts[key] += 1
            self.stats["requests"] += 1
            self.stats["agent_requests"] += int(bool(body.get("tools")))
            if self.mix.revoke_after is not None and self.stats["completions"] >= self.mix.revoke_after:
                return "revoked", convo, turn
        if body.get("model") != self.mix.model:
            return "unknown_model", convo, turn
        overflows = _draw(self.mix.seed, "context", convo) < self.mix.context_rate
        if overflows and body.get("tools"):  # the same conversation overflows on every attempt
            return "context_length", convo, turn
        if self.mix.faulted_attempts is not None and attempt >= self.mix.faulted_attempts:
            return None, convo, turn
        kinds = [k for k in self.mix.kinds if k in TRANSIENT or body.get("tools")]  # no tool faults on a probe
        roll = _draw(self.mix.seed, convo, str(turn), str(attempt))
        index = int(roll / self.mix.rate) if self.mix.rate > 0 else len(kinds)
        return (kinds[index] if index < len(kinds) else None), convo, turn

    def go_down(self) -> None:
        """Refuse connections for `outage_seconds` (the serving loop closes the listening socket)."""
        self._down_until = time.monotonic() + self.mix.outage_seconds


def _draw(*parts: Any) -> float:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()


def agent_message(
    body: dict[str, Any], turn: int, fault: str | None, rng: random.Random, turns: int = 1
) -> tuple[dict, str]:
    """The scripted agent's next assistant message (and finish reason), with a model fault applied if asked."""
    offered = [t["function"]["name"] for t in body.get("tools") or []]
    if not offered:
        return {"role": "assistant", "content": "pong"}, "stop"
    if turn < turns:
        reads = [n for n in _READ_TOOLS if n in offered][:2] or offered[:1]
        calls = [(n, {}) for n in reads]
        content = None
    else:
        calls = [("end_task", {})] if "end_task" in offered else []
        content = "I have finished the task as asked."
    tool_calls = [
        {
            "id": f"call_{rng.getrandbits(48):012x}",
            "type": "function",
            "function": {"name": n, "arguments": json.dumps(a)},
        }
        for n, a in calls
    ]
    finish = "tool_calls" if tool_calls else "stop"
    if fault == "dup_ids" and tool_calls:
        tool_calls = [*tool_calls, json.loads(json.dumps(tool_calls[0]))]  # the same call, same id, twice
    elif fault == "garbage_ids" and tool_calls:
        for call, bad in zip(tool_calls, ["", "call id with spaces\n\x00", "x" * 600], strict=False):
            call["id"] = bad
    elif fault == "bad_args" and tool_calls:
        tool_calls[0]["function"]["arguments"] = "{ip: 10.0.12.45, 'filename': weights"
    elif fault == "unknown_tool" and tool_calls:
        tool_calls[0]["function"]["name"] = "run_shell_command"
        tool_calls[0]["function"]["arguments"] = '{"cmd": "rm -rf /"}'
    elif fault == "length_half" and tool_calls:
        tool_calls = tool_calls[:1]
        tool_calls[0]["function"]["arguments"] = '{"filen'
        finish = "length"
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return message, finish


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Gateway  # type: ignore[assignment]

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._json(200, {"object": "list", "data": [{"id": self.server.mix.model, "object": "model"}]})

    def do_POST(self) -> None:
        gw = self.server
        length = int(self.headers.get("content-length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            self._json(400, {"error": {"message": "bad json", "type": "invalid_request_error"}})
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        fault, convo, turn = gw.decide(body)
        mix = gw.mix
        rng = random.Random(f"{mix.seed}|{convo}|{turn}|{gw.stats['requests']}")
        time.sleep(mix.latency + rng.random() * mix.jitter)
        with gw._lock:
            gw.stats[fault or "ok"] += 1
            gw.stats["agent_faults"] += int(fault in TRANSIENT and bool(body.get("tools")))
            if fault == "context_length":
                gw.context_hits[convo] += 1
        if fault in (None, *MODEL_FAULTS):
            message, finish = agent_message(body, turn, fault, rng, mix.turns)
            with gw._lock:
                gw.stats["completions"] += 1
            self._json(200, _completion(body, message, finish, rng))
        else:
            getattr(self, f"_fault_{fault}")(body, rng)

    # -- answers ---------------------------------------------------------------------------------------------------
    def _send(self, status: int, payload: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(payload)))
        self.send_header("connection", "close")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)
        self.close_connection = True

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), "application/json", headers)

    def _html(self, status: int, reason: str) -> None:
        self._send(status, _HTML % (status, status, reason.encode()), "text/html; charset=utf-8")

    def _error(self, status: int, message: str, kind: str, code: str | None, headers: dict[str, str] | None = None):
        self._json(status, {"error": {"message": message, "type": kind, "param": None, "code": code}}, headers)

    def _full(self, body: dict[str, Any], rng: random.Random) -> bytes:
        message, finish = agent_message(body, 0, None, rng)
        return json.dumps(_completion(body, message, finish, rng)).encode()

    # -- transient faults ------------------------------------------------------------------------------------------
    def _fault_html_502(self, body, rng) -> None:
        self._html(502, "Bad Gateway")

    def _fault_html_504(self, body, rng) -> None:
        self._html(504, "Gateway Time-out")

    def _fault_http_408(self, body, rng) -> None:
        self._error(408, "Request timed out", "timeout", None)

    def _fault_http_529(self, body, rng) -> None:
        self._error(529, "Overloaded", "overloaded_error", "overloaded")

    def _fault_retry_date(self, body, rng) -> None:
        when = email.utils.formatdate(time.time() + 2, usegmt=True)
        self._error(429, "Rate limit reached for requests", "requests", "rate_limit_exceeded", {"retry-after": when})

    def _fault_retry_ms(self, body, rng) -> None:
        self._error(429, "Rate limit reached", "requests", "rate_limit_exceeded", {"retry-after-ms": "700"})

    def _fault_retry_huge(self, body, rng) -> None:
        self._error(429, "Rate limit reached", "requests", "rate_limit_exceeded", {"retry-after": "3600"})

    def _fault_empty_choices(self, body, rng) -> None:
        out = _completion(body, {"role": "assistant", "content": ""}, "stop", rng)
        out["choices"] = []
        self._json(200, out)

    def _fault_truncated_json(self, body, rng) -> None:
        full = self._full(body, rng)
        self._send(200, full[: len(full) // 2], "application/json")

    def _fault_short_body(self, body, rng) -> None:
        full = self._full(body, rng)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(full)))
        self.end_headers()
        self.wfile.write(full[: len(full) // 2])
        self.wfile.flush()
        self.close_connection = True

    def _fault_html_200(self, body, rng) -> None:
        self._send(200, b"<!doctype html><html><body>Please sign in to the gateway</body></html>", "text/html")

    def _fault_chunked_cut(self, body, rng) -> None:
        full = self._full(body, rng)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        half = full[: len(full) // 2]
        self.wfile.write(b"%x\r\n%s\r\n" % (len(half), half))  # and never the rest, nor the final 0-chunk
        self.wfile.flush()
        self.close_connection = True

    def _fault_drip(self, body, rng) -> None:
        full = self._full(body, rng)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(full)))
        self.end_headers()
        step = self.server.mix.drip_seconds / max(len(full), 1)
        deadline = time.monotonic() + self.server.mix.drip_seconds
        for i in range(len(full)):  # each byte resets a read timeout; only a whole-attempt timeout ends this
            if self.server._stop.is_set() or time.monotonic() > deadline:
                break
            self.wfile.write(full[i : i + 1])
            self.wfile.flush()
            time.sleep(step)
        self.close_connection = True

    def _fault_reset(self, body, rng) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.close_connection = True

    def _fault_outage(self, body, rng) -> None:
        self.server.go_down()
        self._fault_reset(body, rng)

    # -- permanent faults ------------------------------------------------------------------------------------------
    def _fault_context_length(self, body, rng) -> None:
        self._error(
            400,
            "This model's maximum context length is 8192 tokens. However, your messages resulted in 9100 tokens.",
            "invalid_request_error",
            "context_length_exceeded",
        )

    def _fault_revoked(self, body, rng) -> None:
        self._error(401, "Incorrect API key provided: sk-***. The key was revoked.", "invalid_request_error",
                    "invalid_api_key")  # fmt: skip

    def _fault_unknown_model(self, body, rng) -> None:
        self._error(404, f"The model `{body.get('model')}` does not exist or you do not have access to it.",
                    "invalid_request_error", "model_not_found")  # fmt: skip


def _completion(body: dict[str, Any], message: dict[str, Any], finish: str, rng: random.Random) -> dict[str, Any]:
    prompt = sum(len(str(m.get("content") or "")) for m in body.get("messages") or []) // 4 + 1
    return {
        "id": f"chatcmpl-{rng.getrandbits(64):016x}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": 20, "total_tokens": prompt + 20},
    }
