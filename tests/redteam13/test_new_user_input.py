"""A new user's bad input to `peerwatch run` (red team 13): one line on stderr and exit 2, never a hang, a traceback,
a silently wrong plan or a "run it again to resume" for something a re-run cannot fix."""

from __future__ import annotations

import os
import stat

import pytest
from typer.testing import CliRunner

from peerwatch.cli import app

runner = CliRunner()
BASE = ["run", "-m", "peerwatch/reference", "-t", "tampering", "--epochs", "1", "--workers", "1"]


def _run(args: list[str], tmp_path):
    return runner.invoke(app, [*BASE, *args], catch_exceptions=False) if "--log-dir" in args else runner.invoke(
        app, [*BASE, *args, "--log-dir", str(tmp_path / "logs")], catch_exceptions=False
    )


def _one_line_exit_2(res) -> str:
    out = (res.stderr or "") + (res.stdout or "")
    assert res.exit_code == 2, out[-2000:]
    assert "Traceback" not in out
    lines = [ln for ln in (res.stderr or "").splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    return lines[0]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("value", ["0", "-1", "-5"])
def test_limit_below_one_is_refused(tmp_path, value):
    # --limit -1 used to run every configuration but the last (a Python slice); 0 ran nothing and said "resume"
    line = _one_line_exit_2(_run(["--limit", value], tmp_path))
    assert "--limit" in line
    assert not (tmp_path / "logs").exists()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("value", ["0", "-3"])
def test_max_connections_below_one_is_refused(tmp_path, value):
    # --max-connections 0 used to hang for ever; -3 ran nothing and said "resume"
    line = _one_line_exit_2(_run(["--max-connections", value, "--limit", "1"], tmp_path))
    assert "--max-connections" in line


@pytest.mark.timeout(60)
def test_the_same_model_twice_is_one_line(tmp_path):
    line = _one_line_exit_2(_run(["-m", "peerwatch/reference", "--limit", "1"], tmp_path))
    assert "peerwatch/reference" in line and "twice" in line


@pytest.mark.timeout(60)
def test_log_dir_that_is_a_file_is_one_line(tmp_path):
    target = tmp_path / "a file"
    target.write_text("not a dir")
    line = _one_line_exit_2(_run(["--limit", "1", "--log-dir", str(target)], tmp_path))
    assert "not a directory" in line


@pytest.mark.timeout(60)
@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only dir anyway")
def test_read_only_log_dir_is_one_line(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        line = _one_line_exit_2(_run(["--limit", "1", "--log-dir", str(ro / "logs")], tmp_path))
        assert "not writable" in line
    finally:
        ro.chmod(stat.S_IRWXU)
