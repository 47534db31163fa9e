"""State one run's worker processes share: each model's pacing timetable and the money spent, in small locked files.

With `--workers N` every worker process sends calls to the same provider, so one `--rpm` limit must be kept by all
of them together: paced apart, their timetables drift in and out of phase and their calls reach the provider's
bucket together (429s). So the processes keep *one* timetable: an 88-byte file per model (the next free slot, the
current rate, the cooldown of the last cut, the cuts, and what a pacer learning the limit from 429s has learned:
see `_pace_learn`) that a call reads and advances under `fcntl.flock`. The lock
is held for a read and a write - never across a sleep - and the kernel drops it when its holder dies, so a killed
worker cannot wedge the others. The slots are `time.monotonic()` times: one clock for every process of a machine.

The files live in a directory the parent process creates for the run and removes after it, so no state leaks from
one run into the next. They only work on one machine; shards on other machines divide the rate instead
(see `_pace.shard_share`).
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# next slot, rate (calls/s), cooldown until, cuts; stated limit, bad rate, bad until, window start, window calls
# admitted, window 429s, admitted rate of the last window (see Timetable)
_TIMETABLE = struct.Struct("<dddqddddqqd")
_SPEND = struct.Struct("<d")  # USD spent by every process of the run


@dataclass
class Timetable:
    """A model's pacing state: when the next call may go, at what rate."""

    rate: float
    slot: float = float("-inf")
    cooldown_until: float = 0.0
    cuts: int = 0
    # Learned (no `--rpm`; `_pace_learn`): the provider's stated limit in calls/s (0: none), the lowest rate that
    # drew a 429 recently and until when it caps growth, and the current measuring window's admitted calls and 429s.
    limit: float = 0.0
    bad: float = 0.0
    bad_until: float = 0.0
    window_start: float = 0.0
    window_ok: int = 0
    window_429: int = 0
    seen: float = 0.0  # calls/s admitted in the last closed window

    def pack(self) -> bytes:
        """The record as stored."""
        return _TIMETABLE.pack(
            self.slot, self.rate, self.cooldown_until, self.cuts, self.limit, self.bad, self.bad_until,
            self.window_start, self.window_ok, self.window_429, self.seen,
        )  # fmt: skip


class SharedFile:
    """A tiny record in a file, read and rewritten under an exclusive `flock`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._pid = 0

    def _open(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # a descriptor does not follow a fork's lock semantics
            self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        return self._fd

    @contextmanager
    def locked(self) -> Iterator[int]:
        """Hold the file's lock (microseconds: a read and a write)."""
        fd = self._open()
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield fd
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Release the descriptor (the file stays for the other processes)."""
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None


class SharedTimetable(SharedFile):
    """A model's timetable, kept by every process that opens the same file."""

    def __init__(self, directory: str, model: str, ceiling: float, start: float | None = None) -> None:
        name = hashlib.sha256(model.encode()).hexdigest()[:24]
        super().__init__(Path(directory) / f"rate-{name}")
        self.ceiling = ceiling
        self.start = ceiling if start is None else start  # the rate of a fresh timetable

    @contextmanager
    def update(self) -> Iterator[Timetable]:
        """The timetable as every process left it; changes are written back when the block ends."""
        with self.locked() as fd:
            table = self._read(fd)
            yield table
            os.pwrite(fd, table.pack(), 0)

    def _read(self, fd: int) -> Timetable:
        raw = os.pread(fd, _TIMETABLE.size, 0)
        if len(raw) == _TIMETABLE.size:
            slot, rate, cooldown, cuts, limit, bad, bad_until, start, ok, limited, seen = _TIMETABLE.unpack(raw)
            table = Timetable(rate, slot, cooldown, cuts, limit, bad, bad_until, start, ok, limited, seen)
            # A torn or foreign record (a writer killed mid-write) starts a fresh timetable rather than pacing to
            # a nonsense rate: the worst case is one call early. (A learning pacer's ceiling is infinite.)
            numbers = (table.cooldown_until, table.limit, table.bad, table.bad_until, table.window_start, table.seen)
            if (
                0 < table.rate <= self.ceiling
                and math.isfinite(table.rate)
                and not math.isnan(table.slot)
                and all(math.isfinite(x) and x >= 0 for x in numbers)
                and min(table.cuts, table.window_ok, table.window_429) >= 0
            ):
                return table
        return Timetable(rate=self.start)


class SharedSpend(SharedFile):
    """The USD every process of the run has spent."""

    def __init__(self, directory: str) -> None:
        super().__init__(Path(directory) / "spend")

    def add(self, usd: float) -> float:
        """Add this call's cost; returns the run's total."""
        with self.locked() as fd:
            raw = os.pread(fd, _SPEND.size, 0)
            total = _SPEND.unpack(raw)[0] if len(raw) == _SPEND.size else 0.0
            total = (total if math.isfinite(total) and total >= 0 else 0.0) + usd
            os.pwrite(fd, _SPEND.pack(total), 0)
            return total
