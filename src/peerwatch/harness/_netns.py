"""A network namespace of its own for each harness run: loopback only, holding the run's two sshd servers, its agent
and the listening socket of its model bridge - so nothing crosses between slots and no agent reaches the host's
other loopback services (the model provider, another run's bridge, a database).

The handle is an open file descriptor of the orchestrator's (no bind mount, nothing on disk): the namespace lives as
long as that descriptor or a process or socket in it does. peerwatch closes it when the run closes; killed in any
way, its descriptors close with it, its servers and agent die with it (parent-death signal, the slot's reaper), and
the kernel frees the namespace - there is nothing left to clean.

Only a thread enters the namespace (`setns(2)` is per thread): `call` runs a function on a short-lived thread of its
own inside it (a socket stays in the namespace it was created in), and `enter` is the `preexec_fn` step that puts a
child process in it before it executes anything.
"""

from __future__ import annotations

import ctypes
import fcntl
import functools
import os
import socket
import struct
import threading
from collections.abc import Callable
from typing import TypeVar

CLONE_NEWNET = 0x40000000
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
_libc = ctypes.CDLL(None, use_errno=True)  # loaded once here: a forked child's preexec_fn must not load libraries
T = TypeVar("T")


class NetnsUnavailable(RuntimeError):
    """This machine cannot create network namespaces (the message is one line)."""


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _setns(fd: int) -> None:
    _check(_libc.setns(fd, CLONE_NEWNET), "setns")


def _on_thread(fn: Callable[[], T]) -> T:
    """Run `fn` on a fresh thread and return its result (or raise its exception): whatever namespace the thread ends
    in, it ends, and no other thread of peerwatch ever changes namespace."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # handed to the caller
            box["error"] = exc

    thread = threading.Thread(target=run, name="peerwatch-netns", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["result"]  # type: ignore[return-value]


def _loopback_up() -> None:
    """Bring `lo` up in the calling thread's namespace (a new namespace has it down: 127.0.0.1 unreachable)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(s, _SIOCGIFFLAGS, request)[:18])[1]
        fcntl.ioctl(s, _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | _IFF_UP))


class NetNamespace:
    """A fresh network namespace with only loopback, up. `close()` lets go of it (idempotent)."""

    def __init__(self) -> None:
        def create() -> int:
            # the thread ends right after, back home or not: no other thread of peerwatch is ever moved
            home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
            try:
                _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
                fd = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
                try:
                    _loopback_up()
                    _setns(home)
                except BaseException:
                    os.close(fd)
                    raise
                return fd
            finally:
                os.close(home)

        try:
            self._fd: int | None = _on_thread(create)
        except OSError as exc:
            raise NetnsUnavailable(
                f"cannot create a network namespace ({exc.strerror or exc}): harness slots need one each so agents "
                "cannot reach each other or the host; run as root on a VM or a privileged container with network "
                "namespaces enabled (CONFIG_NET_NS, user.max_net_namespaces > 0)"
            ) from None

    @property
    def fd(self) -> int:
        """The namespace's file descriptor (valid until `close`)."""
        if self._fd is None:
            raise RuntimeError("the run's network namespace is closed")
        return self._fd

    def call(self, fn: Callable[..., T], *args: object) -> T:
        """`fn(*args)` on a thread inside the namespace (sockets it creates stay there when the thread is gone)."""
        fd = self.fd

        def inside() -> T:
            _setns(fd)
            return fn(*args)

        return _on_thread(inside)

    def enter(self) -> None:
        """preexec_fn step: move this (forked, not yet executed) child into the namespace; raises if it cannot."""
        _setns(self.fd)

    def close(self) -> None:
        """Let go of the namespace: the kernel frees it once no process or socket is left in it."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@functools.cache
def netns_problem() -> str | None:
    """Why this machine cannot give harness runs network namespaces of their own, or None (checked once)."""
    try:
        NetNamespace().close()
    except NetnsUnavailable as exc:
        return str(exc)
    return None
