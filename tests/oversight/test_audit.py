"""The audit log: every tamper class is detected on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from peerwatch.oversight import AuditLog, CheckpointStore, KeyStore, SQLiteStore, StoreError


def _fill(store, tmp_path: Path, n: int = 12):  # type: ignore[no-untyped-def]
    ks = KeyStore(tmp_path / "ks")
    signer = ks.keygen()
    log = AuditLog(store, signer=signer, checkpoints=CheckpointStore(tmp_path / "cp.jsonl"), witness=ks.witness())
    for i in range(n):
        log.append(
            actor="orchestrator:agent-1",
            tool="transfer_server_files",
            args={"i": i, "files": ["a"]},
            decision="allow" if i % 3 else "deny",
            rule="r",
            effect={"n": i},
        )
    return log, log.checkpoint(), signer.public


def test_clean_log_verifies_against_its_signed_checkpoint(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log, cp, key = _fill(store, tmp_path)
    result = log.verify(cp, key)
    assert result.ok and result.records == 12 and result.root == cp.root
    log.append(actor="a", tool="t", args={}, decision="allow")
    uncovered = log.verify(cp, key)  # growth after the last checkpoint is reported as uncovered...
    assert not uncovered.ok and uncovered.first_bad == 12 and "uncovered" in uncovered.reason
    assert log.verify(cp, key, allow_uncovered=True).ok  # ...unless the caller verifies a live log


MUTATIONS = {
    "edit": ("UPDATE audit SET body = replace(body, '\"deny\"', '\"allow\"') WHERE seq = 3", 3),
    "delete": ("DELETE FROM audit WHERE seq = 5", 5),
    "insert": ("UPDATE audit SET seq = seq + 1000 WHERE seq >= 7", 7),
    "reorder": ("UPDATE audit SET seq = -1 WHERE seq = 4", 4),
    "truncate": ("DELETE FROM audit WHERE seq >= 9", 9),
}


@pytest.mark.parametrize("kind", list(MUTATIONS))
def test_every_tamper_class_is_detected(store, tmp_path: Path, kind: str) -> None:  # type: ignore[no-untyped-def]
    log, cp, key = _fill(store, tmp_path)
    sql, first_bad = MUTATIONS[kind]
    store.execute(sql)
    if kind == "reorder":  # finish swapping records 4 and 8
        store.execute("UPDATE audit SET seq = 4 WHERE seq = 8")
        store.execute("UPDATE audit SET seq = 8 WHERE seq = -1")
    if kind == "insert":  # put a forged record with a self-consistent hash into the gap
        forged = log._builder(log._fields("agent", "end_task", {}, None, "allow", None, None))(7, "0" * 64)
        store.execute("INSERT INTO audit (seq, hash, body) VALUES (?, ?, ?)", (7, forged[0], forged[1]))
    result = log.verify(cp, key)
    assert not result.ok, kind
    assert result.first_bad == first_bad, (kind, result)


def test_consistent_rewrite_is_caught_only_by_the_checkpoint(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log, cp, key = _fill(store, tmp_path, n=6)
    # An attacker with database access rebuilds the whole chain with one record changed.
    rows = list(store.records())
    store.execute("DELETE FROM audit")
    prev = "0" * 64
    for seq, _, body in rows:
        body = body.replace('"deny"', '"allow"')
        import hashlib
        import json

        data = json.loads(body)
        data["prev_hash"] = prev
        from peerwatch.oversight import canonical_json

        raw = canonical_json(data)
        h = hashlib.sha256(raw).hexdigest()
        store.execute("INSERT INTO audit (seq, hash, body) VALUES (?, ?, ?)", (seq, h, raw.decode()))
        prev = h
    assert log.verify().ok  # the chain alone looks fine
    result = log.verify(cp, key)
    assert not result.ok and "rewritten" in result.reason


def test_forged_checkpoint_signature_is_rejected(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log, cp, key = _fill(store, tmp_path)
    forged = cp.model_copy(update={"size": 3})
    assert not log.verify(forged, key).ok


def test_database_down_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "ro").mkdir()
    bad = tmp_path / "ro" / "sub" / "x.sqlite"
    (tmp_path / "ro" / "sub").write_text("not a directory")
    with pytest.raises(StoreError, match="audit store"):
        SQLiteStore(bad)


def test_checkpoint_is_a_c2sp_signed_note(tmp_path: Path) -> None:
    import base64
    import hashlib

    from peerwatch.oversight import parse_checkpoint, verify_checkpoint

    log, cp, key = _fill(SQLiteStore(tmp_path / "a.sqlite"), tmp_path, n=3)
    text, blank, sigs = cp.note.partition("\n\n")
    origin, size, root = text.split("\n")
    assert origin == log.log_id and size == "3" and base64.b64decode(root).hex() == cp.root and blank
    lines = sigs.splitlines()
    assert len(lines) == 2 and all(line.startswith("\u2014 ") for line in lines)  # log signature + cosignature
    name, sig = lines[0].split(" ")[1:]
    raw = base64.b64decode(sig)
    pub = key.public_bytes_raw()
    assert name == origin and raw[:4] == hashlib.sha256(origin.encode() + b"\n\x01" + pub).digest()[:4]
    key.verify(raw[4:], (text + "\n").encode())
    assert parse_checkpoint(cp.note) == cp and verify_checkpoint(cp, key)


def test_witness_refuses_smaller_and_inconsistent_trees(tmp_path: Path) -> None:
    import pytest as _pytest

    from peerwatch.oversight import WitnessError, verify_checkpoint
    from peerwatch.oversight._merkle import MerkleTree, leaf_hash
    from peerwatch.oversight._witness import verify_cosignature

    ks = KeyStore(tmp_path / "ks")
    signer = ks.keygen()
    witness = ks.witness()
    log = AuditLog(SQLiteStore(tmp_path / "a.sqlite"), signer=signer, witness=witness)
    for i in range(5):
        log.append(actor="a", tool="t", args={"i": i}, decision="allow")
    cp5 = log.checkpoint()
    assert verify_cosignature(cp5, ks.witness_public()) is not None and verify_checkpoint(cp5, signer.public)
    fork = MerkleTree([leaf_hash(bytes([i])) for i in range(8)])
    forked = signer.sign(log.log_id, 8, fork.root())
    with _pytest.raises(WitnessError, match="inconsistent"):
        witness.add_checkpoint(forked, 5, fork.consistency_proof(5, 8))
    smaller = signer.sign(log.log_id, 3, fork.root(3))
    with _pytest.raises(WitnessError, match=r"from size 3|smaller"):
        witness.add_checkpoint(smaller, 3, [])
    with _pytest.raises(WitnessError, match="smaller"):
        witness.add_checkpoint(smaller, 5, [])
    stranger = KeyStore(tmp_path / "other").keygen().sign(log.log_id, 9, fork.root())
    with _pytest.raises(WitnessError, match="not signed"):
        witness.add_checkpoint(stranger, 5, [])
    assert witness.get(log.log_id).size == 5  # type: ignore[union-attr]
    for i in range(4):
        log.append(actor="a", tool="t", args={"j": i}, decision="allow")
    assert log.checkpoint().size == 9 and witness.get(log.log_id).size == 9  # type: ignore[union-attr]


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '{"seq": "4"}', '{"seq": 4, "prev_hash": "x"}'])
def test_forged_bodies_with_matching_hashes_are_named(store, tmp_path: Path, body: str) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    log, cp, key = _fill(store, tmp_path, n=8)
    h = hashlib.sha256(body.encode()).hexdigest()
    store.execute("UPDATE audit SET body = ?, hash = ? WHERE seq = 4", (body, h))
    result = log.verify(cp, key)
    assert not result.ok and result.first_bad == 4, result


_WRITER = """
import sys
from peerwatch.oversight import AuditLog, KeyStore, SQLiteStore
ks = KeyStore(sys.argv[2])
log = AuditLog(SQLiteStore(sys.argv[1]), signer=ks.signer(), witness=ks.witness(), group_commit=True)
for i in range(40):
    log.append(actor=sys.argv[3], tool="t", args={"i": i}, decision="allow")
    if i % 4 == 3:
        log.checkpoint()
"""


def test_processes_sharing_a_store_checkpoint_in_order(tmp_path: Path) -> None:
    import subprocess
    import sys

    from peerwatch.oversight._verify import verify_store

    ks = KeyStore(tmp_path / "ks")
    ks.keygen()
    db = tmp_path / "shared.sqlite"
    SQLiteStore(db).close()
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(db), str(ks.path), f"p{n}"], stderr=subprocess.PIPE)
        for n in range(3)
    ]
    for p in procs:
        _, stderr = p.communicate(timeout=120)
        assert p.returncode == 0, stderr.decode()[-2000:]
    result, _ = verify_store(str(db), keystore=str(ks.path))
    assert result.ok and result.records == 120, result


def test_writer_notices_its_own_records_removed_mid_run(store) -> None:  # type: ignore[no-untyped-def]
    log = AuditLog(store)
    for i in range(3):
        log.append(actor="a", tool="t", args={"i": i}, decision="allow")
    store.execute("DELETE FROM audit WHERE seq = 2")  # the attacker drops the newest, not yet checkpointed record
    with pytest.raises(StoreError, match="removed or changed"):
        log.append(actor="a", tool="t", args={}, decision="allow")
