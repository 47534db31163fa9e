"""The run's network namespace: loopback only and up, sockets made in it stay there, children join it."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from peerwatch.harness._netns import NetNamespace, netns_problem

pytestmark = pytest.mark.skipif(netns_problem() is not None, reason=netns_problem() or "")


def _listener() -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s


def test_a_socket_made_inside_is_reachable_only_inside() -> None:
    before = os.readlink("/proc/thread-self/ns/net")
    ns, other = NetNamespace(), NetNamespace()
    try:
        inside = ns.call(_listener)
        port = inside.getsockname()[1]
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            pass  # not from the host
        with pytest.raises(OSError):
            other.call(socket.create_connection, ("127.0.0.1", port), 1)  # not from another run's namespace
        ns.call(socket.create_connection, ("127.0.0.1", port), 1).close()  # from inside: loopback is up
        inside.close()
        with pytest.raises(OSError):
            ns.call(socket.create_connection, ("127.0.0.1", port), 1)
    finally:
        ns.close()
        other.close()
    assert os.readlink("/proc/thread-self/ns/net") == before, "the calling thread never moved"


def test_a_child_started_with_enter_sees_only_loopback() -> None:
    ns = NetNamespace()
    try:
        out = subprocess.run(["cat", "/proc/net/dev"], capture_output=True, text=True, preexec_fn=ns.enter, check=True)
        link = subprocess.run(["readlink", "/proc/self/ns/net"], capture_output=True, text=True, preexec_fn=ns.enter)
    finally:
        ns.close()
    assert [line.split(":")[0].strip() for line in out.stdout.splitlines()[2:]] == ["lo"]
    assert link.stdout.startswith("net:") and link.stdout.strip() != os.readlink("/proc/self/ns/net")
    with pytest.raises(RuntimeError, match="closed"):
        ns.enter()
    ns.close()  # idempotent
