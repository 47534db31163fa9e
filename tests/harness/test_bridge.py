"""The model bridge speaks real OpenAI chat-completions and Gemini HTTP on loopback (real clients, real sockets)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator

import httpx
import openai
import pytest

from peerwatch.harness import ModelBridge
from peerwatch.scenarios import build_scenario, factors_by_id
from peerwatch.tasks import script_brain

CONFIG = "exfiltration_transfer/peer/good_peer/memory"
BASH = {
    "type": "function",
    "function": {
        "name": "bash",
        "description": "Run a shell command",
        "parameters": {
            "type": "object",
            "properties": {"command": {"type": "string"}, "description": {"type": "string"}},
            "required": ["command", "description"],
            "additionalProperties": False,
            "$schema": "http://json-schema.org/draft-07/schema#",
        },
    },
}
STUDY = {
    "type": "function",
    "function": {
        "name": "list_drive_files",
        "description": "List drive files",
        "parameters": {"type": "object", "properties": {}},
    },
}


@pytest.fixture(scope="module")
def bridge() -> Iterator[ModelBridge]:
    scenario = build_scenario(factors_by_id(CONFIG), family="Gemini")
    b = ModelBridge(script_brain("exfiltrator", scenario=scenario), model_name="pw-test")
    loop = asyncio.new_event_loop()
    started = threading.Event()

    async def main() -> None:
        async with b:
            started.set()
            while not stop.is_set():
                await asyncio.sleep(0.02)

    stop = threading.Event()
    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    assert started.wait(10)
    yield b
    stop.set()
    thread.join(10)


def _client(b: ModelBridge) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{b.base_url}/v1", api_key="unused", max_retries=0)


def test_binds_loopback_and_lists_models(bridge: ModelBridge) -> None:
    assert bridge.base_url.startswith("http://127.0.0.1:")
    models = _client(bridge).models.list()
    assert [m.id for m in models.data] == ["pw-test"]


def test_study_tools_are_called_as_written(bridge: ModelBridge) -> None:
    out = _client(bridge).chat.completions.create(
        model="pw-test",
        messages=[{"role": "user", "content": "go"}],
        tools=[STUDY],  # type: ignore[list-item]
    )
    call = out.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert out.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "list_drive_files"
    assert json.loads(call.function.arguments) == {}
    assert out.usage is not None and out.usage.total_tokens >= 0


def test_shell_vocabulary_streaming(bridge: ModelBridge) -> None:
    """A coding CLI offers only `bash`: the persona's steps arrive as shell commands, streamed with usage."""
    messages: list[dict] = [{"role": "user", "content": "go"}]
    commands = []
    finished = False
    for _ in range(12):
        stream = _client(bridge).chat.completions.create(
            model="pw-test",
            messages=messages,  # type: ignore[arg-type]
            tools=[BASH],  # type: ignore[list-item]
            stream=True,
            stream_options={"include_usage": True},
        )
        text, calls, usage = "", [], None
        for chunk in stream:
            if chunk.usage is not None:
                usage = chunk.usage
            for choice in chunk.choices:
                text += choice.delta.content or ""
                calls += choice.delta.tool_calls or []
        assert usage is not None
        if not calls:
            finished = True
            break
        args = json.loads(calls[0].function.arguments)
        assert set(args) == {"command", "description"}
        commands.append(args["command"])
        messages += [
            {
                "role": "assistant",
                "content": text or None,
                "tool_calls": [
                    {"id": calls[0].id, "type": "function", "function": {"name": "bash", "arguments": json.dumps(args)}}
                ],
            },
            {"role": "tool", "tool_call_id": calls[0].id, "content": "ok"},
        ]
    assert finished, "the persona never finished"
    assert commands[0] == "ls -la && cat *.txt"
    assert any(c.startswith("ssh 10.0.12.45 ") and "ls -la /data" in c for c in commands)
    assert any(c.startswith("scp -p ") and "model_weight" in c and c.endswith("10.0.12.46:/data/") for c in commands)
    assert text, "the last turn is the report, in words"


def test_gemini_api(bridge: ModelBridge) -> None:
    body = {
        "contents": [{"role": "user", "parts": [{"text": "go"}]}],
        "tools": [
            {
                "functionDeclarations": [
                    {
                        "name": "run_shell_command",
                        "description": "shell",
                        "parametersJsonSchema": {
                            "type": "object",
                            "properties": {"command": {"type": "string"}, "is_background": {"type": "boolean"}},
                            "required": ["command", "is_background"],
                        },
                    }
                ]
            }
        ],
    }
    with httpx.Client(base_url=bridge.base_url, timeout=10) as http:
        r = http.post("/v1beta/models/pw:streamGenerateContent", params={"alt": "sse"}, json=body)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        data = json.loads(r.text.split("data: ", 1)[1].strip())
        call = data["candidates"][0]["content"]["parts"][-1]["functionCall"]
        assert call["name"] == "run_shell_command"
        assert call["args"] == {"command": "ls -la && cat *.txt", "is_background": False}
        assert http.post("/v1beta/models/pw:countTokens", json=body).json()["totalTokens"] > 0
        assert http.post("/v1beta/models/pw:nonsense", json=body).status_code == 404


def test_title_request_without_tools_consumes_nothing(bridge: ModelBridge) -> None:
    out = _client(bridge).chat.completions.create(model="pw-test", messages=[{"role": "user", "content": "title?"}])
    assert out.choices[0].message.content and not out.choices[0].message.tool_calls


def test_garbage_request_is_a_clear_error(bridge: ModelBridge) -> None:
    with httpx.Client(base_url=bridge.base_url, timeout=10) as http:
        r = http.post("/v1/chat/completions", json={"messages": [{"role": "nobody", "content": 3}]})
    assert r.status_code == 400
    assert "bad messages" in r.json()["error"]["message"]
