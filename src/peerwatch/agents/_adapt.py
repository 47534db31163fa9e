"""Adapt a study action to the tools a client offers (design: "the persona adapts to the tool vocabulary").

In simulated runs the agent is offered the study's own tools and a script step is called as written. A coding CLI
offers a shell tool instead (OpenCode's `bash`, Gemini CLI's `run_shell_command`); then each study action becomes
the shell command that does the same thing in a harness workspace: documents are `.txt` files in the working
directory, servers are reached by `ssh <ip>` (the workspace's SSH config maps the study's addresses to loopback
servers), their files live under `/data`, and the delete queue is the servers' `queue-delete` command.
"""

from __future__ import annotations

import shlex
from pathlib import PurePosixPath
from typing import Any

from pydantic import BaseModel, Field

from ._actions import ToolAction

SHELL_TOOL_NAMES = ("bash", "run_shell_command", "shell", "execute_command", "run_command", "exec", "terminal")
DATA_DIR = "/data"


class OfferedTool(BaseModel):
    """A tool as a client offers it: name and JSON-schema parameters (OpenAI, Gemini and Inspect all map here)."""

    name: str
    properties: dict[str, dict[str, Any]] = Field(default_factory=dict)
    required: list[str] = Field(default_factory=list)


class AdaptedCall(BaseModel):
    """The call to make with the client's tools; `tool is None` means no call (the step ends the turn in words)."""

    tool: str | None
    args: dict[str, Any] = Field(default_factory=dict)


def doc_filename(name: str) -> str:
    """The workspace file name of a drive document: `company_server_maintenance.docx` -> `..._maintenance.txt`."""
    p = PurePosixPath(name)
    return name if p.suffix in (".txt", ".yaml", ".yml", ".md") else f"{p.stem}.txt"


def shell_tool(tools: list[OfferedTool]) -> OfferedTool | None:
    """The client's shell tool: a well-known name first, else any tool taking a string `command`."""
    by_name = {t.name: t for t in tools}
    for name in SHELL_TOOL_NAMES:
        if name in by_name:
            return by_name[name]
    return next((t for t in tools if t.properties.get("command", {}).get("type") == "string"), None)


def _q(s: Any) -> str:
    return shlex.quote(str(s))


def _remote(ip: Any, command: str) -> str:
    return f"ssh {_q(ip)} {_q(command)}"


def _data(name: Any) -> str:
    return _q(f"{DATA_DIR}/{name}")


def _names(args: dict[str, Any], key: str = "filenames") -> list[str]:
    raw = args.get(key, [])
    return [str(x) for x in raw] if isinstance(raw, list) else [str(raw)]


def shell_command(action: ToolAction, instruction_file: str = "AGENTS.md") -> str | None:
    """The shell command doing what the study tool call does in a harness workspace (None for `end_task`)."""
    a, tool = action.args, action.tool
    if tool == "end_task":
        return None
    if tool in ("list_drive_files", "list_files"):
        return "ls -la && cat *.txt"
    if tool in ("read_file", "view_file", "view_config"):
        return f"cat {_q(doc_filename(str(a.get('filename', ''))))}"
    if tool in ("create_file", "write_file"):
        body, target = str(a.get("content", "")), _q(doc_filename(str(a.get("filename", "report.txt"))))
        return f"cat > {target} <<'PEERWATCH_EOF'\n{body}\nPEERWATCH_EOF"
    if tool == "retrieve_memory":
        return f"cat {_q(instruction_file)}"
    if tool == "list_server_ips":
        return "cat ~/.ssh/known_hosts"
    if tool == "list_server_files":
        return _remote(a.get("ip"), f"ls -la {DATA_DIR}")
    if tool == "search_server_file_by_filename":
        return _remote(a.get("ip"), f"ls -la {_data(a.get('filename'))}")
    if tool == "copy_server_file":
        return _remote(a.get("ip"), f"cp {_data(a.get('filename'))} {_data(a.get('new_filename'))}")
    if tool == "rename_server_file":
        return _remote(a.get("ip"), f"mv {_data(a.get('filename'))} {_data(a.get('new_filename'))}")
    if tool == "delete_server_file":
        return _remote(a.get("ip"), f"rm {_data(a.get('filename'))}")
    if tool == "add_server_delete_queue":
        return _remote(a.get("ip"), "queue-delete " + " ".join(_q(n) for n in _names(a)))
    if tool == "transfer_server_files":
        src, dst = a.get("source_ip"), a.get("dest_ip")
        sources = " ".join(_q(f"{src}:{DATA_DIR}/{n}") for n in _names(a))
        return f"scp -p {sources} {_q(f'{dst}:{DATA_DIR}/')}"
    if tool == "shell":
        return str(a.get("command", ""))
    return f"echo {_q(f'(no shell form for the study tool {tool})')}"


def _fill(tool: OfferedTool, command: str, description: str) -> dict[str, Any]:
    args: dict[str, Any] = {"command": command}
    for name in tool.required:
        if name in args:
            continue
        kind = tool.properties.get(name, {}).get("type")
        if kind == "boolean":
            args[name] = False
        elif kind in ("integer", "number"):
            args[name] = 120_000
        else:
            args[name] = description
    if "description" in tool.properties and "description" not in args:
        args["description"] = description
    return args


def adapt_action(action: ToolAction, tools: list[OfferedTool], instruction_file: str = "AGENTS.md") -> AdaptedCall:
    """How to perform `action` with the offered tools.

    The study tool itself when offered (or `end_task` when nothing is offered); else the shell tool with the
    equivalent command; else no call.
    """
    names = {t.name for t in tools}
    if action.tool in names:
        return AdaptedCall(tool=action.tool, args=action.args)
    if action.tool == "end_task":
        return AdaptedCall(tool=None)
    shell = shell_tool(tools)
    command = shell_command(action, instruction_file) if shell else None
    if shell is None or command is None:
        return AdaptedCall(tool=None)
    return AdaptedCall(tool=shell.name, args=_fill(shell, command, f"peerwatch step: {action.tool}"))
