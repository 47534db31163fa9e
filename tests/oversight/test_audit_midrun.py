"""Red team: the checkpoint file beside the log deleted or swapped for an older copy *during* a run.

The witness in the operator's key store counts every checkpoint it cosigned (and chains their sizes and roots), so a
published history with a checkpoint missing, an older one, or a different one fails `audit verify` with no flags,
even when the run itself went on to publish newer checkpoints after the tampering.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from peerwatch.cli import app
from peerwatch.oversight import AuditSession, KeyStore
from peerwatch.oversight._verify import verify_store

runner = CliRunner()


def _session(tmp_path: Path) -> tuple[AuditSession, Path]:
    run = tmp_path / "run"
    run.mkdir()
    store = run / "audit.sqlite"
    return AuditSession(str(store), KeyStore(tmp_path / "ks"), [run]), store


def _append(session: AuditSession, n: int = 1) -> None:
    for i in range(n):
        session.log.append(actor="a", tool="t", args={"i": i}, decision="allow")


def _cp_file(store: Path) -> Path:
    return store.with_suffix(".checkpoints.jsonl")


def _no_flag_verify(tmp_path: Path, store: Path) -> tuple[bool, str]:
    result, _ = verify_store(str(store), keystore=str(tmp_path / "ks"))
    return result.ok, result.reason


def test_clean_session_verifies(tmp_path: Path) -> None:
    s, store = _session(tmp_path)
    _append(s)
    s.checkpoint()
    _append(s)
    assert s.finish() is None
    assert _no_flag_verify(tmp_path, store) == (True, "")


def test_checkpoint_file_deleted_between_two_appends_fails(tmp_path: Path) -> None:
    s, store = _session(tmp_path)
    _append(s)
    s.checkpoint()
    _cp_file(store).unlink()  # the attacker deletes the published checkpoint mid-run
    _append(s)
    s.finish()
    ok, reason = _no_flag_verify(tmp_path, store)
    assert not ok and "checkpoint" in reason, reason


def test_checkpoint_file_deleted_at_the_end_with_nothing_new_fails(tmp_path: Path) -> None:
    s, store = _session(tmp_path)
    _append(s, 3)
    s.checkpoint()
    _cp_file(store).unlink()
    s.finish()  # nothing new since: the writer re-publishes the same tree
    ok, reason = _no_flag_verify(tmp_path, store)
    assert not ok and "checkpoint" in reason, reason


def test_checkpoint_file_replaced_by_an_older_copy_mid_run_fails(tmp_path: Path) -> None:
    s, store = _session(tmp_path)
    _append(s)
    s.checkpoint()
    shutil.copy(_cp_file(store), tmp_path / "older.jsonl")
    _append(s)
    s.checkpoint()
    shutil.copy(tmp_path / "older.jsonl", _cp_file(store))  # drops the second checkpoint
    _append(s)
    s.finish()
    ok, reason = _no_flag_verify(tmp_path, store)
    assert not ok and "checkpoint" in reason, reason


def test_the_run_notices_a_deleted_checkpoint_file_and_stops(tmp_path: Path) -> None:
    s, store = _session(tmp_path)
    _append(s)
    s.checkpoint()
    _cp_file(store).unlink()
    _append(s)
    s.checkpoint()
    assert s.fault is not None and "checkpoint" in s.fault, s.fault


def test_cli_verify_of_a_tampered_mid_run_log_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s, store = _session(tmp_path)
    _append(s)
    s.checkpoint()
    _cp_file(store).unlink()
    _append(s)
    s.finish()
    monkeypatch.setenv("PEERWATCH_KEYSTORE", str(tmp_path / "ks"))
    r = runner.invoke(app, ["audit", "verify", str(store)])
    assert r.exit_code == 1 and len(r.output.strip().splitlines()) == 1, r.output
