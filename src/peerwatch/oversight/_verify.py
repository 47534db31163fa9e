"""Verifying an audit log against its published checkpoints and the witness's view of it.

Order of checks (the first failure is reported, with the first record it makes untrustworthy):
1. every checkpoint names this log, carries a valid signature by the pinned key (and the witness's cosignature when
   its key is known), and sizes strictly grow (the log publishes one checkpoint per growth);
2. the hash chain, record by record (edit, delete, insert, reorder);
3. the Merkle root at every checkpoint's size, and an RFC 6962 consistency proof between successive checkpoints;
4. the witnessed checkpoint: the log is not shorter than it, agrees with it, and the newest published checkpoint is
   exactly the witnessed one (older = checkpoints rolled back, newer = never witnessed);
5. the witness's count and running digest of every checkpoint it cosigned: the published ones are exactly those
   (one deleted or swapped for an older copy during the run, even if newer ones were published after it, shows);
6. no records past the last checkpoint ("uncovered"), unless the caller allows a live log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ._checkpoint import DASH, Checkpoint, verify_checkpoint
from ._merkle import MerkleTree, leaf_hash, verify_consistency
from ._store import GENESIS
from ._witness import WITNESS_NAME, verify_cosignature

if TYPE_CHECKING:
    from ._audit import AuditLog, VerifyResult
    from ._store import AuditStore


def _fail(records: int, first_bad: int | None, reason: str) -> VerifyResult:
    from ._audit import VerifyResult

    return VerifyResult(ok=False, records=records, first_bad=first_bad, reason=reason)


def _check_signed(cp: Checkpoint, what: str, log_id: str, public_key: Any, witness_key: Any = None) -> str | None:
    if cp.origin != log_id:
        return f"{what} is for log {cp.origin}, not {log_id}"
    if public_key is None:
        return None
    if witness_key is not None and not any(name == WITNESS_NAME for name, _ in cp.signatures()):
        # Every published checkpoint was cosigned before it was written: one without the line was edited.
        return f"{what} (size {cp.size}): the witness cosignature is missing"
    if not verify_checkpoint(cp, public_key):
        return f"{what} (size {cp.size}): signature is bad or not by the pinned key"
    # We write exactly two kinds of line, so any other line, or a bad one beside a good one, is tampering.
    for name, sig in cp.signatures():
        if name == cp.origin:
            ok = verify_checkpoint(cp.model_copy(update={"note": _only(cp, name, sig)}), public_key)
        elif name == WITNESS_NAME:
            ok = witness_key is None or verify_cosignature(
                cp.model_copy(update={"note": _only(cp, name, sig)}), witness_key
            ) is not None
        else:
            ok = False
        if not ok:
            return f"{what} (size {cp.size}): signature line of {name[:60]} is bad"
    return None


def _only(cp: Checkpoint, name: str, sig: bytes) -> str:
    """The note with just one signature line."""
    import base64

    return f"{cp.text()}\n{DASH} {name} {base64.b64encode(sig).decode()}\n"


def _links(store: Any) -> Iterator[tuple[int, str, str, bool, Any, Any]]:
    """Records with the links they claim, read by Python's JSON parser."""
    for seq, h, body in store.records():
        try:
            data = json.loads(body)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            yield seq, h, body, True, data.get("seq"), data.get("prev_hash")
        else:
            yield seq, h, body, False, None, None


def _walk(
    links: Iterator[tuple[int, str, str, bool, Any, Any]], targets: set[int]
) -> tuple[MerkleTree, dict[int, bytes], int] | VerifyResult:
    """Check the chain record by record, building the tree and its roots at the `targets` sizes."""
    from ._audit import record_hash

    tree, prev, roots, n = MerkleTree(), GENESIS, {0: MerkleTree().root()}, 0
    for seq, h, body, is_object, body_seq, body_prev in links:
        raw = body.encode("utf-8")
        if seq != n:
            return _fail(n, n, f"sequence gap or reorder: expected record {n}, found {seq}")
        if record_hash(raw) != h:
            return _fail(n, seq, f"record {seq} was modified: its hash does not match its content")
        if not is_object:
            return _fail(n, seq, f"record {seq} is not a JSON object")
        if body_seq != seq or type(body_seq) is not int:
            return _fail(n, seq, f"record {seq} claims to be another record")
        if body_prev != prev:
            return _fail(n, seq, f"record {seq} does not chain to record {seq - 1}")
        prev = h
        tree.append(leaf_hash(raw))
        n += 1
        if n in targets:
            roots[n] = tree.root()

    return tree, roots, n


def verify_log(
    log: AuditLog,
    cps: list[Checkpoint],
    public_key: Any = None,
    witnessed: Checkpoint | None = None,
    allow_uncovered: bool = False,
    witness_key: Any = None,
    witnessed_history: tuple[int, str] | None = None,
) -> VerifyResult:
    """Verify `log` (see the module docstring); with no checkpoints and no witness only the chain is checked.

    `witnessed_history` is the witness's (count, running digest) of the checkpoints it cosigned (count 0: unknown).
    """
    from ._audit import VerifyResult
    from ._witness import history_of

    for i, cp in enumerate(cps):
        bad = _check_signed(cp, f"checkpoint {i + 1}", log.log_id, public_key, witness_key)
        if bad is None and i and cp.size <= cps[i - 1].size:
            # The log publishes a checkpoint only when it grew, so a repeated size is an inserted or reordered line.
            bad = f"checkpoint {i + 1} does not grow the log ({cp.size} <= {cps[i - 1].size} records)"
        if bad:
            return _fail(0, min(cp.size, cps[i - 1].size) if i else 0, bad)
    if witnessed is not None:
        bad = _check_signed(witnessed, "witnessed checkpoint", log.log_id, public_key, witness_key)
        if bad:
            return _fail(0, 0, bad)
    targets = {cp.size for cp in cps} | ({witnessed.size} if witnessed else set())

    fast = getattr(log.store, "linked_records", None)
    try:
        walked = _walk(fast() if fast else _links(log.store), targets)
    except ValueError:  # a body that is not JSON: read every record the slow way to name the first bad one
        walked = _walk(_links(log.store), targets)
    if not isinstance(walked, tuple):
        return walked
    tree, roots, n = walked

    good = 0  # records vouched for by the checkpoints checked so far
    for i, cp in enumerate(cps):
        if cp.size > n:
            return _fail(n, n, f"log truncated: {n} records, checkpoint {i + 1} covers {cp.size}")
        if roots[cp.size].hex() != cp.root:
            return _fail(n, good, f"log rewritten: records {good}-{cp.size - 1} do not match checkpoint {i + 1}")
        if i and 0 < cps[i - 1].size < cp.size:
            # What a third party holding only the two checkpoints would check.
            old = cps[i - 1]
            proof = tree.consistency_proof(old.size, cp.size)
            if not verify_consistency(old.size, cp.size, bytes.fromhex(old.root), bytes.fromhex(cp.root), proof):
                return _fail(n, good, f"checkpoint {i + 1} is not consistent with checkpoint {i}")
        good = cp.size

    if witnessed is not None:
        w = witnessed.size
        if w > n:
            return _fail(n, n, f"log is shorter than the witnessed checkpoint ({n} < {w} records)")
        if roots[w].hex() != witnessed.root:
            return _fail(n, 0, f"log is inconsistent with the witnessed checkpoint of {w} records")
        if not cps:
            return _fail(n, 0, f"checkpoint missing: none published beside the log (the witness holds {w} records)")
        latest = cps[-1].size
        if latest < w:
            return _fail(
                n, latest, f"checkpoints rolled back: the newest covers {latest} records, the witness holds {w}"
            )
        if latest > w:
            return _fail(n, w, f"checkpoint of {latest} records was never witnessed (the witness holds {w})")
        # Same size is not enough: a run that ends without new records publishes a second checkpoint of the same
        # size, and dropping it would leave an older one that matches by size and root. The newest published note
        # must be the very one the witness cosigned last (same root and signature lines).
        if cps[-1].root != witnessed.root or sorted(cps[-1].signatures()) != sorted(witnessed.signatures()):
            return _fail(
                n, w, "checkpoints rolled back: the newest published checkpoint is not the one the witness cosigned"
            )
        if witnessed_history is not None and witnessed_history[0] > 0:
            count, history = witnessed_history
            if len(cps) != count:
                return _fail(
                    n, 0, f"checkpoint missing: {len(cps)} published beside the log, the witness cosigned {count}"
                )
            if history_of(cps) != history:
                return _fail(n, 0, "checkpoints replaced: the published ones are not those the witness cosigned")

    covered = cps[-1].size if cps else None
    if covered is not None and n > covered and not allow_uncovered:
        return _fail(n, covered, f"{n - covered} records uncovered past the last checkpoint (first: record {covered})")
    return VerifyResult(ok=True, records=n, root=tree.root().hex(), covered=covered or 0)


def verify_checkpoints(cps: list[Checkpoint], public_key: Any) -> bool:
    """All checkpoints are validly signed and their sizes never shrink."""
    sizes = [c.size for c in cps]
    return all(verify_checkpoint(c, public_key) for c in cps) and sizes == sorted(sizes)


class VerifyInputError(ValueError):
    """Verification could not start: a missing store or an unreadable key given by the caller (one line)."""


def verify_store(
    location: str | AuditStore,
    keystore: str | None = None,
    public_key: str | None = None,
    witness: str | None = None,
    witness_key: str | None = None,
    checkpoints: str | None = None,
    allow_uncovered: bool = False,
) -> tuple[VerifyResult, str]:
    """Verify a store against its checkpoints and the witness; returns the result and the store's printable name.

    Defaults come from the operator's key store: the pinned public key, the witness record of this log and the
    witness's key for its cosignature. `public_key`, `witness` (a witness record JSON or a signed note) and
    `witness_key` replace them for a third party; `checkpoints` replaces the checkpoint file beside the log.
    """
    from pathlib import Path

    from ._audit import AuditLog, VerifyResult
    from ._checkpoint import CheckpointError, CheckpointStore, load_public_key, parse_checkpoint
    from ._keystore import KeyStore, KeyStoreError
    from ._store import StoreError, open_store
    from ._witness import WitnessError, WitnessRecord, verify_cosignature

    def read(path: str, what: str) -> bytes:
        try:
            return Path(path).read_bytes()
        except OSError as exc:
            raise VerifyInputError(f"cannot read {what} {path}: {exc.strerror or exc}") from None

    def given(path: str, what: str, parse: Any) -> Any:
        # A file the caller named that is not what it should be is a usage error (exit 2), not a verdict on the log.
        try:
            return parse(read(path, what))
        except (CheckpointError, ValueError) as exc:
            if isinstance(exc, VerifyInputError):
                raise
            message = " ".join(str(exc).split())[:200]
            raise VerifyInputError(message if message.startswith(path) else f"{what} {path}: {message}") from None

    def witness_note(raw: bytes) -> tuple[str, tuple[int, str] | None]:
        text = raw.decode("utf-8", errors="replace")
        rec = WitnessRecord.model_validate_json(text) if text.lstrip().startswith("{") else None
        note = rec.note if rec else text
        parse_checkpoint(note)
        return note, (rec.count, rec.history) if rec else None

    flag_key = given(public_key, "public key", lambda b: load_public_key(b, public_key)) if public_key else None
    flag_wkey = given(witness_key, "witness key", lambda b: load_public_key(b, witness_key)) if witness_key else None
    flag_note, history = given(witness, "witness file", witness_note) if witness else (None, None)
    try:
        store = open_store(location, create=False) if isinstance(location, str) else location
    except StoreError as exc:
        # A store that is gone or unreadable proves nothing: that is a failed verification, not a usage error.
        from ._redact import redact_dsn

        shown = redact_dsn(location) if isinstance(location, str) else "store"
        return VerifyResult(ok=False, records=0, reason=" ".join(str(exc).split())[:300]), shown
    name = store.display

    def failed(reason: str, first_bad: int | None = None) -> tuple[VerifyResult, str]:
        return VerifyResult(ok=False, records=0, first_bad=first_bad, reason=reason), name

    if store.log_id is None:
        return failed("the store has no log id (not a peerwatch audit log, or its identity was removed)", 0)
    ks = KeyStore(keystore)
    try:
        key = flag_key or ks.public_key()
        wkey = flag_wkey
        if flag_note is not None:
            note = flag_note
        else:
            wkey = wkey or ks.witness_public()
            backend = ks.witness_backend()
            expected = backend.bound(store.location) if getattr(store, "location", None) else None
            if expected is not None and expected != store.log_id:
                return failed(
                    f"the store holds log {store.log_id}, but the witness last saw log {expected} written at {name}", 0
                )
            rec = backend.get(store.log_id)
            if rec is None:
                return failed(f"no witnessed checkpoint for log {store.log_id} in key store {ks.path}", 0)
            note = rec.checkpoint().note
            history = (rec.count, rec.history)
        witnessed = parse_checkpoint(note)
    except (KeyStoreError, CheckpointError, WitnessError, ValueError) as exc:
        if isinstance(exc, VerifyInputError):
            raise
        return failed(" ".join(str(exc).split())[:300], 0)
    if wkey is not None and verify_cosignature(witnessed, wkey) is None:
        return failed("the witnessed checkpoint carries no valid cosignature by the witness key", 0)
    sink = CheckpointStore(checkpoints) if checkpoints else store.checkpoint_store()
    try:
        cps = sink.all()
    except (CheckpointError, StoreError) as exc:
        return failed(str(exc), 0)
    if not cps:
        return failed(f"checkpoint missing: no signed checkpoint published for {name}", 0)
    try:
        result = verify_log(
            AuditLog(store), cps, key, witnessed, allow_uncovered, witness_key=wkey, witnessed_history=history
        )
    except StoreError as exc:
        return failed(str(exc))
    return result, name
