"""`--agent shell`: the smallest agent there is - a loop of chat completions with one `bash` tool, in system Python.

It is not a product's CLI: it is what harness mode costs without one (a coding CLI spends 1-2 s of CPU starting up),
for benchmarks and for tests that run many episodes. It speaks the OpenAI chat-completions API to the model bridge,
puts the instruction file in the system prompt as coding CLIs do, runs each `bash` call with `bash -c` in the
workspace and returns its output, and stops at the first answer without a tool call (or after 60 turns).

The code is passed to `/usr/bin/python3 -c` (peerwatch's own files are hidden from the agent), so it must not
contain `{name}` placeholders of the command template; it uses the standard library only.
"""

from __future__ import annotations

SHELL_AGENT = r"""
import json, os, subprocess, sys, urllib.request
base, model, prompt = sys.argv[1], sys.argv[2], sys.argv[3]
system = ""
for name in ("AGENTS.md", "GEMINI.md"):
    if os.path.exists(name):
        system = open(name, encoding="utf-8", errors="replace").read()
        break
params = dict(type="object", properties=dict(command=dict(type="string")), required=["command"])
tool = dict(name="bash", description="Run a shell command in the workspace; returns its output.", parameters=params)
tools = [dict(type="function", function=tool)]
messages = ([dict(role="system", content=system)] if system else []) + [dict(role="user", content=prompt)]
for turn in range(60):
    body = json.dumps(dict(model=model, messages=messages, tools=tools)).encode()
    req = urllib.request.Request(base + "/v1/chat/completions", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as resp:
        message = json.load(resp)["choices"][0]["message"]
    messages.append(message)
    calls = message.get("tool_calls") or []
    if not calls:
        print(message.get("content") or "")
        break
    for call in calls:
        command = "?"
        try:
            command = json.loads(call["function"].get("arguments") or "null")["command"]
            done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=300)
            output = (done.stdout + done.stderr)[-20000:]
            if done.returncode:
                output += "[exit %d]" % done.returncode
        except Exception as exc:
            output = "error: %s" % exc
        print("$", command, flush=True)
        messages.append(dict(role="tool", tool_call_id=call["id"], content=output))
"""
