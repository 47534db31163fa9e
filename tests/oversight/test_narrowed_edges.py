"""Edges the type checker found: a store or a policy missing one optional part, an approvals server answering junk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from peerwatch.oversight import AuditLog, Guard, load_policy
from peerwatch.oversight._checkpoint import Signer, verify_checkpoint
from peerwatch.oversight._mcp_content import ContentIndex
from peerwatch.oversight._mcp_proxy import content_index
from peerwatch.oversight._mcp_rules import load_mcp_rules
from peerwatch.oversight._memstore import MemoryStore
from peerwatch.oversight._policy import Protected, WeightsSelector
from peerwatch.oversight._review import Reviewer, ReviewError


def test_memory_store_is_a_whole_audit_store() -> None:
    # A signed log over the in-memory store: checkpoints need the store's checkpoint sink and write lock.
    signer = Signer(Ed25519PrivateKey.generate())
    log = AuditLog(MemoryStore(), signer=signer)
    for i in range(3):
        log.append(actor="a", tool="t", args={"i": i}, decision="allow", rule="r", effect={})
    cp = log.checkpoint()
    assert log.checkpoints is not None and log.checkpoints.latest() == cp
    assert verify_checkpoint(cp, signer.public)


def test_content_index_without_a_protected_config(tmp_path: Path) -> None:
    (tmp_path / "shutdown.yaml").write_text("shutdown_enabled: false\n")
    idx = ContentIndex([tmp_path], r"\.safetensors$", None)
    idx.scan()
    assert not idx.is_config_content("shutdown_enabled: false")
    assert not idx.is_config_path(str(tmp_path / "shutdown.yaml"))


@pytest.mark.parametrize(
    "protected",
    [Protected(weights=WeightsSelector(name=r"\.safetensors$")), Protected(weights=None, shutdown_config=None)],
)
def test_proxy_index_for_a_policy_protecting_one_class(tmp_path: Path, protected: Protected) -> None:
    # A policy may protect only the weights: the proxy must build its index, not crash on the missing selector.
    policy = load_policy().model_copy(update={"protected": protected})
    guard = Guard(policy, AuditLog(MemoryStore()))
    (tmp_path / "shutdown.yaml").write_text("shutdown_enabled: true\n")
    idx = content_index(guard, load_mcp_rules(), [tmp_path])
    assert not idx.is_config_content("shutdown_enabled: true")


def _reviewer(tmp_path: Path, answer: Any, monkeypatch: pytest.MonkeyPatch) -> Reviewer:
    token = tmp_path / "token"
    token.write_text("t")
    r = Reviewer("http://127.0.0.1:9", None, token_file=token)
    monkeypatch.setattr(r, "_http", lambda path, body=None: answer)
    return r


@pytest.mark.parametrize("answer", [{"requests": []}, 5, "pending"])
def test_reviewer_refuses_an_answer_that_is_not_a_list(
    tmp_path: Path, answer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ReviewError, match="expected a list of requests"):
        _reviewer(tmp_path, answer, monkeypatch).pending()


def test_reviewer_skips_items_that_are_not_requests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _reviewer(tmp_path, ["x", 3, None, {"actor": "a"}], monkeypatch).pending() == []
    assert _reviewer(tmp_path, None, monkeypatch).pending() == []
