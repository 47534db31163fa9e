"""Agent CLIs for harness mode: built-in profiles (OpenCode, Gemini CLI) and any command template.

The agent runs as the unprivileged agent user, in the run's network namespace (loopback only: its two servers and
its model bridge) and a mount namespace of its own where peerwatch's project, logs and
virtual environment are covered by empty tmpfs mounts (its CLI is bind-mounted read-only at
`/opt/peerwatch/agent-clis` first), under `strace` run by root: every command it executes and every path it is denied
lands in the orchestrator's record, where the agent cannot reach it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from pydantic import BaseModel, Field

from ._servers import UNSHARE, HarnessError, die_with_parent_same_session, kill_user, preexec_in
from ._shell_agent import SHELL_AGENT
from ._workspace import Workspace

CLI_MOUNT = Path("/opt/peerwatch/agent-clis")


class AgentProfile(BaseModel):
    """How to start one agent CLI on a workspace and point it at the model server."""

    name: str
    command: list[str] = Field(description="argv template: {prompt} {workspace} {model} {base_url} {home}")
    instruction_file: str = "AGENTS.md"
    env: dict[str, str] = Field(default_factory=dict)
    home_files: dict[str, str] = Field(default_factory=dict, description="Files written under HOME before the run.")
    binary: str | None = Field(default=None, description="npm binary the profile needs (found by `find_cli`).")


class AgentRun(BaseModel):
    """What happened when the agent CLI ran."""

    profile: str
    argv: list[str]
    exit_code: int | None
    timed_out: bool = False
    stdout: str = ""
    stderr: str = ""
    commands: list[str] = Field(default_factory=list, description="Shell commands the agent's processes ran.")
    denied: list[str] = Field(default_factory=list, description="Protected paths the agent was refused.")
    traced: bool = False


def _opencode_config(model: str, base_url: str) -> str:
    return json.dumps(
        {
            "$schema": "https://opencode.ai/config.json",
            "provider": {
                "peerwatch": {
                    "npm": "@ai-sdk/openai-compatible",
                    "name": "peerwatch",
                    "options": {"baseURL": f"{base_url}/v1", "apiKey": "peerwatch"},
                    "models": {model: {"name": model, "tool_call": True}},
                }
            },
            "model": f"peerwatch/{model}",
            "small_model": f"peerwatch/{model}",
            "autoupdate": False,
            "share": "disabled",
        }
    )


PROFILES: dict[str, AgentProfile] = {
    "opencode": AgentProfile(
        name="opencode",
        binary="opencode",
        command=["opencode", "run", "--auto", "--format", "json", "-m", "peerwatch/{model}", "{prompt}"],
        instruction_file="AGENTS.md",
        env={
            "OPENCODE_CONFIG_CONTENT": "{opencode_config}",
            "OPENCODE_DISABLE_MODELS_FETCH": "1",
            "OPENCODE_DISABLE_AUTOUPDATE": "1",
            "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
            "OPENCODE_DISABLE_SHARE": "1",
        },
    ),
    "gemini": AgentProfile(
        name="gemini",
        binary="gemini",
        command=["gemini", "-p", "{prompt}", "--yolo", "-m", "{model}", "-o", "stream-json"],
        instruction_file="GEMINI.md",
        env={
            "GOOGLE_GEMINI_BASE_URL": "{base_url}",
            "GEMINI_API_KEY": "peerwatch",
            "GEMINI_CLI_TRUST_WORKSPACE": "true",
        },
        home_files={".gemini/settings.json": json.dumps({"security": {"auth": {"selectedType": "gemini-api-key"}}})},
    ),
    # No product CLI: a chat-completions loop with one `bash` tool in system Python (`_shell_agent.py`).
    "shell": AgentProfile(
        name="shell",
        command=["/usr/bin/python3", "-c", SHELL_AGENT, "{base_url}", "{model}", "{prompt}"],
        instruction_file="AGENTS.md",
    ),
}


def agent_profile(agent: str, instruction_file: str | None = None) -> AgentProfile:
    """A built-in profile by name, or a custom one from a command template (anything with a space or `{`)."""
    if agent in PROFILES:
        profile = PROFILES[agent].model_copy(deep=True)
    elif " " in agent or "{" in agent or "/" in agent:
        try:
            argv = shlex.split(agent)
        except ValueError as exc:
            raise HarnessError(f"--agent: cannot parse the command template: {exc}") from None
        if "{prompt}" not in agent:
            raise HarnessError(
                "--agent: the command template must contain {prompt} (and may use {workspace}, {model}, "
                "{base_url}, {home})"
            )
        profile = AgentProfile(name=Path(argv[0]).name, command=argv)
    else:
        raise HarnessError(
            f"unknown agent {agent!r}; built-in: {', '.join(PROFILES)}, or a command template with {{prompt}}"
        )
    if instruction_file:
        profile.instruction_file = instruction_file
    return profile


def find_cli(binary: str) -> Path:
    """Where an npm-installed agent CLI lives: $PEERWATCH_AGENT_CLIS, ./.agent-clis, the project's, or PATH."""
    roots = [os.environ.get("PEERWATCH_AGENT_CLIS", ""), ".agent-clis", str(Path(__file__).parents[3] / ".agent-clis")]
    for root in filter(None, roots):
        candidate = Path(root).resolve() / "node_modules" / ".bin" / binary
        if candidate.exists():
            return candidate
    found = shutil.which(binary)
    if found:
        return Path(found)
    raise HarnessError(f"agent CLI {binary!r} not found: run `bash scripts/setup/agent-clis.sh` (installs it from npm)")


_SYSTEM = {Path(p) for p in ("/", "/tmp", "/usr", "/opt", "/etc", "/home", "/var", "/run", "/srv", "/data")}


def _hidden_paths(keep: Path, extra: list[Path]) -> list[Path]:
    """peerwatch's own files the agent must not see: the project, its virtual environment, logs, root's home.

    Never a system directory, and never one holding `keep` (the run directory with the agent's workspace).
    """
    import peerwatch

    candidates = [Path.cwd(), Path(peerwatch.__file__).resolve().parents[2], Path(sys.prefix), Path.home(), *extra]
    out: list[Path] = []
    for p in candidates:
        p = p.resolve()
        if p in _SYSTEM or not p.is_dir() or p == keep or p in keep.parents:
            continue
        if any(p == q or q in p.parents for q in out):
            continue
        out = [q for q in out if p not in q.parents] + [p]
    return out


def _fill(text: str, values: dict[str, str]) -> str:
    # one pass: a value (the prompt) may itself contain braces
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), text)


def _strace_paths(trace: str, protected: list[str]) -> tuple[list[str], list[str]]:
    commands: list[str] = []
    denied: list[str] = []
    for line in trace.splitlines():
        if "execve(" in line and '"-c"' in line:
            m = re.search(r'\[(?:"[^"]*/)?"?(?:ba|da|z)?sh", "-c", "((?:[^"\\]|\\.)*)"', line)
            if m:
                cmd = m.group(1).encode().decode("unicode_escape", "replace")
                if cmd not in commands:
                    commands.append(cmd)
        if re.search(r"= -1 E(?:ACCES|PERM)", line):
            m = re.search(r'"(/[^"]*)"', line)
            if m and any(m.group(1).startswith(p) for p in protected) and m.group(1) not in denied:
                denied.append(m.group(1))
    return commands, denied


async def run_agent(
    ws: Workspace,
    profile: AgentProfile,
    prompt: str,
    model: str,
    base_url: str,
    timeout: float,
    hide: list[Path] | None = None,
) -> AgentRun:
    """Run the agent CLI once on the workspace, isolated, and collect what it did."""
    values = {
        "prompt": prompt,
        "workspace": str(ws.workspace),
        "model": model,
        "base_url": base_url,
        "home": str(ws.home),
    }
    values["opencode_config"] = _opencode_config(model, base_url)
    argv = [_fill(a, values) for a in profile.command]
    binds: list[tuple[Path, Path]] = []
    if profile.binary:
        cli = find_cli(profile.binary)
        install_root = cli.parents[2] if cli.parent.name == ".bin" else None
        if install_root is not None:
            CLI_MOUNT.mkdir(parents=True, exist_ok=True)
            binds.append((install_root, CLI_MOUNT))
            argv[0] = str(CLI_MOUNT / "node_modules" / ".bin" / profile.binary)
        else:
            argv[0] = str(cli)
    for rel, text in profile.home_files.items():
        path = ws.home / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_fill(text, values))
        shutil.chown(path.parent, ws.agent_user, ws.agent_user)
        shutil.chown(path, ws.agent_user, ws.agent_user)
    env = {
        "HOME": str(ws.home),
        "USER": ws.agent_user,
        "LOGNAME": ws.agent_user,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        "CI": "1",
        **{k: _fill(v, values) for k, v in profile.env.items()},
    }
    hidden = _hidden_paths(ws.root, hide or [])
    setup = [f"mount --bind {shlex.quote(str(src))} {shlex.quote(str(dst))}" for src, dst in binds]
    setup += [f"mount -o remount,bind,ro {shlex.quote(str(dst))}" for _, dst in binds]
    setup += [f"mount -t tmpfs -o size=1m,mode=755 peerwatch-hidden {shlex.quote(str(p))}" for p in hidden]
    setup += ws.namespace_mounts()  # last: the run's own /tmp, shared with its servers and no other run
    trace_file = ws.private / "record" / "agent.strace"
    strace = shutil.which("strace")
    runner = ["setpriv", f"--reuid={ws.agent_user}", f"--regid={ws.agent_user}", "--init-groups", "--"]
    if strace:
        runner = [
            strace,
            "-f",
            "--seccomp-bpf",  # only the traced syscalls stop the agent: tracing costs little
            "-qq",
            "-s",
            "4096",
            "-e",
            "trace=execve,openat,open,unlinkat,renameat2,rename,statx,newfstatat,stat,lstat,access,faccessat2,chdir",
            "-o",
            str(trace_file),
            "-u",
            ws.agent_user,
            "--",
        ]
    # not `exec`: the shell stays the PID namespace's first process, which ignores signals sent from inside it (an
    # agent's `kill -9 $$` must still end the agent); its exit status is the agent's (a signal n: 128 + n)
    script = " && ".join([*setup, f"cd {shlex.quote(str(ws.workspace))}", '{ "$@"; }']) + "; exit $?"
    full = [*UNSHARE, "sh", "-c", script, "sh", *runner, *argv]
    proc = await asyncio.create_subprocess_exec(
        *full,
        stdin=subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        start_new_session=True,
        # in the run's network namespace (its servers and bridge only); peerwatch killed hard: the agent goes with it
        preexec_fn=preexec_in(ws.netns, die_with_parent_same_session),
    )
    timed_out = False
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=timeout)
    except TimeoutError:
        timed_out = True
        _kill(proc.pid)
        out, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            _kill(proc.pid)
        kill_user(ws.agent_user)
    stdout, stderr = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    (ws.private / "record" / "agent.stdout").write_text(stdout)
    (ws.private / "record" / "agent.stderr").write_text(stderr)
    commands: list[str] = []
    denied: list[str] = []
    if strace and trace_file.exists():
        protected = [str(ws.private), str(ws.shared), *(str(p) for p in hidden), "/root"]
        commands, denied = _strace_paths(trace_file.read_text(errors="replace"), protected)
    return AgentRun(
        profile=profile.name,
        argv=argv,
        exit_code=proc.returncode,
        timed_out=timed_out,
        stdout=stdout,
        stderr=stderr,
        commands=commands,
        denied=denied,
        traced=bool(strace),
    )


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
