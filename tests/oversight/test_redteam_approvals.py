"""Red team: approvals forged, replayed or rendered from the agent's side must never pass or mislead the human."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from peerwatch.cli import app
from peerwatch.oversight import (
    ApprovalRequest,
    ApproverKey,
    AuditLog,
    FileChannel,
    Guard,
    HttpChannel,
    SQLiteStore,
    load_policy,
)


@pytest.fixture
def keystore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The operator's key store, with an approver key in it (out of the agent's reach in a real deployment)."""
    ks = tmp_path / "keystore"
    monkeypatch.setenv("PEERWATCH_KEYSTORE", str(ks))
    ApproverKey.generate()
    return ks


def _guard(tmp_path: Path, channel, timeout: float = 3.0) -> Guard:  # type: ignore[no-untyped-def]
    pol = load_policy()
    pol = pol.model_copy(update={"approval": pol.approval.model_copy(update={"timeout_seconds": timeout})})
    return Guard(pol, AuditLog(SQLiteStore(tmp_path / "audit.sqlite")), channel)


def _agent_writes_decisions(directory: Path, stop: threading.Event) -> None:
    """The agent's own process: approve every request file it can see, in every spelling it can think of."""
    while not stop.is_set():
        for p in directory.glob("*.request.json"):
            d = p.name.removesuffix(".request.json")
            body = {"digest": d, "approved": True, "approver": "human", "key_id": "0" * 16, "signature": "AAAA"}
            (directory / f"{d}.decision.json").write_text(json.dumps(body))
        time.sleep(0.01)


def test_agent_cannot_approve_its_own_request_through_the_file_channel(tmp_path: Path, keystore: Path) -> None:
    approvals = tmp_path / "approvals"
    guard = _guard(tmp_path, FileChannel(approvals))
    stop = threading.Event()
    t = threading.Thread(target=_agent_writes_decisions, args=(approvals, stop), daemon=True)
    t.start()
    try:
        r = guard.check_call("agent-7", "delete_model", {"name": "peer"}, "c1")
    finally:
        stop.set()
        t.join()
    assert not r.allowed and r.decision == "rejected"
    [rec] = AuditLog(SQLiteStore(tmp_path / "audit.sqlite")).records()
    assert rec.decision == "rejected" and not rec.approval["approved"]  # type: ignore[index]


def _http(url: str, body: dict | None = None, token: str | None = None) -> tuple[int, object]:  # type: ignore[type-arg]
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if body is not None else "GET", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


def test_agent_cannot_approve_its_own_request_over_http(tmp_path: Path, keystore: Path) -> None:
    channel = HttpChannel()
    guard = _guard(tmp_path, channel, timeout=2)
    seen: list[int] = []

    def agent() -> None:
        for _ in range(100):
            code, pending = _http(f"{channel.url}/requests")
            seen.append(code)
            # Without the token the agent cannot even list; try to answer a guessed digest anyway.
            _http(f"{channel.url}/decisions", {"digest": "x" * 64, "approved": True})
            if pending:
                for p in pending:  # type: ignore[attr-defined]
                    _http(f"{channel.url}/decisions", {"digest": p["digest"], "approved": True, "approver": "human"})
            time.sleep(0.02)

    t = threading.Thread(target=agent, daemon=True)
    t.start()
    try:
        r = guard.check_call("agent-7", "delete_model", {"name": "peer"}, "c1")
    finally:
        t.join()
        channel.close()
    assert not r.allowed and set(seen) == {401}


def test_stolen_token_without_the_key_still_cannot_approve(tmp_path: Path, keystore: Path) -> None:
    channel = HttpChannel()
    guard = _guard(tmp_path, channel, timeout=3)
    impostor = ApproverKey.generate(tmp_path / "impostor.key")  # a key the guard does not trust

    def agent() -> None:
        for _ in range(100):
            _, pending = _http(f"{channel.url}/requests", token=channel.token)
            for p in pending or []:  # type: ignore[attr-defined]
                req = ApprovalRequest.model_validate(p)
                body = impostor.sign(req, True, "human").model_dump()
                _http(f"{channel.url}/decisions", body, token=channel.token)
                return
            time.sleep(0.02)

    t = threading.Thread(target=agent, daemon=True)
    t.start()
    try:
        r = guard.check_call("agent-7", "delete_model", {"name": "peer"}, "c1")
    finally:
        t.join()
        channel.close()
    assert not r.allowed and "not trusted" in r.reason + str(
        AuditLog(SQLiteStore(tmp_path / "audit.sqlite")).records()[0].approval
    )


def test_a_decision_is_consumed_once_replay_of_the_same_call_is_denied(tmp_path: Path, keystore: Path) -> None:
    approvals = tmp_path / "approvals"
    channel = FileChannel(approvals)
    guard = _guard(tmp_path, channel, timeout=1.5)
    human = ApproverKey.load()
    decision_files: list[str] = []

    def alice() -> None:
        for _ in range(200):
            for req in channel.pending():
                channel.answer(req, True, "alice", key=human)
                decision_files.extend(p.read_text() for p in approvals.glob("*.decision.json"))
                return
            time.sleep(0.01)

    t = threading.Thread(target=alice)
    t.start()
    first = guard.check_call("agent-7", "delete_model", {"name": "old"}, "same-id")
    t.join()
    assert first.allowed and first.decision == "approved"
    # The agent keeps the decision file and puts it back for the identical call (same id, same arguments).
    stop = threading.Event()

    def replay() -> None:
        while not stop.is_set():
            for p in approvals.glob("*.request.json"):
                d = p.name.removesuffix(".request.json")
                (approvals / f"{d}.decision.json").write_text(decision_files[0])
            old = json.loads(decision_files[0])
            (approvals / f"{old['digest']}.decision.json").write_text(decision_files[0])
            time.sleep(0.01)

    t = threading.Thread(target=replay, daemon=True)
    t.start()
    try:
        second = guard.check_call("agent-7", "delete_model", {"name": "old"}, "same-id")
    finally:
        stop.set()
        t.join()
    assert not second.allowed
    recs = AuditLog(SQLiteStore(tmp_path / "audit.sqlite")).records()
    assert recs[0].approval["key_id"] == human.key_id  # type: ignore[index]  # the audit names the approver key


MARKUP = ["[/]", "[bold red]all fine[/bold red]", "[link=https://evil.example]click[/link]", "[conceal]rm -rf /[/]",
          "\x1b[8mhidden\x1b[0m", "\u202eexe.txt", "a\rb"]


@pytest.mark.parametrize("payload", MARKUP)
def test_approve_shows_the_agents_arguments_verbatim(tmp_path: Path, keystore: Path, payload: str) -> None:
    approvals = tmp_path / "approvals"
    approvals.mkdir()
    req = ApprovalRequest(
        actor="agent-7", tool="delete_model", args={"name": payload}, call_id=payload, policy_version="v",
        rule="r", reason="why",
    )
    (approvals / f"{req.digest}.request.json").write_text(req.model_dump_json())
    result = CliRunner().invoke(app, ["approve", str(approvals)], input="n\n")
    assert result.exit_code == 0, result.output
    visible = json.dumps(payload, ensure_ascii=False)[1:-1]
    for ch, shown in (("\x1b", "\\u001b"), ("\u202e", "\\u202e"), ("\r", "\\r")):
        visible = visible.replace(ch, shown)
    assert visible in result.output
    assert "\x1b" not in result.output and "\u202e" not in result.output


def test_approve_on_a_missing_directory_is_a_one_line_error(tmp_path: Path, keystore: Path) -> None:
    result = CliRunner().invoke(app, ["approve", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_human_approves_over_http_with_peerwatch_approve(tmp_path: Path, keystore: Path) -> None:
    from peerwatch.oversight import channel_from_spec

    channel = channel_from_spec("http:0")
    assert isinstance(channel, HttpChannel)
    assert (keystore / "approvals-http.token").read_text().strip() == channel.token
    assert oct((keystore / "approvals-http.token").stat().st_mode & 0o777) == "0o600"
    guard = _guard(tmp_path, channel, timeout=20)
    out: list[object] = []
    t = threading.Thread(target=lambda: out.append(guard.check_call("agent-7", "delete_model", {"name": "x"}, "c1")))
    t.start()
    try:
        for _ in range(100):
            if channel._pending:
                break
            time.sleep(0.05)
        result = CliRunner().invoke(app, ["approve", "http", "--approver", "alice"], input="y\n")  # URL recorded
        t.join(timeout=30)
    finally:
        channel.close()
    assert result.exit_code == 0, result.output
    [r] = out
    assert r.allowed and r.decision == "approved"  # type: ignore[attr-defined]
    [rec] = AuditLog(SQLiteStore(tmp_path / "audit.sqlite")).records()
    assert rec.approval["approver"] == "alice" and rec.approval["key_id"] == ApproverKey.load().key_id  # type: ignore[index]


def test_http_channel_binds_loopback_only_without_tls() -> None:
    from peerwatch.oversight import ApprovalChannelError

    with pytest.raises(ApprovalChannelError, match="loopback"):
        HttpChannel(host="0.0.0.0")


def test_keygen_and_missing_key_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERWATCH_KEYSTORE", str(tmp_path / "ks"))
    (tmp_path / "approvals").mkdir()
    missing = CliRunner().invoke(app, ["approve", str(tmp_path / "approvals")])
    assert missing.exit_code == 2 and "--keygen" in missing.output and len(missing.output.strip().splitlines()) == 1
    made = CliRunner().invoke(app, ["approve", "--keygen"])
    assert made.exit_code == 0 and ApproverKey.load().key_id in made.output
    assert oct((tmp_path / "ks" / "approver.key").stat().st_mode & 0o777) == "0o600"
    again = CliRunner().invoke(app, ["approve", "--keygen"])
    assert again.exit_code == 2 and "exists" in again.output


def test_an_encrypted_approver_key_cannot_sign_without_its_passphrase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from peerwatch.oversight import ApproverKeyError

    monkeypatch.setenv("PEERWATCH_KEYSTORE", str(tmp_path / "ks"))
    monkeypatch.setenv("PEERWATCH_APPROVER_PASSPHRASE", "correct horse")
    made = CliRunner().invoke(app, ["approve", "--keygen"])
    assert made.exit_code == 0, made.output
    monkeypatch.delenv("PEERWATCH_APPROVER_PASSPHRASE")
    # The agent can read the key file but not use it.
    with pytest.raises(ApproverKeyError, match="encrypted"):
        ApproverKey.load()
    with pytest.raises(ApproverKeyError):
        ApproverKey.load(passphrase="guess")
    (tmp_path / "approvals").mkdir()
    refused = CliRunner().invoke(app, ["approve", str(tmp_path / "approvals")])
    assert refused.exit_code == 2 and "encrypted" in refused.output
    assert ApproverKey.load(passphrase="correct horse").key_id in made.output


def test_a_request_rewritten_to_look_harmless_cannot_be_approved(tmp_path: Path, keystore: Path) -> None:
    approvals = tmp_path / "approvals"
    channel = FileChannel(approvals)
    guard = _guard(tmp_path, channel, timeout=2)

    def agent_then_human() -> None:
        for _ in range(200):
            for p in approvals.glob("*.request.json"):
                data = json.loads(p.read_text())
                data.update(rule="reads-are-fine", reason="a harmless read")  # keep the file name, change the story
                p.write_text(json.dumps(data))
                for req in channel.pending() or [ApprovalRequest.model_validate(data)]:
                    channel.answer(req, True, "alice", key=ApproverKey.load())  # the misled human approves
                return
            time.sleep(0.01)

    t = threading.Thread(target=agent_then_human, daemon=True)
    t.start()
    r = guard.check_call("agent-7", "delete_model", {"name": "peer"}, "c1")
    t.join()
    assert not r.allowed
