"""Harness slots: several episodes at once on one machine, each with users, lock and run directory of its own.

A slot is everything one episode owns exclusively: an agent user, a server user, a lock file in `/run` and the prefix
of its run directories. Slot 0 keeps the names of single-episode peerwatch (`peerwatch-agent`, `peerwatch-maint`,
`/run/peerwatch-harness.lock`), so an older peerwatch on the same machine and this one exclude each other there.
Holding slot K's lock (an `flock`) is what allows a process to kill slot K's users' processes and remove slot K's
stale run directories: slots never touch each other.

Every claimed slot gets a reaper: a small root shell, in a session of its own, that shares the lock's open file and
waits on a pipe from peerwatch. When peerwatch closes the slot - or dies in any way, `kill -9` included - the pipe
ends and the reaper kills the slot users' processes and removes the run directory; since it holds the lock until it
has finished, no other run can take the slot while it is being cleaned.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from pydantic import BaseModel

from ._servers import HarnessError

MAX_SLOTS = 16  # machine-wide; a process asking for more episodes than free slots waits for one
LEGACY_LOCK = Path("/run/peerwatch-harness.lock")
LOCK_DIR = Path("/run")
_user_lock = threading.Lock()  # useradd/usermod take /etc/passwd's lock: one at a time in this process

# Runs as root; $1 agent user, $2 server user, $3 run directory (may not exist yet). Blocks until stdin ends.
_REAPER = r"""
cat >/dev/null
for u in "$1" "$2"; do
  i=0
  while ps -o stat= -u "$u" 2>/dev/null | grep -qv '^Z' && [ $i -lt 100 ]; do  # zombies run nothing: not waited for
    pkill -KILL -u "$u"; sleep 0.05; i=$((i+1))
  done
done
[ -n "$3" ] && [ ! -e "$3/KEPT" ] && rm -rf -- "$3"
exit 0
"""


class SlotBusy(HarnessError):
    """The slot is held by another harness run (in this process or another)."""


class Slot(BaseModel):
    """The names one slot owns."""

    index: int
    agent_user: str
    server_user: str
    lock_path: Path
    run_prefix: str  # run directories of this slot are `<tmp>/<run_prefix>XXXXXXXX`


def slot_names(index: int) -> Slot:
    """Slot `index`'s users, lock file and run-directory prefix (slot 0: the single-episode names)."""
    if not 0 <= index < MAX_SLOTS:
        raise HarnessError(f"harness slot {index} out of range 0..{MAX_SLOTS - 1}")
    if index == 0:
        return Slot(
            index=0,
            agent_user="peerwatch-agent",
            server_user="peerwatch-maint",
            lock_path=LEGACY_LOCK,
            run_prefix="peerwatch-harness-",
        )
    return Slot(
        index=index,
        agent_user=f"peerwatch-agent-{index}",
        server_user=f"peerwatch-maint-{index}",
        lock_path=LOCK_DIR / f"peerwatch-harness-{index}.lock",
        run_prefix=f"peerwatch-harness{index}-",  # never matched by slot 0's `peerwatch-harness-*`
    )


class SlotLease:
    """A claimed slot: its lock is held until `release()` (then its reaper cleans up and lets go of it)."""

    def __init__(self, slot: Slot, lock_file: IO[str]) -> None:
        self.slot = slot
        self._lock_file: IO[str] | None = lock_file
        self._reaper: subprocess.Popen[bytes] | None = None

    @property
    def held(self) -> bool:
        """Whether this lease still holds the slot."""
        return self._lock_file is not None

    def arm(self, run_dir: Path) -> None:
        """Start the reaper for `run_dir`: whatever happens to peerwatch from now on, the slot is cleaned."""
        if self._lock_file is None or self._reaper is not None:
            return
        self._reaper = subprocess.Popen(
            ["sh", "-c", _REAPER, "peerwatch-reaper", self.slot.agent_user, self.slot.server_user, str(run_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(self._lock_file.fileno(),),  # the reaper holds the slot until it has cleaned it
            start_new_session=True,  # Ctrl-C to peerwatch's process group does not reach it
            close_fds=True,
        )

    def release(self) -> None:
        """Let the reaper finish (bounded wait), then release the lock. Idempotent."""
        if self._reaper is not None:
            with contextlib.suppress(OSError):
                if self._reaper.stdin is not None:
                    self._reaper.stdin.close()
            # Still cleaning after 10 s: it keeps the slot locked until it is done, so letting go here is safe.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._reaper.wait(timeout=10)
            self._reaper = None
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None


def claim_slot(index: int) -> SlotLease:
    """Claim slot `index` now, or raise SlotBusy."""
    slot = slot_names(index)
    lock_file = slot.lock_path.open("w")
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock_file.close()
        raise SlotBusy(
            f"another harness run holds {slot.lock_path} (slot {index}); wait for it or use another slot"
        ) from None
    return SlotLease(slot, lock_file)


def claim_free_slot(among: Sequence[int] | None = None) -> SlotLease | None:
    """The lowest free slot (of `among`, default all), claimed; None when every one is held."""
    for index in range(MAX_SLOTS) if among is None else among:
        with contextlib.suppress(SlotBusy):
            return claim_slot(index)
    return None


async def acquire_slot(
    poll: float = 0.25, timeout: float | None = None, among: Sequence[int] | None = None
) -> SlotLease:
    """Wait for a free slot (of `among`, default all; other processes' runs included) and claim it."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        lease = claim_free_slot(among)
        if lease is not None:
            return lease
        if deadline is not None and time.monotonic() > deadline:
            raise SlotBusy(f"no free harness slot within {timeout:.1f} s (all held)")
        await asyncio.sleep(poll)


def ensure_user(name: str, home: str) -> None:
    """Create the system user `name` if needed; key login only; home `home`. Retries while /etc/passwd is locked."""
    import pwd

    for attempt in range(100):
        with _user_lock:
            try:
                entry: pwd.struct_passwd | None = pwd.getpwnam(name)
            except KeyError:
                entry = None
            if entry is None:
                argv = ["useradd", "--system", "--user-group", "-M", "-d", home, "-s", "/bin/bash", "-p", "*", name]
            elif entry.pw_dir != home or not _key_login_only(name):
                argv = ["usermod", "-p", "*", "-d", home, name]
            else:
                return
            done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode == 0:
            return
        if "lock" not in done.stderr.lower() or attempt == 99:  # another process holds /etc/passwd: try again
            raise HarnessError(f"cannot set up user {name}: {' '.join(done.stderr.split())}")
        time.sleep(0.05)


def _key_login_only(name: str) -> bool:
    """The account's password field is `*` (no password login, but not locked: sshd accepts its keys)."""
    with contextlib.suppress(OSError):
        for line in Path("/etc/shadow").read_text().splitlines():
            fields = line.split(":")
            if fields[0] == name:
                return len(fields) > 1 and fields[1] == "*"
    return False


def default_episodes() -> int:
    """Concurrent episodes when the user does not say: one per core, at least 1 (see docs/harness.md)."""
    return max(1, min(MAX_SLOTS, os.cpu_count() or 1))
