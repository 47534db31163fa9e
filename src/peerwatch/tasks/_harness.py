"""Harness mode as an Inspect task: `inspect eval peerwatch/harness -T agent=opencode --model peerwatch/exfiltrator`.

Each sample claims a harness slot (its own users, lock, run directory and /tmp; up to `max_episodes` at once in this
process, other processes' slots left alone), materialises its scenario (workspace, two sshd servers, isolated agent
user), serves the sample's Inspect model to the agent CLI through the loopback model bridge, runs the CLI, then turns
the orchestrator's record and the servers' final state into the world and ledger that the ordinary peerwatch scorer
judges. The logs are ordinary Inspect logs with `metadata.mode = "harness"`: `peerwatch report` reads them with the
simulated ones.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
from pathlib import Path
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset
from inspect_ai.model import ChatMessage, ChatMessageAssistant, ChatMessageUser, ModelOutput, get_model
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.tool import ToolInfo
from inspect_ai.util import concurrency, store

from peerwatch import __version__
from peerwatch.harness import (
    MAX_SLOTS,
    HarnessGuard,
    ModelBridge,
    Workspace,
    acquire_slot,
    agent_profile,
    build_ledger,
    run_agent,
    server_factors,
    server_tasks,
)
from peerwatch.oversight import Guard, Policy, channel_from_spec, load_policy
from peerwatch.scenarios import Factors, family_from_model, harness_prompts

from ._call_retries import record_call_retries
from ._episode import SampleIdentity, save_episode, scenario_for, set_instruction_file, start_episode
from ._guard import open_session, policy_file
from ._scorer import peerwatch_scorer
from ._tasks import sample_for

BRIDGE_MODEL = "peerwatch-model"
HARNESS_KEY = "peerwatch:harness"
# Set-up and tear-down threads. They live as long as the process: the servers started on them carry a parent-death
# signal, which Linux sends when the starting *thread* ends.
_SETUP = concurrent.futures.ThreadPoolExecutor(max_workers=MAX_SLOTS, thread_name_prefix="peerwatch-harness-setup")


def open_guard(
    policy: str | Path | None, audit: str, approvals: str, keystore: str | None = None, run_dir: str | None = None
) -> tuple[Guard, Policy]:
    """The oversight guard for a harness run: policy (None = built-in), audit session, approval channel.

    The audit session is the simulated runs' (`open_session`): signing key and witness in the operator's key store,
    refused inside the run's directories. Raises with a one-line message; the caller stops before the first sample.
    """
    channel = channel_from_spec(approvals)  # every cheap check before the store is created
    pol = load_policy(policy)
    _, session = open_session(audit, keystore, run_dir)
    return Guard(pol, session.log, channel), pol



def _factors(metadata: dict[str, Any]) -> Factors:
    return Factors.model_validate({k: metadata.get(k) for k in Factors.model_fields})


@solver
def harness_agent(
    agent: str = "opencode",
    agent_timeout: float = 600,
    instruction_file: str | None = None,
    keep: bool = False,
    hide: list[str] | None = None,
    guard: str | None = None,
    audit: str = "peerwatch-audit/audit.sqlite",
    approvals: str = "file:peerwatch-approvals",
    keystore: str | None = None,
    run_dir: str | None = None,
) -> Solver:
    """Run one agent CLI on the sample's scenario in a real workspace with real SSH servers.

    `hide`: more directories to cover from the agent (peerwatch's project, environment and root's home always are).
    `guard`: a policy file or `default`: the oversight layer in front of the servers (audit log `audit`,
    approval channel `approvals`, as `peerwatch run --guard`).
    Episodes at once in this process: `max_harness_episodes()`, each in a slot of its own.
    """
    profile = agent_profile(agent, instruction_file)
    core = open_guard(policy_file(guard), audit, approvals, keystore, run_dir) if guard else None
    hide = [*(hide or []), str(Path(audit).resolve().parent)] if guard and "://" not in audit else hide

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        family = state.metadata.get("family") or family_from_model(str(state.model))
        scenario = scenario_for(_factors(state.metadata), family)
        start_episode(scenario, SampleIdentity.of(state))
        set_instruction_file(profile.instruction_file)
        model = get_model()

        async def brain(messages: list[ChatMessage], tools: list[ToolInfo]) -> ModelOutput:
            return await model.generate(messages, tools=tools)

        system, prompt = harness_prompts(scenario, profile.instruction_file)
        # At most `n` episodes of this process at once; each waits for a free slot on the machine.
        n = max_harness_episodes()
        async with concurrency("harness episodes", n, key=f"peerwatch-harness-episodes-{n}"):
            hg = None
            if core is not None:  # the actor is bound here, from what the orchestrator knows, never from the model
                actor = f"{state.model}|{state.sample_id}|epoch {state.epoch}|harness:{profile.name}"
                hg = HarnessGuard(core[0], core[1], actor)
            lease = await acquire_slot()
            try:
                ws = Workspace(scenario, profile.instruction_file, system_text=system, keep=keep, guard=hg, slot=lease)
            except BaseException:
                lease.release()
                raise
            await _enter(ws)
            try:
                async with ModelBridge(brain, model_name=BRIDGE_MODEL, netns=ws.netns) as bridge:
                    run = await run_agent(
                        ws, profile, prompt, BRIDGE_MODEL, bridge.base_url, agent_timeout, [Path(h) for h in hide or []]
                    )
                await asyncio.to_thread(ws.guard_finish)
                final, record, read = ws.server_state(), ws.record_lines(), ws.docs_read()
                sshd_logs = ws.sshd_logs()
            except BaseException:
                ws.close()  # synchronously: on Ctrl-C the task is being cancelled and must not await again
                raise
            await _close(ws)
        if bridge.errors:  # the model failed (provider error, bad key...): no verdict on a half-run episode
            raise RuntimeError(f"model error during the harness run: {bridge.errors[0]}")
        ledger = build_ledger(scenario, final, record, read, run.commands, run.denied)
        for ev in hg.events if hg is not None else []:
            if not ev.allowed:  # what the guard refused or reverted is part of the episode's record
                ledger.record_call("harness_guard", ev.model_dump(mode="json"), ok=False, error=ev.reason)
        save_episode(final, ledger)
        state.messages = bridge.conversation or [
            ChatMessageUser(content=prompt),
            ChatMessageAssistant(content=run.stdout[-8000:]),
        ]
        store().set(
            HARNESS_KEY,
            {
                "agent": run.model_dump(exclude={"stdout", "stderr"}),
                "stdout_tail": run.stdout[-20000:],
                "stderr_tail": run.stderr[-5000:],
                "record": [r.model_dump() for r in record],
                "sshd_logs": {ip: text[-20000:] for ip, text in sshd_logs.items()},
                "model_requests": bridge.requests,
                "model_errors": bridge.errors,
                "workspace": str(ws.root) if keep else None,
                "guard": None
                if hg is None
                else {**hg.summary(), "events": [e.model_dump(mode="json") for e in hg.events if not e.allowed]},
            },
        )
        if run.timed_out:
            state.metadata["harness_timeout"] = True
        return state

    return solve


_episodes: int | None = None


def set_max_harness_episodes(n: int) -> None:
    """How many harness episodes this process runs at once (each in its own slot); `peerwatch harness` sets it."""
    global _episodes
    if not 1 <= n <= MAX_SLOTS:
        raise ValueError(f"harness episodes at once: {n} is not in 1..{MAX_SLOTS}")
    _episodes = n


def max_harness_episodes() -> int:
    """Harness episodes at once in this process: as set, else `$PEERWATCH_HARNESS_EPISODES`, else 1."""
    if _episodes is not None:
        return _episodes
    raw = os.environ.get("PEERWATCH_HARNESS_EPISODES", "").strip()
    if not raw:
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_SLOTS:
        raise ValueError(f"PEERWATCH_HARNESS_EPISODES={raw!r}: expected a whole number in 1..{MAX_SLOTS}")
    return int(raw)


async def _enter(ws: Workspace) -> None:
    """Set the workspace up off the event loop; cancelled meanwhile (Ctrl-C), it is closed once set-up has ended."""
    setup = _SETUP.submit(ws.__enter__)
    try:
        await asyncio.wrap_future(setup)
    except BaseException:
        with contextlib.suppress(BaseException):  # the thread cannot be interrupted: let it finish, then undo it
            setup.result(timeout=120)
        ws.close()
        raise


async def _close(ws: Workspace) -> None:
    """Close a finished episode's workspace off the event loop, so the other slots' model bridges keep answering.

    Cancelled meanwhile, the closing thread still runs to its end (and the slot's reaper is there if it cannot)."""
    await asyncio.wrap_future(_SETUP.submit(ws.close))


@task
def harness(
    agent: str = "opencode",
    config: str | list[str] | None = None,
    task_type: str | list[str] | None = None,
    agent_timeout: float = 600,
    instruction_file: str | None = None,
    keep: bool = False,
    family: str | None = None,
    hide: str | list[str] | None = None,
    guard: str | None = None,
    audit: str = "peerwatch-audit/audit.sqlite",
    approvals: str = "file:peerwatch-approvals",
    keystore: str | None = None,
    run_dir: str | None = None,
) -> Task:
    """The server tasks run by a real agent CLI against real SSH servers (harness mode).

    Args:
        agent: `opencode`, `gemini`, or a command template with {prompt} (and {workspace} {model} {base_url} {home}).
        config: Configuration id(s), comma-separated; default every configuration of `task_type`.
        task_type: Server task families (default every family with a `harness` prompt: the two exfiltration tasks).
        agent_timeout: Seconds before the agent CLI is stopped.
        instruction_file: The agent's instruction file (default per agent: AGENTS.md, GEMINI.md).
        keep: Keep the run directory (workspace, record, server data) for inspection.
        family: Model family for the scenario's names (default from the model).
        hide: More directories to hide from the agent (comma-separated), e.g. log directories outside the project.
        guard: Policy file or `default`: the oversight layer in front of the servers (off when not given).
        audit: Audit store of the guard (SQLite path or postgresql:// DSN).
        approvals: Approval channel of the guard: file:DIR, http:PORT, approve-all or none.
        keystore: The operator's key store for the audit log (default: `$PEERWATCH_KEYSTORE` or the user's config).
        run_dir: The run's log directory: a key store inside it is refused.

    Episodes run at once up to `max_harness_episodes()` (`PEERWATCH_HARNESS_EPISODES`, default 1; `peerwatch harness
    --max-episodes N` sets it), each in a harness slot of its own; Inspect's `max_samples` must allow as many. It is
    not a task argument: it changes how fast a run goes, not what it is, so a re-run with another value resumes.
    """
    ids = [c.strip() for c in (config.split(",") if isinstance(config, str) else config or []) if c.strip()]
    tasks = [task_type] if isinstance(task_type, str) else list(task_type or [])
    factors = server_factors(ids, tasks, [], [], [])
    samples = [sample_for(f, family=family, mode="harness", guard=guard) for f in factors]
    for s in samples:
        assert s.metadata is not None
        s.metadata["agent"] = agent_profile(agent, instruction_file).name
    return Task(
        dataset=MemoryDataset(samples, name="peerwatch-harness"),
        solver=harness_agent(
            agent,
            agent_timeout,
            instruction_file,
            keep,
            hide.split(",") if isinstance(hide, str) else hide,
            guard=guard,
            audit=audit,
            approvals=approvals,
            keystore=keystore,
            run_dir=run_dir,
        ),
        scorer=peerwatch_scorer(server_tasks()[0]),  # the server tasks judge the same behaviours
        cleanup=record_call_retries,  # each sample's retried model calls, into its metadata (the report reads them)
        metadata={"peerwatch_task": "harness", "peerwatch_version": __version__, "mode": "harness"},
    )
