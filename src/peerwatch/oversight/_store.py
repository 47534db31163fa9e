"""Audit-log storage backends: SQLite (WAL, one host, several processes) and PostgreSQL (several hosts).

A backend stores opaque records (seq, hash, canonical body) and appends atomically: the sequence number and the
previous record's hash are read and the new record written in one transaction, so concurrent writers cannot fork
the chain.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol


class StoreError(RuntimeError):
    """The audit store cannot be reached or written. Callers must fail closed."""


Builder = Callable[[int, str], tuple[str, str]]
"""Given (seq, prev_hash) returns (hash, body) of the record to append."""


class AuditStore(Protocol):
    """What the audit log needs from a backend."""

    def append(self, build: Builder) -> tuple[int, str, str]: ...
    def append_many(self, builds: list[Builder]) -> list[tuple[int, str, str]]: ...
    def records(self, start: int = 0) -> Iterator[tuple[int, str, str]]: ...
    def size(self) -> int: ...
    def close(self) -> None: ...


GENESIS = "0" * 64


class SQLiteStore:
    """SQLite in WAL mode with `synchronous=FULL`: a returned append survives a crash or power loss."""

    def __init__(self, path: str | Path, timeout: float = 30.0) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One connection shared by threads; AuditLog serialises its use.
            self._db = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, body TEXT NOT NULL)"
            )
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"audit store {self.path}: {exc}") from None

    def append(self, build: Builder) -> tuple[int, str, str]:
        """Append one record built from (seq, prev_hash)."""
        return self.append_many([build])[0]

    def append_many(self, builds: list[Builder]) -> list[tuple[int, str, str]]:
        """Append several records in one transaction (one fsync)."""
        try:
            self._db.execute("BEGIN IMMEDIATE")  # takes the write lock before reading the head
            try:
                row = self._db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (row[0] + 1, row[1]) if row else (0, GENESIS)
                out = []
                for build in builds:
                    h, body = build(seq, prev)
                    self._db.execute("INSERT INTO audit (seq, hash, body) VALUES (?, ?, ?)", (seq, h, body))
                    out.append((seq, h, body))
                    seq, prev = seq + 1, h
                self._db.execute("COMMIT")
                return out
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"audit store {self.path}: {exc}") from None

    def records(self, start: int = 0) -> Iterator[tuple[int, str, str]]:
        """Records in storage order of seq."""
        try:
            yield from self._db.execute("SELECT seq, hash, body FROM audit WHERE seq >= ? ORDER BY seq", (start,))
        except sqlite3.Error as exc:
            raise StoreError(f"audit store {self.path}: {exc}") from None

    def size(self) -> int:
        """Number of records."""
        return int(self._db.execute("SELECT COUNT(*) FROM audit").fetchone()[0])

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        """Raw SQL, for tests that tamper with the log."""
        self._db.execute(sql, params)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()


class PostgresStore:
    """PostgreSQL backend for several hosts; a table lock serialises appends."""

    def __init__(self, dsn: str, table: str = "peerwatch_audit", connect_timeout: int = 5) -> None:
        import psycopg

        if not table.replace("_", "").isalnum():
            raise ValueError(f"invalid table name {table!r}")
        self.table = table
        try:
            self._db = psycopg.connect(dsn, autocommit=True, connect_timeout=connect_timeout)
            self._db.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (seq BIGINT PRIMARY KEY, hash TEXT NOT NULL, body TEXT NOT NULL)"
            )
        except psycopg.Error as exc:
            raise StoreError(f"audit store (postgres): {' '.join(str(exc).split())}") from None

    def append(self, build: Builder) -> tuple[int, str, str]:
        """Append one record built from (seq, prev_hash)."""
        return self.append_many([build])[0]

    def append_many(self, builds: list[Builder]) -> list[tuple[int, str, str]]:
        """Append several records in one transaction."""
        import psycopg

        try:
            with self._db.transaction():
                self._db.execute(f"LOCK TABLE {self.table} IN EXCLUSIVE MODE")
                row = self._db.execute(f"SELECT seq, hash FROM {self.table} ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (row[0] + 1, row[1]) if row else (0, GENESIS)
                out = []
                for build in builds:
                    h, body = build(seq, prev)
                    self._db.execute(f"INSERT INTO {self.table} (seq, hash, body) VALUES (%s, %s, %s)", (seq, h, body))
                    out.append((seq, h, body))
                    seq, prev = seq + 1, h
                return out
        except psycopg.Error as exc:
            raise StoreError(f"audit store (postgres): {' '.join(str(exc).split())}") from None

    def records(self, start: int = 0) -> Iterator[tuple[int, str, str]]:
        """Records in order of seq."""
        import psycopg

        try:
            cur = self._db.execute(f"SELECT seq, hash, body FROM {self.table} WHERE seq >= %s ORDER BY seq", (start,))
            yield from cur
        except psycopg.Error as exc:
            raise StoreError(f"audit store (postgres): {' '.join(str(exc).split())}") from None

    def size(self) -> int:
        """Number of records."""
        return int(self._db.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0])  # type: ignore[index]

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        """Raw SQL, for tests that tamper with the log."""
        self._db.execute(sql.replace("audit", self.table).replace("?", "%s"), params)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()


def open_store(location: str) -> AuditStore:
    """A store from a location: `postgresql://...` or a SQLite file path."""
    if location.startswith(("postgresql://", "postgres://")):
        return PostgresStore(location)
    return SQLiteStore(location)
