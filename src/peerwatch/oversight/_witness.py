"""A witness of the latest checkpoint per log (C2SP tlog-witness), kept in the operator's key store or PostgreSQL.

The witness remembers (size, root, cosigned note) per log. It accepts a new checkpoint only if it is signed by the
log's key, is not smaller than what it has seen, and comes with an RFC 6962 consistency proof from the size it holds;
it then cosigns it with a timestamp (C2SP tlog-cosignature: `cosignature/v1`, key ID algorithm 0x04, signature =
key hash || big-endian u64 timestamp || Ed25519 signature) and stores it with compare-and-swap on the old size.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ValidationError

from ._checkpoint import (
    ALG_COSIGNATURE_V1,
    DASH,
    Checkpoint,
    CheckpointError,
    Signer,
    key_hash,
    parse_checkpoint,
    verify_checkpoint,
)
from ._merkle import verify_consistency
from ._redact import log_file_name

WITNESS_NAME = "peerwatch.local/witness"


class WitnessError(RuntimeError):
    """The witness refused a checkpoint or its storage failed (one line)."""


def next_history(history: str, size: int, root: str) -> str:
    """The witness's running digest over every checkpoint it cosigned, extended by one (size, root)."""
    return hashlib.sha256(f"{history}\n{size} {root}".encode()).hexdigest()


def history_of(cps: Sequence[Checkpoint]) -> str:
    """The running digest a witness would hold after cosigning exactly `cps`, in order."""
    h = ""
    for cp in cps:
        h = next_history(h, cp.size, cp.root)
    return h


class WitnessRecord(BaseModel):
    """What the witness holds for one log: the latest accepted checkpoint, cosigned, and how many it cosigned.

    `count` and `history` (a running SHA-256 over every cosigned (size, root), oldest first) let a verifier tell that
    the checkpoints published beside the log are exactly the ones cosigned: none deleted or swapped during the run.
    A record from before they were kept has `count` 0 (history unknown; only the latest checkpoint is compared).
    """

    log_id: str
    size: int
    root: str
    note: str
    count: int = 0
    history: str = ""

    def checkpoint(self) -> Checkpoint:
        """The cosigned checkpoint."""
        cp = parse_checkpoint(self.note)
        if (cp.origin, cp.size, cp.root) != (self.log_id, self.size, self.root):
            raise CheckpointError("witness record does not match its own note")
        return cp


def cosignature_message(cp: Checkpoint, timestamp: int) -> bytes:
    """The bytes a tlog-cosignature/v1 signs."""
    return f"cosignature/v1\ntime {timestamp}\n{cp.text()}".encode()


def cosign(cp: Checkpoint, witness: Signer, name: str = WITNESS_NAME, timestamp: int | None = None) -> Checkpoint:
    """The checkpoint with the witness's timestamped cosignature line appended."""
    ts = int(time.time()) if timestamp is None else timestamp
    sig = key_hash(name, witness.public, ALG_COSIGNATURE_V1) + ts.to_bytes(8, "big")
    sig += witness.sign_raw(cosignature_message(cp, ts))
    return cp.with_signature(f"{DASH} {name} {base64.b64encode(sig).decode()}\n")


def verify_cosignature(cp: Checkpoint, public: Ed25519PublicKey, name: str = WITNESS_NAME) -> int | None:
    """The timestamp of a valid cosignature by `public` on `cp`, or None."""
    kh = key_hash(name, public, ALG_COSIGNATURE_V1)
    try:
        sigs = cp.signatures()
    except CheckpointError:
        return None
    for n, sig in sigs:
        if n == name and sig[:4] == kh and len(sig) == 76:
            ts = int.from_bytes(sig[4:12], "big")
            try:
                public.verify(sig[12:], cosignature_message(cp, ts))
                return ts
            except InvalidSignature:
                continue
    return None


class WitnessBackend(Protocol):
    """Storage of witness records with compare-and-swap on the size."""

    def get(self, log_id: str) -> WitnessRecord | None: ...
    def put(self, record: WitnessRecord, old_size: int | None, old_count: int | None = None) -> bool: ...
    def bound(self, location: str) -> str | None: ...
    def bind(self, location: str, log_id: str) -> None: ...


class FileWitness:
    """One JSON file per log under the key store's `witness/` directory (atomic replace, fsynced)."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def _path(self, log_id: str) -> Path:
        return self.dir / f"{log_file_name(log_id)}.json"

    def get(self, log_id: str) -> WitnessRecord | None:
        """The record for a log, if any."""
        path = self._path(log_id)
        if not path.exists():
            return None
        try:
            rec = WitnessRecord.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, ValidationError) as exc:
            raise WitnessError(f"witness record {path} is unreadable: {str(exc).splitlines()[0][:80]}") from None
        if rec.log_id != log_id:
            raise WitnessError(f"witness record {path} is for another log")
        return rec

    def _loc(self, location: str) -> Path:
        return self.dir / "locations" / f"{hashlib.sha256(location.encode()).hexdigest()[:32]}.json"

    def bound(self, location: str) -> str | None:
        """The log id last written at a store location, if any."""
        try:
            data = json.loads(self._loc(location).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise WitnessError(f"witness location record for {location} is unreadable: {exc}") from None
        return str(data.get("log_id")) if isinstance(data, dict) and data.get("location") == location else None

    def bind(self, location: str, log_id: str) -> None:
        """Remember which log is written at a location (a new run at the same path rebinds it)."""
        path = self._loc(location)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"location": location, "log_id": log_id}), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            raise WitnessError(f"witness location record {path} cannot be written: {exc.strerror or exc}") from None

    def put(self, record: WitnessRecord, old_size: int | None, old_count: int | None = None) -> bool:
        """Store the record if the held size (and count) are still `old_size` (None: no record yet)."""
        current = self.get(record.log_id)
        if (current.size if current else None) != old_size:
            return False
        if old_count is not None and current is not None and current.count != old_count:
            return False
        path = self._path(record.log_id)
        tmp = path.with_suffix(".tmp")
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            with tmp.open("w", encoding="utf-8") as f:
                f.write(record.model_dump_json())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            raise WitnessError(f"witness record {path} cannot be written: {exc.strerror or exc}") from None
        return True


class PostgresWitness:
    """Witness records in a PostgreSQL table (use a database and role the agent cannot reach)."""

    def __init__(self, dsn: str, table: str = "peerwatch_witness") -> None:
        import psycopg

        from ._redact import redact_error

        if not table.replace("_", "").isalnum():
            raise ValueError(f"invalid table name {table!r}")
        self.table, self._dsn = table, dsn
        try:
            self._db = psycopg.connect(dsn, autocommit=True, connect_timeout=5)
            self._db.execute(
                f"CREATE TABLE IF NOT EXISTS {table} "
                "(log_id TEXT PRIMARY KEY, size BIGINT NOT NULL, root TEXT NOT NULL, note TEXT NOT NULL)"
            )
            self._db.execute(
                f"CREATE TABLE IF NOT EXISTS {table}_locations (location TEXT PRIMARY KEY, log_id TEXT NOT NULL)"
            )
            self._db.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS count BIGINT NOT NULL DEFAULT 0")
            self._db.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS history TEXT NOT NULL DEFAULT ''")
        except psycopg.Error as exc:
            raise WitnessError(f"witness (postgres): {redact_error(exc, dsn)}") from None

    def get(self, log_id: str) -> WitnessRecord | None:
        """The record for a log, if any."""
        row = self._db.execute(
            f"SELECT log_id, size, root, note, count, history FROM {self.table} WHERE log_id = %s", (log_id,)
        )
        r = row.fetchone()
        return WitnessRecord(log_id=r[0], size=r[1], root=r[2], note=r[3], count=r[4], history=r[5]) if r else None

    def bound(self, location: str) -> str | None:
        """The log id last written at a store location, if any."""
        row = self._db.execute(f"SELECT log_id FROM {self.table}_locations WHERE location = %s", (location,))
        r = row.fetchone()
        return str(r[0]) if r else None

    def bind(self, location: str, log_id: str) -> None:
        """Remember which log is written at a location."""
        self._db.execute(
            f"INSERT INTO {self.table}_locations (location, log_id) VALUES (%s, %s) "
            "ON CONFLICT (location) DO UPDATE SET log_id = EXCLUDED.log_id",
            (location, log_id),
        )

    def put(self, record: WitnessRecord, old_size: int | None, old_count: int | None = None) -> bool:
        """Insert, or update only if the stored size (and count) are still `old_size` (`old_count`)."""
        args = (record.size, record.root, record.note, record.count, record.history, record.log_id)
        if old_size is None:
            cur = self._db.execute(
                f"INSERT INTO {self.table} (size, root, note, count, history, log_id) VALUES (%s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (log_id) DO NOTHING",
                args,
            )
        else:
            # Compare-and-swap on the size and the count: two cosignings of the same size must not both land.
            cur = self._db.execute(
                f"UPDATE {self.table} SET size = %s, root = %s, note = %s, count = %s, history = %s "
                "WHERE log_id = %s AND size = %s AND count = %s",
                (*args, old_size, old_count or 0),
            )
        return cur.rowcount == 1


class Witness:
    """Checks and cosigns checkpoints of logs signed by `log_key`."""

    def __init__(self, backend: WitnessBackend, key: Signer, log_key: Ed25519PublicKey) -> None:
        self.backend, self.key, self.log_key = backend, key, log_key

    def get(self, log_id: str) -> WitnessRecord | None:
        """What the witness holds for a log."""
        return self.backend.get(log_id)

    def bind(self, location: str, log_id: str) -> None:
        """Record that `log_id` is the log written at `location` (so a swapped-in log is noticed)."""
        if self.backend.bound(location) != log_id:
            self.backend.bind(location, log_id)

    def add_checkpoint(self, cp: Checkpoint, old_size: int, proof: Sequence[bytes]) -> Checkpoint:
        """Accept `cp` if it extends what the witness holds (proof from `old_size`); return it cosigned."""
        if not verify_checkpoint(cp, self.log_key):
            raise WitnessError(f"witness: checkpoint of {cp.origin} is not signed by the log's key")
        held = self.backend.get(cp.origin)
        held_size = held.size if held else 0
        if old_size != held_size:
            raise WitnessError(f"witness: holds size {held_size} for {cp.origin}, request was from size {old_size}")
        if cp.size < held_size:
            raise WitnessError(f"witness: refusing a smaller tree ({cp.size} < {held_size}) for {cp.origin}")
        if held is not None and held_size > 0:
            ok = verify_consistency(held_size, cp.size, bytes.fromhex(held.root), bytes.fromhex(cp.root), proof)
            if not ok:
                raise WitnessError(f"witness: checkpoint of size {cp.size} is inconsistent with size {held_size}")
        signed = cosign(cp, self.key)
        # A record from before the witness counted (count 0) stays uncounted: its earlier history is unknown.
        counted = held is None or held.count > 0
        rec = WitnessRecord(
            log_id=cp.origin,
            size=cp.size,
            root=cp.root,
            note=signed.note,
            count=(held.count if held else 0) + 1 if counted else 0,
            history=next_history(held.history if held else "", cp.size, cp.root) if counted else "",
        )
        if not self.backend.put(rec, held.size if held else None, held.count if held else None):
            raise WitnessError(f"witness: {cp.origin} changed concurrently; retry")
        return signed
