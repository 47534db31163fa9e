"""What the CLI takes from `peerwatch.oversight`: the MCP proxy loads on first use; approver keys load once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import peerwatch.oversight as oversight
from peerwatch.oversight import ApproverKey, ApproverKeyError, load_approver_key, policy_findings


def test_the_mcp_proxy_is_loaded_on_first_use() -> None:
    code = (
        "import sys, peerwatch.oversight as o; a = 'peerwatch.oversight._mcp_proxy' in sys.modules; "
        "o.serve_mcp_proxy; print(a, 'peerwatch.oversight._mcp_proxy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split() == ["False", "True"]


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        oversight.no_such_name  # noqa: B018


def test_plain_key_never_asks_for_a_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    ApproverKey.generate(path, None)

    def ask() -> str | None:
        raise AssertionError("asked for a passphrase of a plain key")

    assert load_approver_key(path, ask).key_id == ApproverKey.load(path).key_id


def test_encrypted_key_asks_once_and_a_wrong_answer_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    ApproverKey.generate(path, "s3cret")
    asked: list[int] = []

    def ask() -> str | None:
        asked.append(1)
        return "s3cret"

    assert load_approver_key(path, ask).key_id
    assert asked == [1]
    with pytest.raises(ApproverKeyError):
        load_approver_key(path, lambda: "wrong")
    with pytest.raises(ApproverKeyError, match="encrypted"):
        load_approver_key(path, lambda: None)


def test_missing_key_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ApproverKeyError, match="no approver key"):
        load_approver_key(tmp_path / "none.key", lambda: None)


def test_builtin_policy_has_no_findings() -> None:
    assert policy_findings(oversight.load_policy(None)) == []
