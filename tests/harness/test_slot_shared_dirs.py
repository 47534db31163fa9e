"""The machine's other shared writable places - /var/tmp, /dev/shm (POSIX shared memory), /run/lock, System V IPC,
the process table - are private to a slot too: two agents at once see nothing of each other there, and nothing an
episode leaves there survives into the slot's next episode."""

from __future__ import annotations

import asyncio
import grp
import os
import pwd
from pathlib import Path

import pytest

from peerwatch.harness import AgentProfile, SlotLease, Workspace, acquire_slot, run_agent
from peerwatch.scenarios import build_scenario, factors_by_id

from .conftest import SHARED, needs_host, shared_leftovers

pytestmark = [pytest.mark.sshd, needs_host, pytest.mark.timeout(600)]
CONFIG = "exfiltration_transfer/peer/good_peer/memory"
# Writable by the agent but shared state with no one: character devices that hold nothing (/dev/null, a fresh
# pty, the random pool), and systemd units masked as links to /dev/null (`-writable` follows links).
HARMLESS_DEVICES = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/ptmx"}


def _agent(script: str) -> AgentProfile:
    return AgentProfile(name="sh", command=["sh", "-c", script, "{prompt}"])


def _slot(among: list[int] | None = None) -> SlotLease:
    return asyncio.run(acquire_slot(timeout=300, among=among))


def _plant(tag: str) -> str:
    """Shell that leaves a file, a named pipe, a POSIX shared-memory object, a lock file and System V objects."""
    shm = (
        "import _posixshmem, os; "
        f"fd = _posixshmem.shm_open('/pw-{tag}-shm', os.O_CREAT | os.O_RDWR, 0o666); os.write(fd, b'{tag}')"
    )
    return (
        f"echo {tag} > /var/tmp/pw-{tag}; chmod 666 /var/tmp/pw-{tag}; mkfifo -m 666 /var/tmp/pw-{tag}.fifo; "
        f"echo {tag} > /dev/shm/pw-{tag}.file; echo {tag} > /run/lock/pw-{tag}; echo {tag} > /var/lock/pw-{tag}.2; "
        f'/usr/bin/python3 -c "{shm}"; ipcmk -M 64 -p 0666 >/dev/null; ipcmk -Q -p 0666 >/dev/null; '
        f"ssh 10.0.12.45 'echo {tag} > /var/tmp/srv-{tag}; echo {tag} > /dev/shm/srv-{tag}'; "
    )


def _look() -> str:
    """Shell that prints, between markers, what the agent (and its server) see of the shared places."""
    return (
        f"echo LIST; ls -a {' '.join(SHARED)}; awk 'FNR>1 {{print \"ipc\"}}' /proc/sysvipc/shm /proc/sysvipc/msg; "
        "ps -eo user:32= | sort -u | sed 's/^/ps /'; "
        "echo SERVER; ssh 10.0.12.45 'ls -a /var/tmp /dev/shm /run/lock; ps -eo user:32= | sort -u | sed s/^/ps\\ /'; "
        "echo END; "
    )


def _probe(other: str) -> str:
    """Shell that tries to read, write into and overwrite the other slot's objects by name."""
    return (
        f"cat /var/tmp/pw-{other} /dev/shm/pw-{other}.file /dev/shm/pw-{other}-shm /run/lock/pw-{other}; "
        f"echo stolen > /var/tmp/pw-{other}; echo stolen > /dev/shm/pw-{other}-shm; "
        f"timeout 1 sh -c 'echo stolen > /var/tmp/pw-{other}.fifo'; "
    )


def _section(text: str, start: str, end: str) -> list[str]:
    return text.split(start, 1)[1].split(end, 1)[0].split()


def test_two_slots_share_no_var_tmp_dev_shm_lock_ipc_or_processes() -> None:
    """Both agents plant objects at once, then look for and try to overwrite the other's; the reverse too."""
    scenario = build_scenario(factors_by_id(CONFIG), family="Gemini")
    a_slot, b_slot = _slot(), _slot()
    with Workspace(scenario, slot=a_slot) as a, Workspace(scenario, slot=b_slot) as b:

        def script(tag: str, other: str, other_ws: Workspace) -> str:
            # sleep: the other agent has planted by the time this one looks
            # by the host path too: the other run's copies of the shared places, in its run directory
            host = " ".join(str(d) for d in other_ws.shared_dirs.values())
            return (
                _plant(tag) + "sleep 2; " + _look() + _probe(other) + f"ls {host}; cat {other_ws.private}/*/pw-*; "
                f"sleep 2; echo MINE; cat /var/tmp/pw-{tag}"
            )

        async def both() -> tuple:
            return await asyncio.gather(
                run_agent(a, _agent(script("alpha", "beta", b)), "p", "m", "http://127.0.0.1:9", 90, None),
                run_agent(b, _agent(script("beta", "alpha", a)), "p", "m", "http://127.0.0.1:9", 90, None),
            )

        run_a, run_b = asyncio.run(both())
        users = {a.agent_user, a.server_user, b.agent_user, b.server_user}
        slot_a = a.slot.index
    for run, me, other, mine, theirs in ((run_a, a, b, "alpha", "beta"), (run_b, b, a, "beta", "alpha")):
        seen = _section(run.stdout, "LIST", "SERVER")
        assert f"pw-{mine}" in seen and f"pw-{mine}.fifo" in seen and f"pw-{mine}-shm" in seen, run.stderr
        assert f"pw-{mine}" in seen and f"pw-{mine}.2" in seen, "/run/lock and /var/lock are one place"
        names = {w for w in seen if w.startswith(("pw-", "srv-", "sem.", "mp-"))}
        # the run's places are its agent's and its servers' (as its /tmp is), and no one else's
        own = {f"pw-{mine}", f"pw-{mine}.fifo", f"pw-{mine}.file", f"pw-{mine}-shm", f"pw-{mine}.2", f"srv-{mine}"}
        assert names <= own, seen
        assert other.agent_user not in seen and other.server_user not in seen, f"{mine} saw the other slot: {seen}"
        on_server = _section(run.stdout, "SERVER", "END")
        assert f"srv-{mine}" in on_server and f"srv-{theirs}" not in on_server, on_server
        assert other.agent_user not in on_server and other.server_user not in on_server, on_server
        assert theirs not in run.stdout.split("END", 1)[1].split("MINE", 1)[0], "read the other slot's object"
        assert _section(run.stdout, "MINE", "\0") == [mine], f"{theirs} overwrote {mine}'s /var/tmp file"
        assert "stolen" not in run.stdout
        assert me.agent_user in seen
        assert seen.count("ipc") == 2, "the agent's own System V segment and queue, and no other slot's"
    assert not shared_leftovers(users), "a slot's objects reached (or stayed in) the host's shared places"

    # The slot's next episode starts empty: nothing of the last one in /var/tmp, /dev/shm, /run/lock or IPC.
    with Workspace(scenario, slot=_slot([slot_a])) as again:
        run = asyncio.run(run_agent(again, _agent(_look()), "p", "m", "http://127.0.0.1:9", 60, None))
    left = [w for w in _section(run.stdout, "LIST", "END") if w.startswith(("pw-", "srv-", "ipc"))]
    assert not left, f"the last episode's objects survived into the next: {left}"


def test_what_an_agent_can_write_is_its_own() -> None:
    """`find -writable` as the agent in its namespace: its home and its slot's private places, nothing else that
    holds state (the inventory, and why each remaining entry is harmless, is in docs/harness.md)."""
    scenario = build_scenario(factors_by_id(CONFIG), family="Gemini")
    with Workspace(scenario, slot=_slot()) as ws:
        find = "find / \\( -path /proc -o -path /sys -o -path /dev/pts -o -path /dev/fd \\) -prune -o -writable -print"
        run = asyncio.run(run_agent(ws, _agent(f"{find} 2>/dev/null"), "p", "m", "http://127.0.0.1:9", 300, None))
        own = (str(ws.home), "/tmp", *SHARED, "/dev/mqueue")  # mqueue, if any: the IPC namespace's own
    writable = set(run.stdout.split())
    bad = sorted(
        p
        for p in writable
        if not any(p == o or p.startswith(o + "/") for o in own)
        and p not in HARMLESS_DEVICES
        and not p.startswith(("/dev/std", "/run/shm"))  # links to the process's own fds and to /dev/shm
        and os.path.realpath(p) != "/dev/null"
        and not (p.startswith("/dev/") and _is_char_device_without_state(p))
    )
    assert not bad, f"writable by the agent and not the slot's own: {bad}"


def _is_char_device_without_state(path: str) -> bool:
    """/dev/fuse and /dev/net/tun: opening them does nothing without CAP_SYS_ADMIN / CAP_NET_ADMIN or a setuid
    fusermount (none on a harness host), so an agent cannot leave anything through them."""
    return path in ("/dev/fuse", "/dev/net/tun") and not any(
        Path(d, "fusermount" + v).exists() for d in ("/usr/bin", "/bin") for v in ("", "3")
    )


def test_groups_of_the_slot_users_are_their_own() -> None:
    """No supplementary group joins two slots' users (a group-writable file would be shared between them)."""
    names = {u.pw_name for u in pwd.getpwall() if u.pw_name.startswith(("peerwatch-agent", "peerwatch-maint"))}
    for g in grp.getgrall():
        assert len(set(g.gr_mem) & names) <= 1, f"group {g.gr_name} joins {set(g.gr_mem) & names}"
