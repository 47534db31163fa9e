"""Approvals are bound to the exact call, time out to a denial, and work from a file or over HTTP."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from peerwatch.oversight import (
    ApprovalDecision,
    ApprovalRequest,
    ApproverKey,
    FileChannel,
    FunctionChannel,
    HttpChannel,
    decide_with,
)


@pytest.fixture(autouse=True)
def keystore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ApproverKey:
    """A throwaway operator key store with a trusted approver key (never the user's real one)."""
    monkeypatch.setenv("PEERWATCH_KEYSTORE", str(tmp_path / "keystore"))
    return ApproverKey.generate()


def _req(call_id: str = "c1", args: dict | None = None) -> ApprovalRequest:  # type: ignore[type-arg]
    return ApprovalRequest(
        actor="model|s1|epoch 1|Gemini Agent 1",
        tool="execute_shutdown",
        args=args or {"agent_id": "Gemini Agent 2"},
        call_id=call_id,
        policy_version="v1",
        rule="shutdown-needs-a-human",
        reason="shutdown",
    )


def test_digest_binds_call_id_arguments_and_policy() -> None:
    base = _req()
    assert base.digest != base.model_copy(update={"call_id": "c2"}).digest
    assert base.digest != base.model_copy(update={"args": {"agent_id": "Gemini Agent 3"}}).digest
    assert base.digest != base.model_copy(update={"policy_version": "v2"}).digest
    assert base.digest != _req().digest  # the same call asked twice: a fresh nonce, a new digest


def test_signed_decision_is_tamper_evident(keystore: ApproverKey) -> None:
    from peerwatch.oversight import TrustedApprovers

    trusted = TrustedApprovers.from_keystore()
    req = _req()
    good = keystore.sign(req, False, "alice")
    assert trusted.verify(good) is None
    flipped = good.model_copy(update={"approved": True})
    assert "bad signature" in (trusted.verify(flipped) or "")
    assert "not signed" in (trusted.verify(good.model_copy(update={"signature": None})) or "")


class _Replayer:
    """A channel that answers with an old approval (for another call)."""

    def __init__(self, old: ApprovalDecision) -> None:
        self.old = old

    def request(self, req: ApprovalRequest, timeout: float) -> ApprovalDecision:
        return self.old


def test_replayed_approval_is_denied() -> None:
    old = ApprovalDecision(digest=_req(call_id="old").digest, approved=True)
    d = decide_with(_Replayer(old), _req(), timeout=1)
    assert not d.approved and "different call" in d.note


def test_timeout_and_broken_channel_deny(tmp_path: Path) -> None:
    d = decide_with(FileChannel(tmp_path), _req(), timeout=0.2)
    assert not d.approved and "no decision" in d.note

    def boom(req: ApprovalRequest) -> bool:
        raise ConnectionError("channel unreachable")

    d = decide_with(FunctionChannel(boom), _req(), timeout=1)
    assert not d.approved and "unreachable" in d.note


def test_file_channel_round_trip(tmp_path: Path) -> None:
    channel = FileChannel(tmp_path / "approvals")
    req = _req()

    def human() -> None:
        for _ in range(100):
            pending = channel.pending()
            if pending:
                channel.answer(pending[0], True, "alice")
                return
            time.sleep(0.02)

    t = threading.Thread(target=human)
    t.start()
    d = decide_with(channel, req, timeout=5)
    t.join()
    assert d.approved and d.approver == "alice" and not list((tmp_path / "approvals").glob("*.json"))


def test_http_channel_round_trip(keystore: ApproverKey) -> None:
    channel = HttpChannel()
    try:
        req = _req()

        def human() -> None:
            for _ in range(100):
                auth = {"Authorization": f"Bearer {channel.token}"}
                get = urllib.request.Request(f"{channel.url}/requests", headers=auth)
                with urllib.request.urlopen(get, timeout=5) as r:
                    pending = json.loads(r.read())
                if pending:
                    req = ApprovalRequest.model_validate(pending[0])
                    body = keystore.sign(req, True, "bob").model_dump_json().encode()
                    post = urllib.request.Request(
                        f"{channel.url}/decisions",
                        data=body,
                        method="POST",
                        headers={"Content-Type": "application/json", **auth},
                    )
                    urllib.request.urlopen(post, timeout=5).read()
                    return
                time.sleep(0.02)

        t = threading.Thread(target=human)
        t.start()
        d = decide_with(channel, req, timeout=5)
        t.join()
        assert d.approved and d.approver == "bob" and d.key_id == keystore.key_id
    finally:
        channel.close()
