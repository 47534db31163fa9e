"""The orchestrator's tamper-evident audit log: hash-chained records, a Merkle tree, signed checkpoints.

Each record is the canonical JSON of (seq, time, actor, tool, args digest, effect, decision, rule, approval,
prev_hash); its hash is SHA-256 over that body, and the next record names it as `prev_hash`. The Merkle tree's
leaves are the record bodies, so a signed checkpoint (size, root) pins the whole prefix: editing, deleting,
inserting or reordering records breaks the chain, and truncating the log or rewriting it consistently breaks the
match with a held checkpoint. Each checkpoint is witnessed (consistency proof from the witnessed size, cosigned) before
it is published beside the log; verification lives in `_verify.py`.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from ._canonical import canonical_json, digest
from ._checkpoint import Checkpoint, Signer
from ._merkle import MerkleTree, leaf_hash
from ._store import AuditStore, Builder, CheckpointSink
from ._witness import Witness


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
    covered: int = Field(default=0, description="Records covered by the newest checkpoint.")


def record_hash(body: bytes) -> str:
    """Hash of a record body."""
    return hashlib.sha256(body).hexdigest()


class AuditLog:
    """Append-only audit log over a store, with optional signer and checkpoint store."""

    def __init__(
        self,
        store: AuditStore,
        log_id: str | None = None,
        signer: Signer | None = None,
        checkpoints: CheckpointSink | None = None,
        group_commit: bool = False,
        witness: Witness | None = None,
    ) -> None:
        self.store, self.signer, self.witness = store, signer, witness
        self.log_id = log_id or getattr(store, "log_id", None) or "peerwatch.local/audit/unnamed"
        self.checkpoints = checkpoints if checkpoints is not None or signer is None else store.checkpoint_store()
        # The writer's own view of the tree: records are hashed once, however many checkpoints are taken.
        self._tree = MerkleTree()
        self._cp_lock = threading.Lock()
        # Group commit: concurrent appends share one transaction (one fsync); each caller still returns only once
        # its own record is durable. Without it every append is its own transaction.
        self._group = group_commit
        self._lock = threading.Lock()
        self._queue: list[tuple[dict[str, Any], Future[AuditRecord]]] = []
        self._flushing = False

    @staticmethod
    def _builder(fields: dict[str, Any]) -> Builder:
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
            # Let the callers just released by the previous commit queue their next record before we take the batch:
            # without this the leader races them and commits ever smaller batches (one fsync each).
            time.sleep(0)
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
        """Sign the current tree, have the witness check and cosign it, then publish it apart from the log.

        Raises StoreError, CheckpointError or WitnessError: a run whose log cannot be checkpointed must stop.
        """
        if self.signer is None:
            raise RuntimeError("no signer configured")
        exclusive = getattr(self.store, "exclusive", None)
        # Under the store's write lock: no record lands between signing and publishing, and checkpoints from
        # several processes sharing the store reach the witness and the checkpoint file in log order.
        with self._cp_lock, exclusive() if exclusive else contextlib.nullcontext():
            for _, _, body in self.store.records(len(self._tree)):
                self._tree.append(leaf_hash(body.encode("utf-8")))
            n = len(self._tree)
            root = self._tree.root(n)
            # Nothing new since the last published checkpoint: publish nothing. A second identical line would be
            # one an attacker could delete unseen (its twin still matches the witness); with none, sizes grow
            # strictly and any dropped line shows.
            last = self.checkpoints.latest() if self.checkpoints is not None else None
            held = self.witness.get(self.log_id) if self.witness is not None else None
            same = last is not None and last.size == n and last.root == root.hex()
            if last is not None and same and (held is None or (held.size == n and held.root == last.root)):
                return last
            cp = self.signer.sign(self.log_id, n, root)
            if self.witness is not None and self.checkpoints is not None and held is not None and held.count > 0:
                self._check_published(held)
            if self.witness is not None:
                location = getattr(self.store, "location", None)
                if location:
                    self.witness.bind(location, self.log_id)
                held = self.witness.get(self.log_id)
                old = held.size if held else 0
                proof = self._tree.consistency_proof(old, n) if 0 < old < n else []
                cp = self.witness.add_checkpoint(cp, old, proof)
            if self.checkpoints is not None:
                self.checkpoints.append(cp)
            return cp

    def _check_published(self, held: Any) -> None:
        """The checkpoints beside the log must be exactly those the witness cosigned: one deleted or replaced by an
        older copy during the run stops the run (CheckpointError) instead of being papered over by newer ones."""
        from ._checkpoint import CheckpointError
        from ._witness import history_of

        assert self.checkpoints is not None
        published = self.checkpoints.all()
        if len(published) != held.count or history_of(published) != held.history:
            raise CheckpointError(
                f"checkpoints beside the log were removed or replaced during the run: {len(published)} published, "
                f"the witness cosigned {held.count}"
            )

    def records(self) -> list[AuditRecord]:
        """Every record, parsed."""
        return [AuditRecord.model_validate_json(body) for _, _, body in self.store.records()]

    def verify(
        self,
        checkpoint: Checkpoint | list[Checkpoint] | None = None,
        public_key: Any = None,
        witnessed: Checkpoint | None = None,
        allow_uncovered: bool = False,
    ) -> VerifyResult:
        """Check the chain, then every checkpoint and the witnessed one (see `verify_log`)."""
        from ._verify import verify_log

        cps = [checkpoint] if isinstance(checkpoint, Checkpoint) else list(checkpoint or [])
        return verify_log(self, cps, public_key, witnessed, allow_uncovered)
