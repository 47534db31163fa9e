"""The audit log: every tamper class is detected on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from peerwatch.oversight import AuditLog, CheckpointStore, Signer, SQLiteStore, StoreError


def _fill(store, tmp_path: Path, n: int = 12):  # type: ignore[no-untyped-def]
    signer = Signer(tmp_path / "key.pem")
    log = AuditLog(store, signer=signer, checkpoints=CheckpointStore(tmp_path / "cp.jsonl"))
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
    log.append(actor="a", tool="t", args={}, decision="allow")  # growth after a checkpoint is fine
    assert log.verify(cp, key).ok


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
