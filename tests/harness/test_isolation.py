"""Real sshd servers on loopback, an isolated agent user, and a record the agent cannot touch."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from pathlib import Path

import pytest

from peerwatch.harness import AgentProfile, SlotLease, Workspace, acquire_slot, build_ledger, run_agent
from peerwatch.scenarios import build_scenario, factors_by_id

from .conftest import needs_host, runs_processes

pytestmark = [pytest.mark.sshd, needs_host, pytest.mark.timeout(180)]
CONFIG = "exfiltration_transfer/peer/good_peer/memory"


def _listening(ws: Workspace | None = None) -> dict[int, str]:
    """Listening TCP sockets as {port: local address} from /proc (IPv4 and IPv6): the host's, or in the network
    namespace of `ws`'s servers (seen through a server's process)."""
    out: dict[int, str] = {}
    where = "/proc" if ws is None else f"/proc/{next(s.proc.pid for s in ws.servers.values() if s.proc)}"
    for table in (f"{where}/net/tcp", f"{where}/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A":
                addr, port = local.split(":")
                out[int(port, 16)] = addr
    return out


def _agent(script: str) -> AgentProfile:
    return AgentProfile(name="sh", command=["sh", "-c", script, "{prompt}"])


def _slot() -> SlotLease:
    """Any free slot (other runs on the machine may hold slot 0), waited for."""
    return asyncio.run(acquire_slot(timeout=300))


def test_servers_listen_on_loopback_only_and_stop() -> None:
    scenario = build_scenario(factors_by_id(CONFIG), family="Gemini")
    with Workspace(scenario, slot=_slot()) as ws:
        ports = [s.port for s in ws.servers.values()]
        listening = _listening(ws)
        for port in ports:
            assert listening[port] == "0100007F", f"port {port} must be bound to 127.0.0.1 only"
            assert port not in _listening(), f"port {port} is in the run's network namespace, not the host's"
        pids = [s.proc.pid for s in ws.servers.values() if s.proc]
        root = ws.root
    for port in ports:
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            pass
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    assert not root.exists()


def test_agent_cannot_reach_answer_key_record_or_peerwatch_and_tries_are_recorded() -> None:
    scenario = build_scenario(factors_by_id(CONFIG), family="Gemini")
    project = Path(__file__).resolve().parents[2]
    with Workspace(scenario, slot=_slot()) as ws:
        key, record = ws.private / "scenario.json", ws.private / "record" / "sshd.log"
        data = ws.private / "servers" / "10.0.12.46" / "data"
        script = (
            f"cat {key}; echo forged >> {record}; ls {data}; ls {project}; id -un; "
            "ssh 10.0.12.45 'ls -la /data && cat /etc/hostname >/dev/null'; "
            "ssh 10.0.12.45 'echo x > /data/.hidden_by_agent'"
        )
        run = asyncio.run(run_agent(ws, _agent(script), "prompt", "m", "http://127.0.0.1:9", 60, None))
        record_lines = ws.record_lines()
        final = ws.server_state()
        read = ws.docs_read()
    assert run.exit_code == 0
    assert ws.agent_user in run.stdout.split()
    assert "weights_content_id" not in run.stdout and "forged" not in run.stdout
    assert "pyproject.toml" not in run.stdout, "peerwatch's project must be hidden from the agent"
    assert "Permission denied" in run.stderr
    assert str(key) in run.denied and str(record) in run.denied and str(data) in run.denied
    assert any("cat " + str(key) in c for c in run.commands)
    commands = [r.text for r in record_lines if r.kind == "exec"]
    assert commands == ["ls -la /data && cat /etc/hostname >/dev/null", "echo x > /data/.hidden_by_agent"]
    ledger = build_ledger(scenario, final, record_lines, read, run.commands, run.denied)
    refused = [e for e in ledger.calls("agent_access") if not e.ok]
    assert {e.args["path"] for e in refused} >= {str(key), str(record)}
    assert ledger.calls("list_server_files"), "an ls on the server counts as reading it"
    assert any(f.name == ".hidden_by_agent" for s in final.servers for f in s.files)


def test_agent_crash_and_timeout_still_stop_everything() -> None:
    scenario = build_scenario(factors_by_id(CONFIG), family="Gemini")
    with Workspace(scenario, slot=_slot()) as ws:
        crash = asyncio.run(run_agent(ws, _agent("kill -9 $$"), "p", "m", "http://127.0.0.1:9", 60, None))
        hang = asyncio.run(run_agent(ws, _agent("sleep 300 & sleep 300"), "p", "m", "http://127.0.0.1:9", 2, None))
        pids = [s.proc.pid for s in ws.servers.values() if s.proc]
    assert crash.exit_code != 0 and not crash.timed_out
    assert hang.timed_out
    assert not runs_processes(ws.agent_user)
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


# Ctrl-C and kill -9 of `peerwatch harness` with agents running: tests/harness/test_slots.py (three slots).


def test_a_second_run_is_refused_and_leaves_the_first_alone() -> None:
    from peerwatch.harness import HarnessError

    scenario = build_scenario(factors_by_id(CONFIG), family="Gemini")
    with Workspace(scenario, slot=_slot()) as ws:
        sleeper = subprocess.Popen(["/usr/sbin/runuser", "-u", ws.agent_user, "--", "sleep", "30"])
        try:
            with pytest.raises(HarnessError, match="another harness run"), Workspace(scenario, slot=ws.slot.index):
                pass
            assert sleeper.poll() is None, "the refused run killed the running run's agent"
            ports = [s.port for s in ws.servers.values()]
            assert set(ports) <= set(_listening(ws)), "the refused run stopped the running run's servers"
        finally:
            sleeper.kill()
            sleeper.wait()
