"""Red team against the audit log of a guarded run: an attacker who controls the run's directory must not verify.

The run directory is produced by `peerwatch run --guard` itself; the operator's keystore lives elsewhere. Every attack
is followed by a plain `peerwatch audit verify STORE` (no flags), which must exit non-zero with one line, no traceback.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from peerwatch.cli import app
from peerwatch.oversight._merkle import leaf_hash, root_from_hashes

runner = CliRunner()
RUN = ["run", "--model", "peerwatch/exfiltrator", "-t", "exfiltration_transfer", "--subject", "peer"]
RUN += ["--instantiation", "file_only", "--epochs", "2", "--guard", "default", "--approvals", "approve-all"]


def _guarded_run(log_dir: Path, condition: str, audit: Path | None = None) -> None:
    extra = ["--audit", str(audit)] if audit else []
    r = runner.invoke(app, [*RUN, "--condition", condition, "--log-dir", str(log_dir), *extra])
    assert r.exit_code == 0, r.output


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """A run directory after two guarded sessions, a copy taken after the first, and a fresh attacker's run."""
    base = tmp_path_factory.mktemp("redteam")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PEERWATCH_KEYSTORE", str(base / "operator-keystore"))
        _guarded_run(base / "run", "good_peer")
        shutil.copytree(base / "run", base / "older")
        _guarded_run(base / "run2", "bad_peer", audit=base / "run" / "audit.sqlite")
        # The attacker makes their own fresh, self-consistent log with a keystore they control.
        mp.setenv("PEERWATCH_KEYSTORE", str(base / "attacker-keystore"))
        _guarded_run(base / "fresh", "neutral_peer")
    yield {"base": base, "run": base / "run", "older": base / "older", "fresh": base / "fresh"}


@pytest.fixture
def victim(world: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the run directory (same store path for the witness), with the operator's keystore."""
    monkeypatch.setenv("PEERWATCH_KEYSTORE", str(tmp_path / "ks"))
    if (world["base"] / "operator-keystore").exists():
        shutil.copytree(world["base"] / "operator-keystore", tmp_path / "ks")
    shutil.copytree(world["run"], tmp_path / "run")
    return tmp_path / "run"


def _verify(store: Path, *extra: str) -> tuple[int, str]:
    r = runner.invoke(app, ["audit", "verify", str(store), *extra])
    assert "Traceback" not in r.output, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), r.output
    return r.exit_code, r.output


def _fails(store: Path, *extra: str) -> str:
    code, out = _verify(store, *extra)
    assert code != 0, f"attack verified: {out}"
    assert len(out.strip().splitlines()) == 1, out
    return out


def _checkpoint_file(run: Path) -> Path:
    [cp] = [p for p in run.iterdir() if "checkpoint" in p.name]
    return cp


def _rows(store: Path) -> list[tuple[int, str, str]]:
    with sqlite3.connect(store) as db:
        return list(db.execute("SELECT seq, hash, body FROM audit ORDER BY seq"))


def _rewrite(store: Path, change) -> list[bytes]:  # type: ignore[no-untyped-def]
    """Rebuild the whole chain with `change` applied to each body; returns the new leaf hashes."""
    prev, out = "0" * 64, []
    with sqlite3.connect(store) as db:
        rows = list(db.execute("SELECT seq, body FROM audit ORDER BY seq"))
        db.execute("DELETE FROM audit")
        for seq, body in rows:
            data = change(json.loads(body))
            data["prev_hash"] = prev
            raw = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
            prev = hashlib.sha256(raw).hexdigest()
            db.execute("INSERT INTO audit (seq, hash, body) VALUES (?, ?, ?)", (seq, prev, raw.decode()))
            out.append(leaf_hash(raw))
    return out


def _allow_everything(rec: dict) -> dict:  # type: ignore[type-arg]
    return {**rec, "decision": "allow"}


def test_clean_run_verifies_with_no_flags(victim: Path) -> None:
    code, out = _verify(victim / "audit.sqlite")
    assert code == 0 and "OK" in out, out


def test_deleted_checkpoint_file_fails(victim: Path) -> None:
    _checkpoint_file(victim).unlink()
    assert "checkpoint" in _fails(victim / "audit.sqlite")


def test_directory_rolled_back_to_an_older_copy_fails(victim: Path, world: dict[str, Path]) -> None:
    shutil.rmtree(victim)
    shutil.copytree(world["older"], victim)
    assert "witness" in _fails(victim / "audit.sqlite")


def test_log_replaced_by_a_fresh_self_consistent_one_fails(victim: Path, world: dict[str, Path]) -> None:
    shutil.rmtree(victim)
    shutil.copytree(world["fresh"], victim)
    _fails(victim / "audit.sqlite")


def test_fresh_log_that_copies_the_log_identity_fails(victim: Path, world: dict[str, Path]) -> None:
    with sqlite3.connect(victim / "audit.sqlite") as db:
        meta = list(db.execute("SELECT key, value FROM meta"))
    shutil.rmtree(victim)
    shutil.copytree(world["fresh"], victim)
    with sqlite3.connect(victim / "audit.sqlite") as db:
        db.executemany("UPDATE meta SET value = ? WHERE key = ?", [(v, k) for k, v in meta])
    _fails(victim / "audit.sqlite")


def _private_keys_in(run: Path) -> list[Ed25519PrivateKey]:
    keys = []
    for f in run.rglob("*"):
        if not f.is_file():
            continue
        data = f.read_bytes()
        for loader in (serialization.load_pem_private_key, serialization.load_der_private_key):
            try:
                key = loader(data, password=None)
            except (ValueError, TypeError):
                continue
            if isinstance(key, Ed25519PrivateKey):
                keys.append(key)
        if len(data) == 32:
            keys.append(Ed25519PrivateKey.from_private_bytes(data))
    return keys


def _note(origin: str, size: int, root: bytes, key: Ed25519PrivateKey) -> str:
    text = f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    kh = hashlib.sha256(origin.encode() + b"\n\x01" + pub).digest()[:4]
    return f"{text}\n\u2014 {origin} {base64.b64encode(kh + key.sign(text.encode())).decode()}\n"


def test_resigning_with_every_file_in_the_run_directory_fails(victim: Path) -> None:
    keys = _private_keys_in(victim)
    assert not keys, "a signing key is stored in the run's directory"
    leaves = _rewrite(victim / "audit.sqlite", _allow_everything)
    cp = _checkpoint_file(victim)
    last = json.loads(cp.read_text().splitlines()[-1])
    origin = last["note"].split("\n")[0]
    for key in [*keys, Ed25519PrivateKey.generate()]:
        line = {"size": len(leaves), "note": _note(origin, len(leaves), root_from_hashes(leaves), key)}
        cp.write_text(json.dumps(line) + "\n")
        _fails(victim / "audit.sqlite")


def test_records_appended_after_the_last_checkpoint_fail(victim: Path) -> None:
    rows = _rows(victim / "audit.sqlite")
    seq, h, body = rows[-1]
    data = {**json.loads(body), "seq": seq + 1, "prev_hash": h, "tool": "transfer_server_files"}
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    with sqlite3.connect(victim / "audit.sqlite") as db:
        db.execute(
            "INSERT INTO audit (seq, hash, body) VALUES (?, ?, ?)",
            (seq + 1, hashlib.sha256(raw.encode()).hexdigest(), raw),
        )
    out = _fails(victim / "audit.sqlite")
    assert "uncovered" in out and str(seq + 1) in out


def test_rollback_to_an_earlier_checkpoint_fails(victim: Path) -> None:
    cp = _checkpoint_file(victim)
    lines = cp.read_text().splitlines()
    assert len(lines) >= 2
    first = json.loads(lines[0])
    cp.write_text(lines[0] + "\n")
    with sqlite3.connect(victim / "audit.sqlite") as db:
        db.execute("DELETE FROM audit WHERE seq >= ?", (first["size"],))
    assert "witness" in _fails(victim / "audit.sqlite")


def test_garbage_signature_on_a_matching_checkpoint_fails(victim: Path) -> None:
    cp = _checkpoint_file(victim)
    lines = cp.read_text().splitlines()
    last = json.loads(lines[-1])
    text, _, sigs = last["note"].partition("\n\n")
    name = sigs.split(" ")[1]
    garbage = base64.b64encode(b"\x00" * 68).decode()
    last["note"] = f"{text}\n\n\u2014 {name} {garbage}\n"
    cp.write_text("\n".join([*lines[:-1], json.dumps(last)]) + "\n")
    assert "signature" in _fails(victim / "audit.sqlite")


@pytest.mark.parametrize("garbage", [b"", b"not json\n", b'{"size": 3}\n', b'{"size": "x", "note": 5}\n', b"\xff\xfe"])
def test_garbage_checkpoint_file_is_a_one_line_error(victim: Path, garbage: bytes) -> None:
    _checkpoint_file(victim).write_bytes(garbage)
    _fails(victim / "audit.sqlite")


BAD_PEM = b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"


@pytest.mark.parametrize("garbage", [b"", BAD_PEM, b"\x00" * 32])
def test_garbage_key_files_are_one_line_errors(victim: Path, tmp_path: Path, garbage: bytes) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_bytes(garbage)
    _fails(victim / "audit.sqlite", "--public-key", str(bad))
    for f in Path(os.environ["PEERWATCH_KEYSTORE"]).rglob("*"):
        if f.is_file() and "pub" in f.name:
            f.write_bytes(garbage)
    _fails(victim / "audit.sqlite")


def test_directory_swapped_for_another_genuine_run_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Both runs are the operator's, both verify where they were written; swapping them must not.
    monkeypatch.setenv("PEERWATCH_KEYSTORE", str(tmp_path / "ks"))
    _guarded_run(tmp_path / "run", "good_peer")
    _guarded_run(tmp_path / "other", "bad_peer")
    assert _verify(tmp_path / "other" / "audit.sqlite")[0] == 0
    shutil.rmtree(tmp_path / "run")
    shutil.copytree(tmp_path / "other", tmp_path / "run")
    assert "witness last saw" in _fails(tmp_path / "run" / "audit.sqlite")


def _code_and_lines(store: Path, *extra: str) -> tuple[int, list[str]]:
    code, out = _verify(store, *extra)
    return code, out.strip().splitlines()


def test_dropping_the_newest_checkpoint_line_fails(victim: Path) -> None:
    # The run's last checkpoint may cover as many records as the one before it; dropping it must still show.
    cp = _checkpoint_file(victim)
    lines = cp.read_text().splitlines()
    assert len(lines) >= 2
    cp.write_text("\n".join(lines[:-1]) + "\n")
    assert "witness" in _fails(victim / "audit.sqlite")


def test_witness_cosignatures_stripped_from_every_note_fails(victim: Path) -> None:
    cp = _checkpoint_file(victim)
    out = []
    for line in cp.read_text().splitlines():
        rec = json.loads(line)
        rec["note"] = "".join(x + "\n" for x in rec["note"].splitlines() if "peerwatch.local/witness" not in x)
        out.append(json.dumps(rec))
    cp.write_text("\n".join(out) + "\n")
    assert "cosignature" in _fails(victim / "audit.sqlite")


@pytest.mark.parametrize("damage", ["delete", "truncate-zero", "truncate-half", "garbage"])
def test_missing_or_corrupt_store_is_a_failed_verification(victim: Path, damage: str) -> None:
    db = victim / "audit.sqlite"
    for side in (victim / "audit.sqlite-wal", victim / "audit.sqlite-shm"):
        side.unlink(missing_ok=True)
    if damage == "delete":
        db.unlink()
    elif damage == "truncate-zero":
        db.write_bytes(b"")
    elif damage == "truncate-half":
        data = db.read_bytes()
        db.write_bytes(data[: len(data) // 2])
    else:
        db.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    code, lines = _code_and_lines(db)
    assert code == 1 and len(lines) == 1, lines


def test_third_party_verify_with_flags_still_works(victim: Path) -> None:
    ks = Path(os.environ["PEERWATCH_KEYSTORE"])
    [record] = [p for p in (ks / "witness").glob("*.json")]
    flags = ["--public-key", str(ks / "audit-signing.pub"), "--witness", str(record)]
    assert _verify(victim / "audit.sqlite", *flags)[0] == 0
    assert _verify(victim / "audit.sqlite", *flags, "--witness-key", str(ks / "witness.pub"))[0] == 0


def test_a_repeated_checkpoint_line_fails(victim: Path) -> None:
    # The log publishes a checkpoint only when it grew: a duplicated line is an edit of the directory.
    cp = _checkpoint_file(victim)
    lines = cp.read_text().splitlines()
    sizes = [json.loads(x)["size"] for x in lines]
    assert sizes == sorted(set(sizes)), "a guarded run published the same checkpoint twice"
    cp.write_text("\n".join([*lines, lines[-1]]) + "\n")
    assert "grow" in _fails(victim / "audit.sqlite")


@pytest.mark.parametrize("flag", ["--public-key", "--witness-key", "--witness"])
def test_garbage_file_given_as_a_flag_is_a_usage_error(victim: Path, tmp_path: Path, flag: str) -> None:
    bad = tmp_path / "garbage"
    bad.write_bytes(BAD_PEM + b"\x00")
    code, lines = _code_and_lines(victim / "audit.sqlite", flag, str(bad))
    assert code == 2 and len(lines) == 1, lines
