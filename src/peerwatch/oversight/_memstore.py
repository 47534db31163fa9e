"""An in-memory audit store: for `policy test`, whose thousands of simulated calls need a record but no fsync."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ._checkpoint import Checkpoint
from ._store import GENESIS, Builder


class MemoryCheckpoints:
    """The `CheckpointSink` protocol over a list, beside a `MemoryStore`."""

    def __init__(self) -> None:
        self._cps: list[Checkpoint] = []

    def append(self, cp: Checkpoint) -> None:
        """Publish one checkpoint."""
        self._cps.append(cp)

    def all(self) -> list[Checkpoint]:
        """Every checkpoint, oldest first."""
        return list(self._cps)

    def latest(self) -> Checkpoint | None:
        """The newest checkpoint, if any."""
        return self._cps[-1] if self._cps else None


class MemoryStore:
    """The `AuditStore` protocol over a list; gone when the process ends (never use it for a real run)."""

    # No identity and no place on disk: a witness has nothing to bind to.
    log_id: str | None = None
    display = "memory"
    location = ""

    def __init__(self) -> None:
        self._rows: list[tuple[int, str, str]] = []
        self._lock = threading.Lock()
        self._checkpoints = MemoryCheckpoints()

    def checkpoint_store(self) -> MemoryCheckpoints:
        """The checkpoint list beside the records."""
        return self._checkpoints

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the write lock: checkpoints are taken in log order."""
        with self._lock:
            yield

    def append(self, build: Builder) -> tuple[int, str, str]:
        """Append one record built from (seq, prev_hash)."""
        return self.append_many([build])[0]

    def append_many(self, builds: list[Builder]) -> list[tuple[int, str, str]]:
        """Append several records."""
        out: list[tuple[int, str, str]] = []
        for build in builds:
            seq, prev = (self._rows[-1][0] + 1, self._rows[-1][1]) if self._rows else (0, GENESIS)
            h, body = build(seq, prev)
            self._rows.append((seq, h, body))
            out.append((seq, h, body))
        return out

    def records(self, start: int = 0) -> Iterator[tuple[int, str, str]]:
        """Records from `start`."""
        yield from self._rows[start:]

    def size(self) -> int:
        """Number of records."""
        return len(self._rows)

    def close(self) -> None:
        """Nothing to close."""
