"""PostgreSQL: tampering with log or checkpoint table fails the no-flag verify; a witness in another database."""

from __future__ import annotations

import itertools
from pathlib import Path

import psycopg
import pytest

from peerwatch.oversight import AuditLog, KeyStore, PostgresStore, SQLiteStore
from peerwatch.oversight._verify import verify_store

pytestmark = pytest.mark.postgres
_tables = itertools.count()


def _log(dsn: str, ks: KeyStore, n: int, checkpoints: int = 2) -> tuple[AuditLog, str]:
    table = f"redteam_{next(_tables)}_{abs(hash(dsn)) % 1000}"
    log = AuditLog(PostgresStore(dsn, table=table), signer=ks.signer(create=True), witness=ks.witness())
    for c in range(checkpoints):
        for i in range(n):
            log.append(actor="a", tool="transfer_server_files", args={"i": i, "c": c}, decision="deny")
        log.checkpoint()
    return log, table


def _verify(dsn: str, table: str, ks: KeyStore):  # type: ignore[no-untyped-def]
    return verify_store(PostgresStore(dsn, table=table, create=False), keystore=str(ks.path))[0]


def test_clean_postgres_log_verifies(postgres_dsn: str, tmp_path: Path) -> None:
    ks = KeyStore(tmp_path / "ks")
    _, table = _log(postgres_dsn, ks, 5)
    assert _verify(postgres_dsn, table, ks).ok


@pytest.mark.parametrize(
    "attack",
    [
        "DELETE FROM {t}_checkpoints",  # checkpoint missing
        "DELETE FROM {t} WHERE seq >= 5; DELETE FROM {t}_checkpoints WHERE n > (SELECT min(n) FROM {t}_checkpoints)",
        "UPDATE {t}_meta SET value = 'peerwatch.local/audit/other'",  # a fresh identity
        "UPDATE {t}_checkpoints SET note = replace(note, substr(note, length(note) - 10, 5), 'AAAAA')",
        "INSERT INTO {t} SELECT seq + 1, hash, body FROM {t} WHERE seq = (SELECT max(seq) FROM {t})",
    ],
)
def test_postgres_tampering_fails(postgres_dsn: str, tmp_path: Path, attack: str) -> None:
    ks = KeyStore(tmp_path / "ks")
    _, table = _log(postgres_dsn, ks, 5)
    with psycopg.connect(postgres_dsn, autocommit=True) as db:
        for stmt in attack.format(t=table).split("; "):
            db.execute(stmt)  # type: ignore[arg-type]
    result = _verify(postgres_dsn, table, ks)
    assert not result.ok, attack


def test_witness_in_another_database(postgres_dsn: str, tmp_path: Path) -> None:
    with psycopg.connect(postgres_dsn, autocommit=True) as db:
        db.execute("DROP DATABASE IF EXISTS peerwatch_witness")
        db.execute("CREATE DATABASE peerwatch_witness")
    witness_dsn = postgres_dsn.rsplit("/", 1)[0] + "/peerwatch_witness"
    ks = KeyStore(tmp_path / "ks", witness_dsn=witness_dsn)
    ks.keygen()
    log = AuditLog(SQLiteStore(tmp_path / "a.sqlite"), signer=ks.signer(), witness=ks.witness())
    for i in range(6):
        log.append(actor="a", tool="t", args={"i": i}, decision="allow")
    log.checkpoint()
    assert not (tmp_path / "ks" / "witness").exists()  # the record went to PostgreSQL
    with psycopg.connect(witness_dsn) as db:
        assert db.execute("SELECT size FROM peerwatch_witness").fetchone() == (6,)
    assert verify_store(str(tmp_path / "a.sqlite"), keystore=str(ks.path))[0].ok is False  # default: file witness
    monkey = pytest.MonkeyPatch()
    monkey.setenv("PEERWATCH_WITNESS_DSN", witness_dsn)
    try:
        assert verify_store(str(tmp_path / "a.sqlite"), keystore=str(ks.path))[0].ok
        log.store.execute("DELETE FROM audit WHERE seq >= 3")
        bad = verify_store(str(tmp_path / "a.sqlite"), keystore=str(ks.path))[0]
        assert not bad.ok and bad.first_bad == 3
    finally:
        monkey.undo()
