"""An in-memory audit store: for `policy test`, whose thousands of simulated calls need a record but no fsync."""

from __future__ import annotations

from collections.abc import Iterator

from ._store import GENESIS, Builder


class MemoryStore:
    """The `AuditStore` protocol over a list; gone when the process ends (never use it for a real run)."""

    def __init__(self) -> None:
        self._rows: list[tuple[int, str, str]] = []

    def append(self, build: Builder) -> tuple[int, str, str]:
        """Append one record built from (seq, prev_hash)."""
        return self.append_many([build])[0]

    def append_many(self, builds: list[Builder]) -> list[tuple[int, str, str]]:
        """Append several records."""
        out = []
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
