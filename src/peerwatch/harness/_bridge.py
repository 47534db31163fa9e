"""An OpenAI-compatible (and Gemini-API) model server on loopback whose answers come from a "brain".

The brain is any async function from (Inspect messages, Inspect tools) to an Inspect `ModelOutput`: a persona or an
action script (`peerwatch serve-model`), or an Inspect model (`peerwatch harness`, where every turn of the agent CLI
then shows up as a model event in the Inspect log). Endpoints:

- `GET /v1/models`, `POST /v1/chat/completions` (streaming and not, tool calls, `stream_options.include_usage`);
- `POST /v1beta/models/{model}:generateContent`, `:streamGenerateContent` (`alt=sse`), `:countTokens` - the Gemini
  API, for Gemini CLI (`GOOGLE_GEMINI_BASE_URL`).

The server binds 127.0.0.1 only - in harness mode the 127.0.0.1 of the run's network namespace (`netns`), the only
place its agent can reach and the only agent that can reach it. It keeps the longest conversation it has seen, which
becomes the episode's transcript.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, get_args

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
    ModelOutput,
    messages_from_openai,
)
from inspect_ai.tool import ToolCall, ToolInfo, ToolParam, ToolParams
from inspect_ai.util import JSONType

if TYPE_CHECKING:
    from ._netns import NetNamespace

Brain = Callable[[list[ChatMessage], list[ToolInfo]], Awaitable[ModelOutput]]
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def _param(schema: Any) -> ToolParam:
    if not isinstance(schema, dict):
        return ToolParam()
    schema = {k: v for k, v in schema.items() if k in ToolParam.model_fields}
    if isinstance(schema.get("type"), str):
        schema["type"] = schema["type"].lower()
    try:
        return ToolParam.model_validate(schema)
    except ValueError:
        kind = schema.get("type")
        known = next((t for t in get_args(JSONType) if t == kind), None)  # an unknown type name degrades to none
        return ToolParam(type=known, description=str(schema.get("description", "")))


def tool_info(name: str, description: str, parameters: Any) -> ToolInfo:
    """An Inspect `ToolInfo` from a JSON-schema tool declaration; odd schemas degrade rather than fail."""
    params = parameters if isinstance(parameters, dict) else {}
    declared = params.get("properties")
    props: dict[str, Any] = declared if isinstance(declared, dict) else {}
    required = [r for r in params.get("required", []) if isinstance(r, str) and r in props]
    return ToolInfo(
        name=name,
        description=description or name,
        parameters=ToolParams(properties={k: _param(v) for k, v in props.items()}, required=required),
    )


def _usage(output: ModelOutput) -> dict[str, int]:
    u = output.usage
    inp, out = (u.input_tokens, u.output_tokens) if u else (0, 0)
    return {"prompt_tokens": inp, "completion_tokens": out, "total_tokens": inp + out}


def _assistant(output: ModelOutput) -> ChatMessageAssistant:
    return output.message if output.choices else ChatMessageAssistant(content="")


def _openai_calls(message: ChatMessageAssistant) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id or f"call_{i}",
            "type": "function",
            "function": {"name": c.function, "arguments": json.dumps(c.arguments)},
        }
        for i, c in enumerate(message.tool_calls or [])
    ]


class ModelBridge:
    """The HTTP server. Use `async with ModelBridge(brain) as bridge:` inside an event loop, or `serve()`."""

    def __init__(
        self, brain: Brain, model_name: str = "peerwatch", port: int | None = None, netns: NetNamespace | None = None
    ) -> None:
        """`netns`: the harness run's network namespace, where the listening socket is made (None: the host's)."""
        self.brain, self.model_name = brain, model_name
        self.netns = netns
        self.port = port or free_port()
        self._fixed_port = port is not None
        self.conversation: list[ChatMessage] = []
        self.requests = 0
        self.errors: list[str] = []
        self._lock = asyncio.Lock()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.app = self._build_app()

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT` (OpenAI clients add `/v1`)."""
        return f"http://{LOOPBACK}:{self.port}"

    async def _think(self, messages: list[ChatMessage], tools: list[ToolInfo]) -> ModelOutput:
        async with self._lock:  # one turn at a time: scripts and personas are sequential
            self.requests += 1
            try:
                output = await self.brain(messages, tools)
            except Exception as exc:  # the client gets an API error; the run records it
                self.errors.append(" ".join(f"{type(exc).__name__}: {exc}".split()))
                raise
            if tools and len(messages) + 1 >= len(self.conversation):
                self.conversation = [*messages, _assistant(output)]
            return output

    # --- OpenAI ------------------------------------------------------------------------------------------------------

    async def _chat(self, request: Request) -> Any:
        body = await request.json()
        try:
            messages = await messages_from_openai(body.get("messages", []), model=self.model_name)
        except Exception as exc:
            return JSONResponse({"error": {"message": f"bad messages: {exc}", "type": "invalid_request"}}, 400)
        tools = [
            tool_info(f.get("name", ""), f.get("description", ""), f.get("parameters"))
            for t in body.get("tools") or []
            if isinstance(f := t.get("function"), dict)
        ]
        try:
            output = await self._think(messages, tools)
        except Exception as exc:
            return JSONResponse({"error": {"message": str(exc), "type": "server_error"}}, 500)
        message = _assistant(output)
        calls = _openai_calls(message)
        finish = "tool_calls" if calls else "stop"
        ident, created = f"chatcmpl-{uuid.uuid4().hex[:12]}", int(time.time())
        model = body.get("model") or self.model_name
        if not body.get("stream"):
            msg: dict[str, Any] = {"role": "assistant", "content": message.text or None}
            if calls:
                msg["tool_calls"] = calls
            return {
                "id": ident,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "message": msg, "finish_reason": finish}],
                "usage": _usage(output),
            }
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> str:
            data = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
                **extra,
            }
            return f"data: {json.dumps(data)}\n\n"

        async def events() -> AsyncIterator[str]:
            yield chunk({"role": "assistant", "content": ""})
            if message.text:
                yield chunk({"content": message.text})
            for i, c in enumerate(calls):
                yield chunk({"tool_calls": [{"index": i, **c}]})
            yield chunk({}, finish)
            if include_usage:
                data = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model}
                yield f"data: {json.dumps({**data, 'choices': [], 'usage': _usage(output)})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    # --- Gemini ------------------------------------------------------------------------------------------------------

    async def _gemini(self, spec: str, request: Request) -> Any:
        model, _, method = spec.partition(":")
        body = await request.json()
        if method == "countTokens":
            return {"totalTokens": max(1, len(json.dumps(body)) // 4)}
        if method not in ("generateContent", "streamGenerateContent"):
            return JSONResponse({"error": {"code": 404, "message": f"unknown method {method}"}}, 404)
        messages = gemini_messages(body)
        tools = [
            tool_info(d.get("name", ""), d.get("description", ""), d.get("parametersJsonSchema") or d.get("parameters"))
            for t in body.get("tools") or []
            for d in t.get("functionDeclarations") or []
        ]
        try:
            output = await self._think(messages, tools)
        except Exception as exc:
            return JSONResponse({"error": {"code": 500, "message": str(exc), "status": "INTERNAL"}}, 500)
        message = _assistant(output)
        parts: list[dict[str, Any]] = [{"text": message.text}] if message.text else []
        parts += [
            {"functionCall": {"name": c.function, "args": c.arguments, "id": c.id}} for c in message.tool_calls or []
        ]
        u = _usage(output)
        data = {
            "candidates": [{"content": {"role": "model", "parts": parts or [{"text": ""}]}, "finishReason": "STOP"}],
            "usageMetadata": {
                "promptTokenCount": u["prompt_tokens"],
                "candidatesTokenCount": u["completion_tokens"],
                "totalTokenCount": u["total_tokens"],
            },
            "modelVersion": model,
        }
        if method == "generateContent":
            return data

        async def events() -> AsyncIterator[str]:
            yield f"data: {json.dumps(data)}\r\n\r\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="peerwatch model server", docs_url=None, redoc_url=None, openapi_url=None)

        @app.get("/v1/models")
        async def models() -> dict[str, Any]:
            return {
                "object": "list",
                "data": [{"id": self.model_name, "object": "model", "created": 0, "owned_by": "peerwatch"}],
            }

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> Any:
            return await self._chat(request)

        @app.post("/v1beta/models/{spec:path}")
        async def gemini(spec: str, request: Request) -> Any:
            return await self._gemini(spec, request)

        @app.get("/health")
        async def health() -> dict[str, str]:
            return {"status": "ok"}

        return app

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(self.app, host=LOOPBACK, port=self.port, log_level="warning", lifespan="off")

    async def __aenter__(self) -> ModelBridge:
        # Bound here and handed to uvicorn: no other slot or process can take the port between pick and listen. In
        # a run's namespace the socket is made there (by a thread that entered it) and stays there; the event loop
        # serves it from the host side.
        sock = self._bind() if self.netns is None else self.netns.call(self._bind)
        self.port = int(sock.getsockname()[1])
        self._server = uvicorn.Server(self._config())
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises the startup error (e.g. port taken)
                raise RuntimeError(f"model server did not start on {self.base_url}")
            await asyncio.sleep(0.02)
        return self

    def _bind(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, self.port))
        except OSError:
            if self._fixed_port:
                sock.close()
                raise
            sock.bind((LOOPBACK, 0))
        return sock

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            await self._task

    def serve(self) -> None:
        """Serve in the foreground until Ctrl-C."""
        uvicorn.Server(self._config()).run()


def gemini_messages(body: dict[str, Any]) -> list[ChatMessage]:
    """Inspect messages from a Gemini `generateContent` request (text, functionCall, functionResponse parts)."""
    out: list[ChatMessage] = []
    system = body.get("systemInstruction") or body.get("system_instruction")
    if isinstance(system, dict):
        text = "\n".join(p.get("text", "") for p in system.get("parts", []) if isinstance(p, dict))
        if text:
            out.append(ChatMessageSystem(content=text))
    pending: list[str] = []
    for n, content in enumerate(body.get("contents") or []):
        parts = [p for p in content.get("parts", []) if isinstance(p, dict)]
        text = "\n".join(p["text"] for p in parts if isinstance(p.get("text"), str) and not p.get("thought"))
        if content.get("role") == "model":
            calls = []
            for i, p in enumerate(parts):
                if isinstance(fc := p.get("functionCall"), dict):
                    cid = fc.get("id") or f"gc_{n}_{i}"
                    pending.append(cid)
                    calls.append(ToolCall(id=cid, function=fc.get("name", ""), arguments=fc.get("args") or {}))
            out.append(ChatMessageAssistant(content=text, tool_calls=calls or None))
            continue
        responses = [p["functionResponse"] for p in parts if isinstance(p.get("functionResponse"), dict)]
        for fr in responses:
            cid = fr.get("id") or (pending.pop(0) if pending else None)
            result = fr.get("response")
            out.append(
                ChatMessageTool(
                    content=result if isinstance(result, str) else json.dumps(result),
                    tool_call_id=cid,
                    function=fr.get("name"),
                )
            )
        if text:
            out.append(ChatMessageUser(content=text))
    return out
