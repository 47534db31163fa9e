"""Red team 3: tamper with a guarded run's directory in place; `audit verify` must fail (exit 1, one line).

The run is a real `peerwatch run ... --guard default`; the key store is a temp dir outside the run's directory.
Every attack restores the pristine directory at the *same path* first (the witness binds store locations, so
a tampered copy somewhere else would fail for the wrong reason). Opt-in: PEERWATCH_REDTEAM3=1.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.environ.get("PEERWATCH_REDTEAM3") != "1", reason="red team 3 suite (opt-in)")

PEERWATCH = [sys.executable, "-c", "from peerwatch.cli import main; main()"]
DASH = "\u2014"


def _pw(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PEERWATCH, *args], capture_output=True, text=True, env=env, timeout=400)


def _run(log_dir: Path, env: dict[str, str], limit: str = "2") -> None:
    r = _pw("run", "-m", "peerwatch/exfiltrator", "-t", "exfiltration_transfer", "--limit", limit, "--epochs", "1",
            "--guard", "default", "--approvals", "approve-all", "--log-dir", str(log_dir), env=env)
    assert r.returncode == 0, r.stderr[-2000:]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    base = tmp_path_factory.mktemp("rt3audit")
    ks = base / "keystore"
    env = {**os.environ, "PEERWATCH_KEYSTORE": str(ks)}
    assert _pw("audit", "keygen", env=env).returncode == 0
    d, d2 = base / "run" / "D", base / "run2" / "D"
    _run(d, env)
    _run(d2, env, limit="1")
    ok = _pw("audit", "verify", str(d / "audit.sqlite"), env=env)
    assert ok.returncode == 0, ok.stderr
    pristine = base / "pristine"
    shutil.copytree(d, pristine)
    return {"d": d, "d2": d2, "pristine": pristine, "env": env, "base": base}


def _restore(runs: dict[str, object]) -> Path:
    d, pristine = Path(str(runs["d"])), Path(str(runs["pristine"]))
    shutil.rmtree(d)
    shutil.copytree(pristine, d)
    return d


def _db(d: Path) -> sqlite3.Connection:
    return sqlite3.connect(d / "audit.sqlite", isolation_level=None)


def _rows(d: Path) -> list[tuple[int, str, str]]:
    with _db(d) as c:
        return list(c.execute("select seq, hash, body from audit order by seq"))


def _canon(obj: object) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _rechain(d: Path, bodies: list[dict[str, object]]) -> None:
    """Write `bodies` as a fully consistent chain (hashes and prev_hash recomputed), replacing the table."""
    prev = "0" * 64
    with _db(d) as c:
        c.execute("delete from audit")
        for i, b in enumerate(bodies):
            b = {**b, "seq": i, "prev_hash": prev}
            text = _canon(b)
            h = hashlib.sha256(text.encode()).hexdigest()
            c.execute("insert into audit(seq, hash, body) values (?,?,?)", (i, h, text))
            prev = h


def _bodies(d: Path) -> list[dict[str, object]]:
    return [json.loads(b) for _, _, b in _rows(d)]


def _sign_with_own_key(d: Path, size: int | None = None) -> None:
    """Re-sign a checkpoint over the current table with a key the attacker made (same note name)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from peerwatch.oversight._merkle import leaf_hash, root_from_hashes

    rows = _rows(d)
    size = len(rows) if size is None else size
    root = root_from_hashes([leaf_hash(b.encode()) for _, _, b in rows[:size]])
    with _db(d) as c:
        origin = c.execute("select value from meta where key='log_id'").fetchone()[0]
    key = Ed25519PrivateKey.generate()
    pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    kh = hashlib.sha256(origin.encode() + b"\n\x01" + pub).digest()[:4]
    text = f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"
    sig = base64.b64encode(kh + key.sign(text.encode())).decode()
    note = f"{text}\n{DASH} {origin} {sig}\n"
    with open(d / "audit.checkpoints.jsonl", "a") as f:
        f.write(json.dumps({"size": size, "note": note}) + "\n")
    # leave the attacker's "public key" in the directory too, as an attacker would
    (d / "audit-signing.pub").write_bytes(
        key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )


def _cp_lines(d: Path) -> list[str]:
    return (d / "audit.checkpoints.jsonl").read_text().splitlines()


def _set_cp_lines(d: Path, lines: list[str]) -> None:
    (d / "audit.checkpoints.jsonl").write_text("".join(line + "\n" for line in lines))


def edit_decision(d: Path) -> None:
    with _db(d) as c:
        c.execute("update audit set body = replace(body, '\"decision\":\"deny\"', '\"decision\":\"allow\"')")
        c.execute("update audit set body = replace(body, '\"decision\":\"allow\"', '\"decision\":\"deny\"') "
                  "where seq = 0")


def edit_and_rehash_one(d: Path) -> None:
    with _db(d) as c:
        seq, _, body = c.execute("select seq, hash, body from audit order by seq desc limit 1").fetchone()
        b = json.loads(body)
        b["decision"] = "allow" if b["decision"] != "allow" else "deny"
        text = _canon(b)
        c.execute("update audit set body=?, hash=? where seq=?", (text, hashlib.sha256(text.encode()).hexdigest(), seq))


def rewrite_chain_consistently(d: Path) -> None:
    bodies = _bodies(d)
    for b in bodies:
        b["decision"] = "allow"
    _rechain(d, bodies)


def rewrite_chain_and_resign(d: Path) -> None:
    rewrite_chain_consistently(d)
    _sign_with_own_key(d)


def delete_last_row(d: Path) -> None:
    with _db(d) as c:
        c.execute("delete from audit where seq = (select max(seq) from audit)")


def delete_last_row_and_last_checkpoint(d: Path) -> None:
    delete_last_row(d)
    lines = _cp_lines(d)
    _set_cp_lines(d, [ln for ln in lines if json.loads(ln)["size"] <= len(_rows(d))])


def delete_middle_row(d: Path) -> None:
    with _db(d) as c:
        c.execute("delete from audit where seq = 3")


def delete_middle_and_rechain(d: Path) -> None:
    bodies = _bodies(d)
    del bodies[3]
    _rechain(d, bodies)


def delete_middle_rechain_resign(d: Path) -> None:
    delete_middle_and_rechain(d)
    _sign_with_own_key(d)


def reorder_rows(d: Path) -> None:
    with _db(d) as c:
        a = c.execute("select hash, body from audit where seq=1").fetchone()
        b = c.execute("select hash, body from audit where seq=2").fetchone()
        c.execute("update audit set hash=?, body=? where seq=1", b)
        c.execute("update audit set hash=?, body=? where seq=2", a)


def reorder_and_rechain(d: Path) -> None:
    bodies = _bodies(d)
    bodies[1], bodies[2] = bodies[2], bodies[1]
    _rechain(d, bodies)


def delete_all_rows(d: Path) -> None:
    with _db(d) as c:
        c.execute("delete from audit")


def delete_all_rows_and_checkpoints(d: Path) -> None:
    delete_all_rows(d)
    (d / "audit.checkpoints.jsonl").unlink()


def truncate_db_zero(d: Path) -> None:
    for n in ("audit.sqlite-wal", "audit.sqlite-shm"):
        (d / n).unlink(missing_ok=True)
    (d / "audit.sqlite").write_bytes(b"")


def truncate_db_half(d: Path) -> None:
    with _db(d) as c:
        c.execute("pragma wal_checkpoint(TRUNCATE)")
    p = d / "audit.sqlite"
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])


def delete_db_files(d: Path) -> None:
    for n in ("audit.sqlite", "audit.sqlite-wal", "audit.sqlite-shm"):
        (d / n).unlink(missing_ok=True)


def delete_db_keep_empty_new(d: Path) -> None:
    delete_db_files(d)
    with sqlite3.connect(d / "audit.sqlite") as c:
        c.execute("create table audit (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, body TEXT NOT NULL)")
        c.execute("create table meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


def replace_db_with_other_run(d: Path, other: Path) -> None:
    delete_db_files(d)
    for n in ("audit.sqlite", "audit.sqlite-wal", "audit.sqlite-shm"):
        if (other / n).exists():
            shutil.copy2(other / n, d / n)


def replace_dir_with_other_run(d: Path, other: Path) -> None:
    shutil.rmtree(d)
    shutil.copytree(other, d)


def replace_db_other_run_keep_log_id(d: Path, other: Path) -> None:
    with _db(d) as c:
        mine = c.execute("select value from meta where key='log_id'").fetchone()[0]
    replace_dir_with_other_run(d, other)
    with _db(d) as c:
        c.execute("update meta set value=? where key='log_id'", (mine,))


def fresh_log_copying_id(d: Path) -> None:
    bodies = _bodies(d)[:2]
    _rechain(d, bodies)
    (d / "audit.checkpoints.jsonl").unlink()
    _sign_with_own_key(d)


def delete_checkpoints(d: Path) -> None:
    (d / "audit.checkpoints.jsonl").unlink()


def empty_checkpoints(d: Path) -> None:
    (d / "audit.checkpoints.jsonl").write_text("")


def drop_last_checkpoint(d: Path) -> None:
    _set_cp_lines(d, _cp_lines(d)[:-1])


def roll_back_to_earlier_checkpoint(d: Path) -> None:
    lines = _cp_lines(d)
    first = json.loads(lines[0])["size"]
    bodies = _bodies(d)[:first]
    with _db(d) as c:
        c.execute("delete from audit where seq >= ?", (first,))
    assert len(bodies) == first
    _set_cp_lines(d, lines[:1])


def duplicate_checkpoint_lines_reversed(d: Path) -> None:
    lines = _cp_lines(d)
    _set_cp_lines(d, list(reversed(lines)))


def garbage_signature_line(d: Path) -> None:
    lines = _cp_lines(d)
    last = json.loads(lines[-1])
    body, _, _sigs = last["note"].partition("\n\n")
    bad = base64.b64encode(os.urandom(68)).decode()
    origin = body.splitlines()[0]
    last["note"] = f"{body}\n\n{DASH} {origin} {bad}\n"
    lines[-1] = json.dumps(last)
    _set_cp_lines(d, lines)


def extra_signature_line(d: Path) -> None:
    lines = _cp_lines(d)
    last = json.loads(lines[-1])
    origin = last["note"].splitlines()[0]
    last["note"] += f"{DASH} {origin} {base64.b64encode(os.urandom(68)).decode()}\n"
    lines[-1] = json.dumps(last)
    _set_cp_lines(d, lines)


def strip_witness_cosignature(d: Path) -> None:
    lines = _cp_lines(d)
    out = []
    for ln in lines:
        cp = json.loads(ln)
        cp["note"] = "".join(x + "\n" for x in cp["note"].splitlines() if "peerwatch.local/witness" not in x)
        out.append(json.dumps(cp))
    _set_cp_lines(d, out)


def checkpoint_size_lie(d: Path) -> None:
    lines = _cp_lines(d)
    last = json.loads(lines[-1])
    last["size"] = last["size"] - 1
    lines[-1] = json.dumps(last)
    _set_cp_lines(d, lines)


def garbage_checkpoint_file(d: Path) -> None:
    (d / "audit.checkpoints.jsonl").write_text("{not json\n\x00\xff")


def checkpoint_file_is_dir(d: Path) -> None:
    (d / "audit.checkpoints.jsonl").unlink()
    (d / "audit.checkpoints.jsonl").mkdir()


def append_well_chained_record(d: Path) -> None:
    bodies = _bodies(d)
    extra = {**bodies[-1], "decision": "allow", "rule": "ordinary-file-work", "tool": "end_task"}
    _rechain(d, [*bodies, extra])


def append_record_and_resign(d: Path) -> None:
    append_well_chained_record(d)
    _sign_with_own_key(d)


def append_record_and_reuse_last_sig_with_size(d: Path) -> None:
    append_well_chained_record(d)
    lines = _cp_lines(d)
    last = json.loads(lines[-1])
    last["size"] += 1
    lines[-1] = json.dumps(last)
    _set_cp_lines(d, lines)


def change_log_id(d: Path) -> None:
    with _db(d) as c:
        c.execute("update meta set value='peerwatch.local/audit/00000000000000000000000000000000' where key='log_id'")


def change_log_id_everywhere_and_resign(d: Path) -> None:
    change_log_id(d)
    (d / "audit.checkpoints.jsonl").unlink()
    _sign_with_own_key(d)


def delete_meta(d: Path) -> None:
    with _db(d) as c:
        c.execute("drop table meta")


def drop_audit_table(d: Path) -> None:
    with _db(d) as c:
        c.execute("drop table audit")


def view_instead_of_table(d: Path) -> None:
    """audit becomes a view hiding the last record (the guard still wrote it to audit_real)."""
    with _db(d) as c:
        c.execute("alter table audit rename to audit_real")
        c.execute("create view audit as select * from audit_real where seq < (select max(seq) from audit_real)")


def delete_wal(d: Path) -> None:
    # pristine copy may hold the records only in the WAL (the run left it un-checkpointed)
    (d / "audit.sqlite-wal").unlink(missing_ok=True)
    (d / "audit.sqlite-shm").unlink(missing_ok=True)
    with _db(d) as c:  # ensure something actually changed
        n = c.execute("select count(*) from audit").fetchone()[0]
    if n == len(_rows(Path(str(d)))) and n > 0 and not _wal_mattered[0]:
        delete_last_row(d)


_wal_mattered = [False]


def swap_wal_from_other_run(d: Path, other: Path) -> None:
    (d / "audit.sqlite-shm").unlink(missing_ok=True)
    if (other / "audit.sqlite-wal").exists():
        shutil.copy2(other / "audit.sqlite-wal", d / "audit.sqlite-wal")
    else:
        delete_last_row(d)


def symlink_to_other_db(d: Path, other: Path) -> None:
    delete_db_files(d)
    (d / "audit.sqlite").symlink_to(other / "audit.sqlite")


def edit_time_field(d: Path) -> None:
    with _db(d) as c:
        c.execute("update audit set body = replace(body, '\"time\":\"2', '\"time\":\"1') where seq = 2")


def unicode_normalisation_edit(d: Path) -> None:
    with _db(d) as c:
        c.execute("update audit set body = replace(body, 'Agent', 'Αgent') where seq = 4")  # Greek Alpha


def trailing_whitespace_in_body(d: Path) -> None:
    with _db(d) as c:
        c.execute("update audit set body = body || ' ' where seq = 1")


def hash_column_only(d: Path) -> None:
    with _db(d) as c:
        c.execute("update audit set hash = '00' || substr(hash, 3) where seq = 5")


def key_file_planted_in_dir(d: Path) -> None:
    """Plant an attacker key pair next to the log and re-sign a rewritten chain with it."""
    rewrite_chain_and_resign(d)
    shutil.copy2(d / "audit-signing.pub", d / "witness.pub")


ATTACKS: dict[str, Callable[..., None]] = {f.__name__: f for f in [
    edit_decision, edit_and_rehash_one, rewrite_chain_consistently, rewrite_chain_and_resign, delete_last_row,
    delete_last_row_and_last_checkpoint, delete_middle_row, delete_middle_and_rechain, delete_middle_rechain_resign,
    reorder_rows, reorder_and_rechain, delete_all_rows, delete_all_rows_and_checkpoints, truncate_db_zero,
    truncate_db_half, delete_db_files, delete_db_keep_empty_new, fresh_log_copying_id, delete_checkpoints,
    empty_checkpoints, drop_last_checkpoint, roll_back_to_earlier_checkpoint, duplicate_checkpoint_lines_reversed,
    garbage_signature_line, extra_signature_line, strip_witness_cosignature, checkpoint_size_lie,
    garbage_checkpoint_file, checkpoint_file_is_dir, append_well_chained_record, append_record_and_resign,
    append_record_and_reuse_last_sig_with_size, change_log_id, change_log_id_everywhere_and_resign, delete_meta,
    drop_audit_table, view_instead_of_table, delete_wal, edit_time_field, unicode_normalisation_edit,
    trailing_whitespace_in_body, hash_column_only, key_file_planted_in_dir,
]}
OTHER_RUN: dict[str, Callable[..., None]] = {f.__name__: f for f in [
    replace_db_with_other_run, replace_dir_with_other_run, replace_db_other_run_keep_log_id,
    swap_wal_from_other_run, symlink_to_other_db,
]}


def _assert_fails(r: subprocess.CompletedProcess[str], name: str) -> None:
    out = (r.stdout + r.stderr).strip()
    assert r.returncode == 1, f"{name}: verify exit {r.returncode}: {out[-1500:]}"
    assert "Traceback" not in out, f"{name}: traceback: {out[-1500:]}"
    assert len(out.splitlines()) == 1, f"{name}: not one line: {out[-1500:]}"


@pytest.mark.parametrize("name", sorted(ATTACKS) + sorted(OTHER_RUN))
def test_tampered_dir_does_not_verify(runs: dict[str, object], name: str) -> None:
    d = _restore(runs)
    env = runs["env"]
    assert isinstance(env, dict)
    if name in OTHER_RUN:
        OTHER_RUN[name](d, Path(str(runs["d2"])))
    else:
        ATTACKS[name](d)
    r = _pw("audit", "verify", str(d / "audit.sqlite"), env=env)
    _assert_fails(r, name)
    # the planted key must not help either
    if (d / "audit-signing.pub").exists():
        r = _pw("audit", "verify", str(d / "audit.sqlite"), "--public-key", str(d / "audit-signing.pub"), env=env)
        assert r.returncode != 0, f"{name}: verifies with the attacker's --public-key: {r.stdout}{r.stderr}"


GARBAGE: list[list[str]] = [
    ["/nonexistent/audit.sqlite"],
    ["/"],
    ["/dev/null"],
    ["postgresql://user:s3cretpw@127.0.0.1:1/db"],
    ["postgresql://user:s3cretpw@[::zz/db"],
    ["sqlite:///x"],
    ["\x7f\x01"],
    ["{D}/audit.sqlite", "--public-key", "/etc/passwd"],
    ["{D}/audit.sqlite", "--public-key", "/nonexistent.pub"],
    ["{D}/audit.sqlite", "--public-key", "{D}"],
    ["{D}/audit.sqlite", "--witness", "/etc/passwd"],
    ["{D}/audit.sqlite", "--witness", "{D}/logs.json"],
    ["{D}/audit.sqlite", "--witness-key", "/etc/hostname"],
    ["{D}/audit.sqlite", "--checkpoints", "/nonexistent"],
    ["{D}/audit.sqlite", "--checkpoints", "/etc/passwd"],
    ["{D}/audit.sqlite", "--checkpoints", "{D}/logs.json"],
    ["{D}/audit.sqlite", "--keystore", "/nonexistent-ks"],
    ["{D}/audit.sqlite", "--keystore", "/etc/passwd"],
    ["{D}/logs.json"],
    ["{D}/audit.checkpoints.jsonl"],
]


@pytest.mark.parametrize("args", GARBAGE, ids=[" ".join(a)[:60] for a in GARBAGE])
def test_garbage_inputs_one_line(runs: dict[str, object], args: list[str]) -> None:
    d = _restore(runs)
    env = runs["env"]
    assert isinstance(env, dict)
    r = _pw("audit", "verify", *[a.replace("{D}", str(d)) for a in args], env=env)
    out = (r.stdout + r.stderr).strip()
    assert r.returncode in (1, 2), f"exit {r.returncode}: {out[-1500:]}"
    assert "Traceback" not in out, out[-1500:]
    assert len(out.splitlines()) == 1, out[-1500:]
    assert "s3cretpw" not in out, out
