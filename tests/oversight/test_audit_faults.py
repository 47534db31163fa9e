"""Store faults stop the world; the keystore stays out of the run's reach; DSN secrets never leak."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from typer.testing import CliRunner

from peerwatch.cli import app
from peerwatch.oversight import AuditLog, Guard, SQLiteStore, StoreError, load_policy
from peerwatch.scenarios import enumerate_factors
from peerwatch.tasks._guard import guard_approval
from peerwatch.tasks._run import build_tasks

runner = CliRunner()
RUN = ["run", "--model", "peerwatch/exfiltrator", "-t", "exfiltration_transfer", "--subject", "peer"]
RUN += ["--condition", "good_peer", "--instantiation", "file_only", "--epochs", "2", "--guard", "default"]
RUN += ["--approvals", "approve-all"]


def _one_line_error(out: str) -> None:
    assert "Traceback" not in out
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, out


def test_deleted_sqlite_file_is_detected_not_written_into(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "a.sqlite")
    log = AuditLog(store)
    log.append(actor="a", tool="t", args={}, decision="allow")
    (tmp_path / "a.sqlite").unlink()
    with pytest.raises(StoreError, match="deleted"):
        log.append(actor="a", tool="t", args={}, decision="allow")
    guard = Guard(load_policy(), log)
    assert not guard.check_call("a", "list_server_files", {}, "c").allowed


def test_replaced_sqlite_file_is_detected(tmp_path: Path) -> None:
    log = AuditLog(SQLiteStore(tmp_path / "a.sqlite"))
    log.append(actor="a", tool="t", args={}, decision="allow")
    other = AuditLog(SQLiteStore(tmp_path / "b.sqlite"))
    other.append(actor="x", tool="t", args={}, decision="allow")
    os.replace(tmp_path / "b.sqlite", tmp_path / "a.sqlite")
    with pytest.raises(StoreError, match=r"replaced|deleted"):
        log.append(actor="a", tool="t", args={}, decision="allow")


def test_store_deleted_mid_run_stops_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = SQLiteStore.append_many
    calls = {"n": 0}

    def deleting(self, builds):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3 and self.path.exists():
            self.path.unlink()  # the attacker removes the audit database between two tool calls
        return original(self, builds)

    monkeypatch.setattr(SQLiteStore, "append_many", deleting)
    r = runner.invoke(app, [*RUN, "--log-dir", str(tmp_path / "run")])
    assert r.exit_code == 1, r.output
    _one_line_error(r.output)
    assert "audit store" in r.output


def test_unwritable_checkpoint_stops_the_run(tmp_path: Path) -> None:
    (tmp_path / "run" / "audit.checkpoints.jsonl").mkdir(parents=True)  # cannot be opened for writing
    r = runner.invoke(app, [*RUN, "--log-dir", str(tmp_path / "run")])
    assert r.exit_code != 0, r.output
    _one_line_error(r.output)
    assert "checkpoint" in r.output


def _unknown_tool_outputs():  # type: ignore[no-untyped-def]
    usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    calls = [("no_such_tool", {"x": 1}), ("transfer_server_files", {"source_ip": 12, "bogus": True}), ("end_task", {})]
    for i, (tool, args) in enumerate(calls):
        out = ModelOutput.for_tool_call("mockllm/model", tool, args, tool_call_id=f"c{i}")
        out.usage = usage
        yield out


def test_calls_refused_by_inspect_are_audited(tmp_path: Path) -> None:
    factors = enumerate_factors(task=["exfiltration_transfer"], subject=["peer"], condition=["good_peer"])[:1]
    approval = guard_approval(None, audit=str(tmp_path / "audit.sqlite"), approvals="approve-all")
    inspect_eval(
        build_tasks(factors, guard="default"),
        model=get_model("mockllm/model", custom_outputs=_unknown_tool_outputs()),
        log_dir=str(tmp_path),
        display="none",
        log_level="error",
        approval=approval,
    )
    records = AuditLog(SQLiteStore(tmp_path / "audit.sqlite")).records()
    by_tool = {r.tool: r for r in records}
    assert by_tool["no_such_tool"].decision == "deny"
    assert by_tool["transfer_server_files"].decision == "deny"


def test_keygen_refuses_to_overwrite(tmp_path: Path) -> None:
    ks = tmp_path / "ks"
    first = runner.invoke(app, ["audit", "keygen", "--keystore", str(ks)])
    assert first.exit_code == 0, first.output
    key = next(p for p in ks.iterdir() if p.name.endswith(".key"))
    assert key.stat().st_mode & 0o777 == 0o600
    before = key.read_bytes()
    again = runner.invoke(app, ["audit", "keygen", "--keystore", str(ks)])
    assert again.exit_code != 0 and "--force" in again.output
    assert key.read_bytes() == before
    forced = runner.invoke(app, ["audit", "keygen", "--keystore", str(ks), "--force"])
    assert forced.exit_code == 0 and key.read_bytes() != before


def test_keystore_inside_the_run_directory_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERWATCH_KEYSTORE", str(tmp_path / "run" / "keys"))
    r = runner.invoke(app, [*RUN, "--log-dir", str(tmp_path / "run")])
    assert r.exit_code == 2 and "keystore" in r.output
    _one_line_error(r.output)


def test_keystore_writable_by_others_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ks = tmp_path / "ks"
    assert runner.invoke(app, ["audit", "keygen", "--keystore", str(ks)]).exit_code == 0
    ks.chmod(0o777)
    monkeypatch.setenv("PEERWATCH_KEYSTORE", str(ks))
    r = runner.invoke(app, [*RUN, "--log-dir", str(tmp_path / "run")])
    assert r.exit_code == 2 and "writable" in r.output


@pytest.mark.postgres
def test_dsn_password_never_appears(postgres_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "S3cr3tPassw0rd"
    dsn = postgres_dsn.replace("peerwatch@", f"peerwatch:{secret}@") + "?application_name=redteam"
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, [*RUN, "--log-dir", str(tmp_path / "run"), "--audit", dsn])
    assert r.exit_code == 0, r.output
    assert secret not in r.output
    v = runner.invoke(app, ["audit", "verify", dsn])
    assert v.exit_code == 0 and secret not in v.output, v.output
    for p in [tmp_path, Path(os.environ["PEERWATCH_KEYSTORE"])]:
        for f in p.rglob("*"):
            assert secret not in str(f)
            if f.is_file() and f.suffix in (".json", ".jsonl", ".txt", ".log", ""):
                assert secret.encode() not in f.read_bytes(), f
    from inspect_ai.log import read_eval_log

    for f in (tmp_path / "run").glob("*.eval"):
        assert secret not in read_eval_log(str(f)).model_dump_json()
    down = runner.invoke(app, ["audit", "verify", re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:1", dsn)])  # nobody there
    assert down.exit_code == 1 and secret not in down.output  # a store verify cannot read is a failed verification
    lines = [line for line in down.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("FAILED:") and "Traceback" not in down.output, down.output


def test_unwritable_store_is_a_store_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import peerwatch.oversight._store as store_module

    log = AuditLog(SQLiteStore(tmp_path / "a.sqlite"))
    log.append(actor="a", tool="t", args={}, decision="allow")
    # Permission bits do not stop root, so stand in for `chmod a-w` / a read-only remount by the access check itself.
    monkeypatch.setattr(store_module.os, "access", lambda path, mode: False)
    with pytest.raises(StoreError, match="not writable"):
        log.append(actor="a", tool="t", args={}, decision="allow")
