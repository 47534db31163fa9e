"""Audit-log storage backends: SQLite (WAL, one host, several processes) and PostgreSQL (several hosts).

A backend stores opaque records (seq, hash, canonical body) and appends atomically: the sequence number and the
previous record's hash are read and the new record written in one transaction, so concurrent writers cannot fork
the chain.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from ._checkpoint import Checkpoint, CheckpointError, CheckpointStore, parse_checkpoint
from ._redact import is_dsn, redact_dsn, redact_error


class StoreError(RuntimeError):
    """The audit store cannot be reached or written. Callers must fail closed."""


Builder = Callable[[int, str], tuple[str, str]]
"""Given (seq, prev_hash) returns (hash, body) of the record to append."""


class CheckpointSink(Protocol):
    """Where a log's signed checkpoints are published (a file beside a SQLite log, a table beside a PostgreSQL one)."""

    def append(self, cp: Checkpoint) -> None: ...
    def all(self) -> list[Checkpoint]: ...
    def latest(self) -> Checkpoint | None: ...


class AuditStore(Protocol):
    """What the audit log needs from a backend."""

    log_id: str | None
    display: str
    location: str

    def checkpoint_store(self) -> CheckpointSink: ...
    def exclusive(self) -> Any: ...
    def append(self, build: Builder) -> tuple[int, str, str]: ...
    def append_many(self, builds: list[Builder]) -> list[tuple[int, str, str]]: ...
    def records(self, start: int = 0) -> Iterator[tuple[int, str, str]]: ...
    def size(self) -> int: ...
    def close(self) -> None: ...


GENESIS = "0" * 64


def new_log_id() -> str:
    """A fresh, non-secret log identity (the C2SP origin of its checkpoints)."""
    return f"peerwatch.local/audit/{secrets.token_hex(16)}"


class SQLiteStore:
    """SQLite in WAL mode with `synchronous=FULL`: a returned append survives a crash or power loss."""

    def __init__(self, path: str | Path, timeout: float = 30.0, create: bool = True) -> None:
        self.path = Path(path)
        self.display = str(self.path)
        self.location = str(self.path.resolve())  # what the witness binds to the log id written here
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            elif not self.path.is_file():
                raise StoreError(f"audit store not found: {self.path}")
            # One connection shared by threads; AuditLog serialises its use.
            self._db = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            if create:
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, body TEXT NOT NULL)"
                )
                self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('log_id', ?)", (new_log_id(),))
            self.log_id = self._read_log_id()
            st = self.path.stat()
            # Which file we opened: a deleted or swapped file must not silently take (or lose) records.
            self._identity = (st.st_dev, st.st_ino)
            self._tlock = threading.RLock()  # one shared connection: one transaction at a time
            # The last record this process wrote: if it vanishes or changes under us, the store was tampered with.
            self._last: tuple[int, str] | None = None
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"audit store {self.path}: {exc}") from None

    def _read_log_id(self) -> str | None:
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'log_id'").fetchone()
        except sqlite3.OperationalError:  # a log from before log ids, or not a peerwatch log
            return None
        return str(row[0]) if row else None

    def _check_file(self) -> None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            raise StoreError(f"audit store {self.path} was deleted during the run") from None
        except OSError as exc:
            raise StoreError(f"audit store {self.path}: {exc.strerror or exc}") from None
        if (st.st_dev, st.st_ino) != self._identity:
            raise StoreError(f"audit store {self.path} was replaced during the run")
        if not os.access(self.path, os.W_OK):
            raise StoreError(f"audit store {self.path} is not writable")

    def checkpoint_store(self) -> CheckpointStore:
        """The checkpoint file beside the log."""
        return CheckpointStore(self.path.with_suffix(".checkpoints.jsonl"))

    def append(self, build: Builder) -> tuple[int, str, str]:
        """Append one record built from (seq, prev_hash)."""
        return self.append_many([build])[0]

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the write lock (all threads and processes): checkpoints are taken and published in log order."""
        with self._tlock:
            self._check_file()
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"audit store {self.path}: {exc}") from None
            try:
                yield
            finally:
                self._db.execute("COMMIT")

    def append_many(self, builds: list[Builder]) -> list[tuple[int, str, str]]:
        """Append several records in one transaction (one fsync)."""
        with self._tlock:
            return self._append_many(builds)

    def _append_many(self, builds: list[Builder]) -> list[tuple[int, str, str]]:
        self._check_file()
        try:
            self._db.execute("BEGIN IMMEDIATE")  # takes the write lock before reading the head
            try:
                if self._last is not None:
                    mine = self._db.execute("SELECT hash FROM audit WHERE seq = ?", (self._last[0],)).fetchone()
                    if mine is None or mine[0] != self._last[1]:
                        raise StoreError(f"audit store {self.path}: record {self._last[0]} was removed or changed")
                row = self._db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (row[0] + 1, row[1]) if row else (0, GENESIS)
                out = []
                for build in builds:
                    h, body = build(seq, prev)
                    self._db.execute("INSERT INTO audit (seq, hash, body) VALUES (?, ?, ?)", (seq, h, body))
                    out.append((seq, h, body))
                    seq, prev = seq + 1, h
                self._db.execute("COMMIT")
                if out:
                    self._last = (out[-1][0], out[-1][1])
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"audit store {self.path}: {exc}") from None
        self._check_file()  # deleted while we wrote: the records went nowhere, the caller must deny
        return out

    def records(self, start: int = 0) -> Iterator[tuple[int, str, str]]:
        """Records in storage order of seq."""
        try:
            yield from self._db.execute("SELECT seq, hash, body FROM audit WHERE seq >= ? ORDER BY seq", (start,))
        except sqlite3.Error as exc:
            raise StoreError(f"audit store {self.path}: {exc}") from None

    def linked_records(self) -> Iterator[tuple[int, str, str, bool, Any, Any]]:
        """(seq, hash, body, True, claimed seq, claimed prev_hash), read by SQLite's JSON parser (faster).

        Raises ValueError if a body is not JSON: the caller then reads the links itself, record by record.
        """
        sql = (
            "SELECT seq, hash, body, 1, json_extract(body, '$.seq'), json_extract(body, '$.prev_hash') "
            "FROM audit ORDER BY seq"
        )
        try:
            yield from self._db.execute(sql)
        except sqlite3.OperationalError as exc:
            if "JSON" in str(exc):
                raise ValueError(str(exc)) from None
            raise StoreError(f"audit store {self.path}: {exc}") from None
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
    """PostgreSQL backend for several hosts; a table lock serialises appends. The DSN's secrets are never shown."""

    def __init__(
        self, dsn: str, table: str = "peerwatch_audit", connect_timeout: int = 5, create: bool = True
    ) -> None:
        import psycopg

        if not table.replace("_", "").isalnum():
            raise ValueError(f"invalid table name {table!r}")
        self.table, self._dsn = table, dsn
        self.display = f"{redact_dsn(dsn)} table {table}"
        self.location = f"{redact_dsn(dsn)}#{table}"
        self._tlock = threading.RLock()
        self._last: tuple[int, str] | None = None  # see SQLiteStore
        try:
            self._db = psycopg.connect(dsn, autocommit=True, connect_timeout=connect_timeout)
            if create:
                self._db.execute(
                    f"CREATE TABLE IF NOT EXISTS {table} "
                    "(seq BIGINT PRIMARY KEY, hash TEXT NOT NULL, body TEXT NOT NULL)"
                )
                self._db.execute(
                    f"CREATE TABLE IF NOT EXISTS {table}_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
                )
                self._db.execute(
                    f"CREATE TABLE IF NOT EXISTS {table}_checkpoints (n BIGSERIAL PRIMARY KEY, note TEXT NOT NULL)"
                )
                self._db.execute(
                    f"INSERT INTO {table}_meta (key, value) VALUES ('log_id', %s) ON CONFLICT DO NOTHING",
                    (new_log_id(),),
                )
            self.log_id: str | None = None
            row = self._db.execute(f"SELECT to_regclass('{table}_meta')").fetchone()
            if row and row[0]:
                got = self._db.execute(f"SELECT value FROM {table}_meta WHERE key = 'log_id'").fetchone()
                self.log_id = str(got[0]) if got else None
        except psycopg.Error as exc:
            raise StoreError(f"audit store (postgres): {redact_error(exc, dsn)}") from None

    def _error(self, exc: Exception) -> StoreError:
        return StoreError(f"audit store {self.display}: {redact_error(exc, self._dsn)}")

    def checkpoint_store(self) -> PostgresCheckpoints:
        """The checkpoint table beside the log table."""
        return PostgresCheckpoints(self)

    def append(self, build: Builder) -> tuple[int, str, str]:
        """Append one record built from (seq, prev_hash)."""
        return self.append_many([build])[0]

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the table lock (all hosts): checkpoints are taken and published in log order."""
        import psycopg

        with self._tlock:
            try:
                tx = self._db.transaction()
                tx.__enter__()
                self._db.execute(f"LOCK TABLE {self.table} IN EXCLUSIVE MODE")
            except psycopg.Error as exc:
                raise self._error(exc) from None
            try:
                yield
            except BaseException as exc:
                tx.__exit__(type(exc), exc, exc.__traceback__)
                raise
            tx.__exit__(None, None, None)

    def append_many(self, builds: list[Builder]) -> list[tuple[int, str, str]]:
        """Append several records in one transaction."""
        import psycopg

        with self._tlock:
            try:
                return self._append_many(builds)
            except psycopg.Error as exc:
                raise self._error(exc) from None

    def _append_many(self, builds: list[Builder]) -> list[tuple[int, str, str]]:
        with self._db.transaction():
            self._db.execute(f"LOCK TABLE {self.table} IN EXCLUSIVE MODE")
            if self._last is not None:
                q = f"SELECT hash FROM {self.table} WHERE seq = %s"
                mine = self._db.execute(q, (self._last[0],)).fetchone()
                if mine is None or mine[0] != self._last[1]:
                    raise StoreError(f"audit store {self.display}: record {self._last[0]} was removed or changed")
            row = self._db.execute(f"SELECT seq, hash FROM {self.table} ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (row[0] + 1, row[1]) if row else (0, GENESIS)
            out = []
            for build in builds:
                h, body = build(seq, prev)
                self._db.execute(f"INSERT INTO {self.table} (seq, hash, body) VALUES (%s, %s, %s)", (seq, h, body))
                out.append((seq, h, body))
                seq, prev = seq + 1, h
        if out:
            self._last = (out[-1][0], out[-1][1])
        return out

    def records(self, start: int = 0) -> Iterator[tuple[int, str, str]]:
        """Records in order of seq."""
        import psycopg

        try:
            cur = self._db.execute(f"SELECT seq, hash, body FROM {self.table} WHERE seq >= %s ORDER BY seq", (start,))
            yield from cur
        except psycopg.Error as exc:
            raise self._error(exc) from None

    def size(self) -> int:
        """Number of records."""
        row = self._db.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()
        if row is None:  # COUNT(*) always answers one row; none means the connection is broken
            raise StoreError(f"audit store {self.display}: COUNT(*) returned no row")
        return int(row[0])

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        """Raw SQL, for tests that tamper with the log."""
        self._db.execute(sql.replace("audit", self.table).replace("?", "%s"), params)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()


class PostgresCheckpoints:
    """Signed checkpoint notes in `<table>_checkpoints`, in insertion order."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    def _error(self, exc: Exception) -> CheckpointError:
        return CheckpointError(f"checkpoints of {self.store.display}: {redact_error(exc, self.store._dsn)}")

    def append(self, cp: Checkpoint) -> None:
        """Publish one checkpoint."""
        import psycopg

        try:
            self.store._db.execute(f"INSERT INTO {self.store.table}_checkpoints (note) VALUES (%s)", (cp.note,))
        except psycopg.Error as exc:
            raise self._error(exc) from None

    def all(self) -> list[Checkpoint]:
        """Every checkpoint, oldest first."""
        import psycopg

        try:
            rows = self.store._db.execute(f"SELECT n, note FROM {self.store.table}_checkpoints ORDER BY n").fetchall()
        except psycopg.Error as exc:
            raise self._error(exc) from None
        out = []
        for n, note in rows:
            try:
                out.append(parse_checkpoint(note))
            except CheckpointError as exc:
                raise CheckpointError(f"checkpoint {n} of {self.store.display}: {exc}") from None
        return out

    def latest(self) -> Checkpoint | None:
        """The newest checkpoint, if any."""
        cps = self.all()
        return cps[-1] if cps else None


def open_store(location: str, create: bool = True) -> AuditStore:
    """A store from a location: `postgresql://...` or a SQLite file path (`create=False`: must exist, not changed)."""
    if is_dsn(location):
        return PostgresStore(location, create=create)
    return SQLiteStore(location, create=create)
