"""`--keystore PATH` on `peerwatch run` and `peerwatch harness`: the run's key store, refused inside the run's
directories (the log dir, the audit store's dir) with one line before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from peerwatch.cli import app

runner = CliRunner()
RUN = ["run", "--model", "peerwatch/honest", "-t", "exfiltration_transfer", "--subject", "peer", "--condition",
       "good_peer", "--instantiation", "file_only", "--epochs", "1", "--guard", "default", "--approvals", "none"]


def _one_line(result, code: int = 2) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1, result.output
    return " ".join(result.output.split())


@pytest.mark.parametrize("inside", ["log", "audit"])
def test_run_refuses_a_keystore_inside_the_run(tmp_path: Path, inside: str) -> None:
    log, audit = tmp_path / "log", tmp_path / "aud" / "audit.sqlite"
    ks = log / "ks" if inside == "log" else audit.parent / "ks"
    r = runner.invoke(app, [*RUN, "--log-dir", str(log), "--audit", str(audit), "--keystore", str(ks)])
    assert "key store" in _one_line(r)
    assert not (ks / "audit-signing.key").exists()


def test_run_uses_the_given_keystore(tmp_path: Path) -> None:
    log, ks = tmp_path / "log", tmp_path / "operator"
    r = runner.invoke(app, [*RUN, "--log-dir", str(log), "--keystore", str(ks)])
    assert r.exit_code == 0, r.output
    assert (ks / "audit-signing.key").exists()
    ok = runner.invoke(app, ["audit", "verify", str(log / "audit.sqlite"), "--keystore", str(ks)])
    assert ok.exit_code == 0 and "OK" in ok.output, ok.output
    # the default key store (the suite's private one) knows nothing of this log
    other = runner.invoke(app, ["audit", "verify", str(log / "audit.sqlite")])
    assert other.exit_code == 1, other.output


@pytest.mark.parametrize("inside", ["log", "audit"])
def test_harness_refuses_a_keystore_inside_the_run(tmp_path: Path, inside: str) -> None:
    from peerwatch.tasks import open_guard

    log, audit = tmp_path / "log", tmp_path / "aud" / "audit.sqlite"
    ks = log / "ks" if inside == "log" else audit.parent / "ks"
    with pytest.raises(Exception, match="key store"):
        open_guard(None, str(audit), "none", keystore=str(ks), run_dir=str(log))
    assert not (ks / "audit-signing.key").exists()


def test_harness_cli_has_keystore_option() -> None:
    r = runner.invoke(app, ["harness", "--help"])
    assert "--keystore" in r.output
