"""The orchestrator's tamper-evident audit log: hash-chained records, a Merkle tree, signed checkpoints.

Each record is the canonical JSON of (seq, time, actor, tool, args digest, effect, decision, rule, approval,
prev_hash); its hash is SHA-256 over that body, and the next record names it as `prev_hash`. The Merkle tree's
leaves are the record bodies, so a signed checkpoint (size, root) pins the whole prefix: editing, deleting,
inserting or reordering records breaks the chain, and truncating the log or rewriting it consistently breaks the
match with a held checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import threading
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from ._canonical import canonical_json, digest
from ._checkpoint import Checkpoint, CheckpointStore, Signer, verify_checkpoint
from ._merkle import leaf_hash, root_from_hashes
from ._store import GENESIS, AuditStore


class AuditRecord(BaseModel):
    """One audit record (the body that is hashed)."""

    seq: int
    time: str
    actor: str = Field(description="Identity bound by the orchestrator (never taken from the agent).")
    tool: str
    args_digest: str
    args: dict[str, Any] = Field(default_factory=dict)
    effect: dict[str, Any] = Field(default_factory=dict)
    decision: str
    rule: str | None = None
    approval: dict[str, Any] | None = None
    prev_hash: str


class VerifyResult(BaseModel):
    """Outcome of verifying a log."""

    ok: bool
    records: int
    first_bad: int | None = None
    reason: str = ""
    root: str = ""


def record_hash(body: bytes) -> str:
    """Hash of a record body."""
    return hashlib.sha256(body).hexdigest()


class AuditLog:
    """Append-only audit log over a store, with optional signer and checkpoint store."""

    def __init__(
        self,
        store: AuditStore,
        log_id: str = "peerwatch",
        signer: Signer | None = None,
        checkpoints: CheckpointStore | None = None,
        group_commit: bool = False,
    ) -> None:
        self.store, self.log_id, self.signer, self.checkpoints = store, log_id, signer, checkpoints
        # Group commit: concurrent appends share one transaction (one fsync); each caller still returns only once
        # its own record is durable. Without it every append is its own transaction.
        self._group = group_commit
        self._lock = threading.Lock()
        self._queue: list[tuple[dict[str, Any], Future[AuditRecord]]] = []
        self._flushing = False

    @staticmethod
    def _builder(fields: dict[str, Any]):  # type: ignore[no-untyped-def]
        def build(seq: int, prev: str) -> tuple[str, str]:
            rec = AuditRecord(seq=seq, prev_hash=prev, **fields)
            body = canonical_json(rec.model_dump(mode="json"))
            return record_hash(body), body.decode("utf-8")

        return build

    @staticmethod
    def _fields(
        actor: str,
        tool: str,
        args: dict[str, Any],
        effect: dict[str, Any] | None,
        decision: str,
        rule: str | None,
        approval: dict[str, Any] | None,
    ) -> dict[str, Any]:
        return {
            "time": datetime.now(UTC).isoformat(),
            "actor": actor,
            "tool": tool,
            "args_digest": digest(args),
            "args": args,
            "effect": effect or {},
            "decision": decision,
            "rule": rule,
            "approval": approval,
        }

    def append(
        self,
        actor: str,
        tool: str,
        args: dict[str, Any],
        decision: str,
        effect: dict[str, Any] | None = None,
        rule: str | None = None,
        approval: dict[str, Any] | None = None,
    ) -> AuditRecord:
        """Append one durable record and return it (raises StoreError: callers must then deny)."""
        fields = self._fields(actor, tool, args, effect, decision, rule, approval)
        if not self._group:
            with self._lock:
                _, _, body = self.store.append(self._builder(fields))
            return AuditRecord.model_validate_json(body)
        fut: Future[AuditRecord] = Future()
        with self._lock:
            self._queue.append((fields, fut))
            lead = not self._flushing
            if lead:
                self._flushing = True
        if lead:
            self._flush()
        return fut.result()

    def _flush(self) -> None:
        # The first waiting caller commits everything queued so far, and keeps going until the queue is empty.
        while True:
            with self._lock:
                batch, self._queue = self._queue, []
                if not batch:
                    self._flushing = False
                    return
            try:
                rows = self.store.append_many([self._builder(f) for f, _ in batch])
            except Exception as exc:  # every waiter learns that its record was not written
                for _, fut in batch:
                    fut.set_exception(exc)
                continue
            for (_, fut), (_, _, body) in zip(batch, rows, strict=True):
                fut.set_result(AuditRecord.model_validate_json(body))

    def append_many(self, entries: list[dict[str, Any]]) -> int:
        """Append several records in one transaction; each entry has the keyword arguments of `append`."""
        builds = [
            self._builder(
                self._fields(
                    e["actor"],
                    e["tool"],
                    e.get("args", {}),
                    e.get("effect"),
                    e["decision"],
                    e.get("rule"),
                    e.get("approval"),
                )
            )
            for e in entries
        ]
        return len(self.store.append_many(builds))

    def leaf_hashes(self) -> list[bytes]:
        """Merkle leaf hashes of every record, in order."""
        return [leaf_hash(body.encode("utf-8")) for _, _, body in self.store.records()]

    def checkpoint(self) -> Checkpoint:
        """Sign the current tree and store the checkpoint apart from the log."""
        if self.signer is None:
            raise RuntimeError("no signer configured")
        hashes = self.leaf_hashes()
        cp = self.signer.sign(self.log_id, len(hashes), root_from_hashes(hashes))
        if self.checkpoints is not None:
            self.checkpoints.append(cp)
        return cp

    def records(self) -> list[AuditRecord]:
        """Every record, parsed."""
        return [AuditRecord.model_validate_json(body) for _, _, body in self.store.records()]

    def verify(self, checkpoint: Checkpoint | None = None, public_key: Any = None) -> VerifyResult:
        """Check the chain record by record, then the Merkle root against a held checkpoint.

        Returns the first bad record (or, for truncation / consistent rewrites, the checkpoint's size).
        """
        prev, expected, leaves = GENESIS, 0, []
        for seq, h, body in self.store.records():
            raw = body.encode("utf-8")
            if seq != expected:
                return VerifyResult(
                    ok=False,
                    records=len(leaves),
                    first_bad=expected,
                    reason=f"sequence gap or reorder: expected record {expected}, found {seq}",
                )
            if record_hash(raw) != h:
                return VerifyResult(
                    ok=False,
                    records=len(leaves),
                    first_bad=seq,
                    reason=f"record {seq} was modified: its hash does not match its content",
                )
            try:
                data = json.loads(body)
            except json.JSONDecodeError:
                return VerifyResult(ok=False, records=len(leaves), first_bad=seq, reason=f"record {seq} is not JSON")
            if data.get("seq") != seq:
                return VerifyResult(
                    ok=False,
                    records=len(leaves),
                    first_bad=seq,
                    reason=f"record {seq} claims to be record {data.get('seq')}",
                )
            if data.get("prev_hash") != prev:
                return VerifyResult(
                    ok=False,
                    records=len(leaves),
                    first_bad=seq,
                    reason=f"record {seq} does not chain to record {seq - 1}",
                )
            prev, expected = h, expected + 1
            leaves.append(leaf_hash(raw))
        root = root_from_hashes(leaves)
        if checkpoint is not None:
            if public_key is not None and not verify_checkpoint(checkpoint, public_key):
                return VerifyResult(ok=False, records=len(leaves), reason="checkpoint signature is invalid")
            if len(leaves) < checkpoint.size:
                return VerifyResult(
                    ok=False,
                    records=len(leaves),
                    first_bad=len(leaves),
                    reason=f"log truncated: {len(leaves)} records, checkpoint says {checkpoint.size}",
                )
            if root_from_hashes(leaves[: checkpoint.size]).hex() != checkpoint.root:
                return VerifyResult(
                    ok=False,
                    records=len(leaves),
                    # A consistent rewrite keeps the chain valid; only the checkpoint shows it, for its whole range.
                    first_bad=0,
                    reason=f"log rewritten: records 0-{checkpoint.size - 1} no longer match the signed checkpoint",
                )
        return VerifyResult(ok=True, records=len(leaves), root=root.hex())


def verify_checkpoints(cps: list[Checkpoint], public_key: Any) -> bool:
    """All checkpoints are validly signed and their sizes never shrink."""
    sizes = [c.size for c in cps]
    return all(verify_checkpoint(c, public_key) for c in cps) and sizes == sorted(sizes)
