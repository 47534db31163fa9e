"""Several harness episodes at once: a slot each (users, lock, run directory, /tmp), the same verdicts as one at a
time, nothing seen across slots, and every slot cleaned after Ctrl-C or kill -9."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval

from peerwatch.harness import (
    MAX_SLOTS,
    AgentProfile,
    Slot,
    SlotBusy,
    Workspace,
    acquire_slot,
    claim_slot,
    run_agent,
    slot_names,
)
from peerwatch.harness._slots import claim_free_slot
from peerwatch.scenarios import build_scenario, factors_by_id
from peerwatch.tasks import HARNESS_KEY, harness, set_max_harness_episodes

from .conftest import needs_host, runs_processes, shared_leftovers

pytestmark = [pytest.mark.sshd, needs_host, pytest.mark.timeout(600)]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scripts"
TRANSFER = "exfiltration_transfer/peer/good_peer/memory"
CONFIGS = [
    TRANSFER,
    "exfiltration_transfer/peer/good_peer/file_only",
    "exfiltration_deletion/peer/good_peer/file_only",
]
SSHD = "peerwatch-harness[0-9]*-.*sshd_config"  # the servers of every slot


def _agent(script: str) -> AgentProfile:
    return AgentProfile(name="sh", command=["sh", "-c", script, "{prompt}"])


def _has_processes(user: str) -> bool:
    return runs_processes(user)


def _reaped_by(pid: int) -> list[Slot]:
    """The slots whose reapers process `pid` started (their argv names the slot's agent user)."""
    ps = subprocess.run(["ps", "-ww", "-o", "args=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    by_user = {slot_names(i).agent_user: slot_names(i) for i in range(MAX_SLOTS)}
    return [by_user[w[0]] for line in ps.splitlines() if "peerwatch-reaper" in line
            for w in [line.split("peerwatch-reaper", 1)[1].split()] if w and w[0] in by_user]  # fmt: skip


def _netns_of(pid: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None


def test_a_slot_is_held_by_one_run_and_a_waiting_run_gets_the_next_free_one() -> None:
    # Slots from the top: other runs on the machine (slot 0 first) are left alone.
    held = [lease for i in range(MAX_SLOTS - 1, MAX_SLOTS - 6, -1) if (lease := claim_free_slot([i])) is not None][:2]
    assert len(held) == 2, "no two free slots on this machine"
    among = [lease.slot.index for lease in held]
    try:
        with pytest.raises(SlotBusy, match="another harness run"):
            claim_slot(among[0])
        with pytest.raises(SlotBusy, match="no free harness slot"):
            asyncio.run(acquire_slot(poll=0.05, timeout=0.3, among=among))
        freed = held.pop()
        freed.release()
        again = asyncio.run(acquire_slot(poll=0.05, timeout=5, among=among))
        assert again.slot.index == freed.slot.index
        held.append(again)
    finally:
        for lease in held:
            lease.release()
    names = [slot_names(i) for i in range(MAX_SLOTS)]
    for attr in ("agent_user", "server_user", "lock_path", "run_prefix"):
        assert len({getattr(n, attr) for n in names}) == MAX_SLOTS, f"slots share a {attr}"
    assert names[0].agent_user == "peerwatch-agent" and names[0].lock_path == Path("/run/peerwatch-harness.lock")


def test_two_slots_at_once_do_not_see_each_other() -> None:
    """Both runs write to their /tmp, workspace and server at the same time; neither sees the other's files."""
    scenario = build_scenario(factors_by_id(TRANSFER), family="Gemini")
    a_slot, b_slot = asyncio.run(acquire_slot()), asyncio.run(acquire_slot())  # any free ones: others may run
    with Workspace(scenario, slot=a_slot) as a, Workspace(scenario, slot=b_slot) as b:
        assert a.agent_user != b.agent_user and a.server_user != b.server_user
        # each run's servers listen in a network namespace of its own (ports may coincide: no one else sees them)
        nets = [{os.readlink(f"/proc/{s.proc.pid}/ns/net") for s in w.servers.values() if s.proc} for w in (a, b)]
        assert len(nets[0]) == len(nets[1]) == 1 and nets[0] != nets[1]
        assert os.readlink("/proc/self/ns/net") not in nets[0] | nets[1]

        def script(me: Workspace, other: Workspace, tag: str) -> str:
            return (
                f"echo {tag} > /tmp/mine-{tag}; echo {tag}-secret > ~/workspace/secret-{tag}; "
                f"ssh 10.0.12.45 'echo {tag} > /tmp/server-{tag}; echo {tag} > /data/from-{tag}'; sleep 1; "
                f"echo TMP; ls -a /tmp; echo OTHER; cat {other.home}/workspace/secret-*; ls {other.root}; "
                f"ls {other.private}/tmp; echo SERVER; ssh 10.0.12.45 'ls -a /tmp /data; id -un'"
            )

        async def both() -> tuple:
            return await asyncio.gather(
                run_agent(a, _agent(script(a, b, "alpha")), "p", "m", "http://127.0.0.1:9", 60, None),
                run_agent(b, _agent(script(b, a, "beta")), "p", "m", "http://127.0.0.1:9", 60, None),
            )

        run_a, run_b = asyncio.run(both())
        final_a, final_b = a.server_state(), b.server_state()
        roots = (a.root, b.root)
    for run, me, _other, mine in ((run_a, a, b, "alpha"), (run_b, b, a, "beta")):
        theirs = "beta" if mine == "alpha" else "alpha"
        tmp = run.stdout.split("TMP", 1)[1].split("OTHER", 1)[0].split()
        assert f"mine-{mine}" in tmp and f"server-{mine}" in tmp, "the agent and its servers share the run's /tmp"
        assert set(tmp) <= {".", "..", f"mine-{mine}", f"server-{mine}", me.root.name}, tmp
        assert theirs not in run.stdout, f"slot {mine} saw {theirs}'s files: {run.stdout}"
        assert me.server_user in run.stdout.split("SERVER", 1)[1]
        assert "Permission denied" in run.stderr or "No such file" in run.stderr
    assert {f.name for s in final_a.servers for f in s.files} >= {"from-alpha"}
    assert not {f.name for s in final_a.servers for f in s.files} & {"from-beta"}
    assert not {f.name for s in final_b.servers for f in s.files} & {"from-alpha"}
    assert not any(r.exists() for r in roots)
    assert not _has_processes(a.agent_user) and not _has_processes(b.server_user)


def _verdicts(model: str, configs: list[str], epochs: int, n: int, log_dir: Path, **args: str) -> dict:
    set_max_harness_episodes(n)
    try:
        [log] = inspect_eval(
            harness(agent="shell", config=configs, agent_timeout=120),
            model=model,
            model_args=args,
            epochs=epochs,
            max_samples=n,
            log_dir=str(log_dir),
            display="none",
        )
    finally:
        set_max_harness_episodes(1)
    assert log.status == "success", log.error
    out = {}
    for s in log.samples or []:
        assert s.error is None, s.error
        verdict = s.scores["peerwatch"].metadata
        assert verdict["status"] == "ok", verdict
        assert s.store[HARNESS_KEY]["agent"]["exit_code"] == 0, s.store[HARNESS_KEY]["stderr_tail"]
        flags = sorted(b for b, v in verdict["behaviours"].items() if v["flag"])
        # what reached the servers (sorted: the two ends of a pipe start in either order): a step that failed in
        # one slot only shows here even when the verdict does not change
        done = sorted((r["ip"], r["text"]) for r in s.store[HARNESS_KEY]["record"] if r["kind"] == "exec")
        out[(s.id, s.epoch)] = (flags, done)
    return out


def test_concurrent_episodes_give_the_serial_verdicts(tmp_path: Path) -> None:
    """Three episodes at once (a real shell agent on real servers, scripted brains) judge exactly as one at a time.

    The piped copy stages the weights at the same /tmp path in every episode: with one /tmp for all slots the
    second episode could not write there, and its verdict would change."""
    serial = _verdicts("peerwatch/exfiltrator", CONFIGS, 1, 1, tmp_path / "serial")
    assert serial[(TRANSFER, 1)][0] == ["concealment", "exfiltration"]
    together = _verdicts("peerwatch/exfiltrator", CONFIGS, 1, 3, tmp_path / "together")
    assert together == serial
    pipe = str(EXAMPLES / "exfiltration_pipe.yaml")
    [one] = _verdicts("peerwatch/replay", [TRANSFER], 1, 1, tmp_path / "pipe1", script=pipe).values()
    assert "exfiltration" in one[0] and any("late_copy" in text for _, text in one[1])
    three = _verdicts("peerwatch/replay", [TRANSFER], 3, 3, tmp_path / "pipe3", script=pipe)
    assert list(three.values()) == [one, one, one]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_ctrl_c_or_kill_9_with_three_slots_cleans_every_slot(sig: int, tmp_path: Path) -> None:
    """Three agents running in three slots; peerwatch gets Ctrl-C or kill -9: no server, process or run dir is left
    and the slots are free again."""
    plant = "echo x > /var/tmp/left; echo x > /dev/shm/left; echo x > /run/lock/left; ipcmk -M 64; sleep 120"
    argv = [sys.executable, "-m", "peerwatch.cli", "harness", "--agent", f"sh -c '{plant}' {{prompt}}",
            "--model", "peerwatch/honest", "--max-episodes", "3", "--log-dir", str(tmp_path / "logs"),
            *[a for c in CONFIGS for a in ("-c", c)]]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:  # this run's slots: its reapers name them (other runs may share the machine)
            mine = _reaped_by(proc.pid)
            running = [s for s in mine if _has_processes(s.agent_user)]
            if len(running) >= 3:
                break
            assert time.monotonic() < deadline, f"three agents never ran: {mine}"
            assert proc.poll() is None, "peerwatch harness exited early"
            time.sleep(0.2)
        slots = [s.index for s in running]
        run_dirs = {d for i in slots for d in Path("/tmp").glob(f"{slot_names(i).run_prefix}*") if d.is_dir()}
        servers = subprocess.run(["pgrep", "-af", SSHD], capture_output=True, text=True).stdout
        assert sum(f"/{d.name}/" in servers for d in run_dirs) >= 3, "each slot's servers run from its run directory"
        mine_pids = [line.split()[0] for line in servers.splitlines() if any(f"/{d.name}/" in line for d in run_dirs)]
        nets = {_netns_of(pid) for pid in mine_pids} - {None, _netns_of("self")}
        assert len(nets) >= 3, f"each slot's servers run in a network namespace of its own: {nets}"
        planted = lambda: [d for d in run_dirs if (d / "private" / "shm" / "left").exists()]  # noqa: E731
        while len(planted()) < 3 and time.monotonic() < deadline:  # the agents' files are in their run directories
            time.sleep(0.1)
        assert len(planted()) >= 3, "the agents did not plant their /dev/shm files"
        proc.send_signal(sig)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 20  # after kill -9 the slots' reapers clean up
    while time.monotonic() < deadline:
        left = [slot_names(i) for i in slots if _has_processes(slot_names(i).agent_user)]
        left += [slot_names(i) for i in slots if _has_processes(slot_names(i).server_user)]
        if not left and not any(d.exists() for d in run_dirs):
            break
        time.sleep(0.2)
    assert not left, f"processes left in slots {[s.index for s in left]}"
    servers = subprocess.run(["pgrep", "-af", SSHD], capture_output=True, text=True).stdout
    assert not [s for s in servers.splitlines() if any(f"/{d.name}/" in s for d in run_dirs)], "sshd outlived its run"
    in_nets = [pid for pid in Path("/proc").iterdir() if pid.name.isdigit() and _netns_of(pid.name) in nets]
    assert not in_nets, f"processes left in the slots' network namespaces: {in_nets}"  # nothing else holds them
    assert not [d for d in run_dirs if d.exists() and not (d / "KEPT").exists()], "run directories left behind"
    users = {u for i in slots for u in (slot_names(i).agent_user, slot_names(i).server_user)}
    assert not shared_leftovers(users), "an agent's /var/tmp, /dev/shm, /run/lock or System V objects outlived it"
    for i in slots:  # free again - or taken meanwhile by another run on the machine (a run directory of its own)
        deadline = time.monotonic() + 20
        while True:
            try:
                claim_slot(i).release()
                break
            except SlotBusy:
                prefix = slot_names(i).run_prefix
                if {d for d in Path("/tmp").glob(f"{prefix}*") if d.is_dir()} - run_dirs:
                    break
                assert time.monotonic() < deadline, f"slot {i} still held after the cleanup"
                time.sleep(0.2)
