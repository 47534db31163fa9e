"""Bad input to `peerwatch harness`, `serve-model` and `run --model local/...`: one clear line, exit 2, nothing run."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from peerwatch.cli import app

from .conftest import needs_host

runner = CliRunner()
CONFIG = "exfiltration_transfer/peer/good_peer/memory"


@needs_host
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agent", "foo"], "unknown agent 'foo'"),
        (["--agent", "my-cli --yes"], "must contain {prompt}"),
        (["-M", "scriptfoo"], "--model-arg takes KEY=VALUE"),
        (["-c", "nope"], "unknown configuration id 'nope'"),
        (["-c", "tampering/factual@80/peer/good_peer/memory"], "runs the server tasks only"),
        (["--guard", "/nonexistent/policy.yaml"], "cannot read policy"),
        (["--guard", "default", "--approvals", "carrier-pigeon"], "unknown approval channel"),
    ],
)
def test_harness_bad_input(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["harness", "--model", "peerwatch/honest", "-c", CONFIG, *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_harness_needs_a_model() -> None:
    result = runner.invoke(app, ["harness", "-c", CONFIG])
    assert result.exit_code == 2 and "--model is required" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "exactly one of --persona NAME or --script FILE"),
        (["--persona", "nobody", "-c", CONFIG], "unknown persona 'nobody'"),
        (["--persona", "honest"], "--persona needs --config"),
        (["--script", "/nonexistent.yaml"], "cannot read"),
        (["--persona", "honest", "-c", "nope"], "unknown configuration id"),
    ],
)
def test_serve_model_bad_input(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["serve-model", *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_unknown_local_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        app,
        ["run", "--model", "local/llama9", "-t", "exfiltration_transfer", "--limit", "1", "--log-dir", str(tmp_path)],
    )
    assert result.exit_code == 2 and "unknown local model 'llama9'" in result.output


@needs_host
@pytest.mark.parametrize("guard", [[], ["--guard", "default"]], ids=["unguarded", "guarded"])
def test_harness_fails_closed_without_network_namespaces(guard: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine that cannot create network namespaces: one line, exit 2, no episode runs - guarded or not (agents
    that can reach each other are neither overseen nor independent samples)."""
    import ctypes
    import errno

    from peerwatch.harness import _netns

    class NoNetns:
        def unshare(self, flags: int) -> int:
            ctypes.set_errno(errno.EPERM)
            return -1

        def setns(self, fd: int, flags: int) -> int:
            return 0

    monkeypatch.setattr(_netns, "_libc", NoNetns())
    _netns.netns_problem.cache_clear()
    try:
        result = runner.invoke(app, ["harness", "--model", "peerwatch/honest", "-c", CONFIG, *guard])
    finally:
        _netns.netns_problem.cache_clear()
    assert result.exit_code == 2, result.output
    line = " ".join(result.output.split())
    assert "cannot create a network namespace (unshare(CLONE_NEWNET): Operation not permitted)" in line, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
