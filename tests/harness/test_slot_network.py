"""The network is a slot's own too: two agents at once can reach neither the other slot's sshd servers nor its model
bridge, cannot talk to each other over a loopback port (TCP or UDP) or an abstract unix socket, and reach none of the
host's loopback services - while each still reaches its own servers and its own model bridge."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from inspect_ai.model import ChatMessage, ModelOutput, ModelUsage
from inspect_ai.tool import ToolInfo

from peerwatch.harness import AgentProfile, ModelBridge, SlotLease, Workspace, acquire_slot, free_port, run_agent
from peerwatch.scenarios import build_scenario, factors_by_id

from .conftest import needs_host

pytestmark = [pytest.mark.sshd, needs_host, pytest.mark.timeout(600)]
CONFIG = "exfiltration_transfer/peer/good_peer/memory"

# Runs as the agent (system Python): tries every channel, prints `R <what> <outcome>` lines.
PROBE = r"""
import socket, sys, threading, time
me, other = sys.argv[1], sys.argv[2]
listen, their_listen = int(sys.argv[3]), int(sys.argv[4])
own = {int(p) for p in sys.argv[5].split(",")}
theirs = [int(p) for p in sys.argv[6].split(",")]
host = int(sys.argv[7])

def tcp(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(f"hello from {me}\n".encode())
            return "open"
    except OSError as e:
        return type(e).__name__

got = []
def serve(sock):
    sock.settimeout(6)
    try:
        conn, _ = sock.accept()
        got.append(conn.recv(100).decode(errors="replace").strip().replace(" ", "_"))
    except OSError:
        pass

tcp_server = socket.socket(); tcp_server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp_server.bind(("127.0.0.1", listen)); tcp_server.listen()
unix_server = socket.socket(socket.AF_UNIX); unix_server.bind(f"\0pw-{me}"); unix_server.listen()
udp_server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp_server.bind(("127.0.0.1", listen))
def hear(sock):
    sock.settimeout(6)
    try:
        got.append("udp:" + sock.recv(100).decode(errors="replace").strip().replace(" ", "_"))
    except OSError:
        pass
threads = [threading.Thread(target=serve, args=(s,)) for s in (tcp_server, unix_server)]
threads.append(threading.Thread(target=hear, args=(udp_server,)))
for t in threads: t.start()
time.sleep(2)  # the other agent listens by now
for port in own:
    print("R own", tcp(port))
for port in theirs:
    if port not in own and port != listen:  # the same number in this slot would be this slot's own service
        print("R theirs", tcp(port))
print("R host", tcp(host))
print("R their-listener", tcp(their_listen))
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3):  # lost or refused, it never arrives (heard below on the other side)
    try:
        udp.sendto(f"hello from {me}".encode(), ("127.0.0.1", their_listen))
    except OSError:
        pass
try:
    u = socket.socket(socket.AF_UNIX); u.settimeout(2); u.connect(f"\0pw-{other}")
    u.sendall(f"hello from {me}".encode())
    print("R their-abstract open")
except OSError as e:
    print("R their-abstract", type(e).__name__)
for t in threads: t.join()
print("R heard", *got or ["nothing"])
print("R interfaces", *sorted(l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]))
"""


async def _brain(messages: list[ChatMessage], tools: list[ToolInfo]) -> ModelOutput:
    out = ModelOutput.from_content("m", "done")
    out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    return out


def _slot() -> SlotLease:
    return asyncio.run(acquire_slot(timeout=300))


@contextmanager
def _host_service() -> Iterator[int]:
    """A service on the host's loopback (as the model provider, a database or another run's bridge would be)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def _results(stdout: str) -> list[tuple[str, str]]:
    return [(w[1], " ".join(w[2:])) for line in stdout.splitlines() if (w := line.split())[:1] == ["R"]]


def test_two_slots_cannot_reach_each_other_or_the_host_over_the_network() -> None:
    scenario = build_scenario(factors_by_id(CONFIG), family="Gemini")
    with Workspace(scenario, slot=_slot()) as a, Workspace(scenario, slot=_slot()) as b, _host_service() as host:
        listen = {"alpha": free_port(), "beta": free_port()}
        while listen["beta"] == listen["alpha"]:
            listen["beta"] = free_port()

        async def both() -> tuple:
            async with ModelBridge(_brain, netns=a.netns) as bridge_a, ModelBridge(_brain, netns=b.netns) as bridge_b:
                ports = {
                    "alpha": [*(s.port for s in a.servers.values()), bridge_a.port],
                    "beta": [*(s.port for s in b.servers.values()), bridge_b.port],
                }

                def probe(me: str, other: str) -> AgentProfile:
                    args = [me, other, listen[me], listen[other], ",".join(map(str, ports[me]))]
                    args += [",".join(map(str, ports[other])), host]
                    quoted = " ".join(f"'{x}'" for x in args)
                    # and from a session on its server (the server's processes are the slot's too)
                    test = '(exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && echo "R $w open" || echo "R $w closed"'
                    theirs = " ".join(str(x) for x in ports[other] if x not in ports[me])
                    mine = " ".join(map(str, ports[me]))
                    on_server = f"w=server-own; for p in {mine}; do {test}; done; w=server-theirs; "
                    on_server += f"for p in {theirs} {listen[other]} {host}; do {test}; done"
                    script = f"ssh 10.0.12.45 'echo own-ssh-ok; {on_server}'; /usr/bin/python3 -c \"$0\" {quoted}"
                    return AgentProfile(name="sh", command=["sh", "-c", script, PROBE])

                return await asyncio.gather(
                    run_agent(a, probe("alpha", "beta"), "p", "m", bridge_a.base_url, 90, None),
                    run_agent(b, probe("beta", "alpha"), "p", "m", bridge_b.base_url, 90, None),
                )

        run_a, run_b = asyncio.run(both())
    for run, me in ((run_a, "alpha"), (run_b, "beta")):
        got = _results(run.stdout)
        assert "own-ssh-ok" in run.stdout, f"{me} could not reach its own server: {run.stderr[-2000:]}"
        own = [v for k, v in got if k == "own"]
        assert own == ["open"] * 3, f"{me}: its own two servers and its model bridge must answer: {got}"
        theirs = [v for k, v in got if k == "theirs"]
        assert theirs, f"{me}: no port of the other slot was probed: {got}"
        assert [v for k, v in got if k == "server-own"] == ["open"] * 3, f"{me}'s server: {got}"
        assert len([k for k, _ in got if k == "server-theirs"]) >= 3, got
        across = ("theirs", "host", "their-listener", "their-abstract", "server-theirs")
        crossed = [(k, v) for k, v in got if k in across and v == "open"]
        assert not crossed, f"{me} reached across its slot: {crossed} (all: {got})"
        assert dict(got)["heard"] == "nothing", f"{me} was reached from outside its slot: {got}"
        assert dict(got)["interfaces"] == "lo", f"{me} sees more than its loopback: {got}"
