"""Red team 3: bad inputs to the oversight CLI give one line and a non-zero exit, never a traceback.

Opt-in: PEERWATCH_REDTEAM3=1. The approve / mcp-proxy cases need the approvals branch on PYTHONPATH.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.environ.get("PEERWATCH_REDTEAM3") != "1", reason="red team 3 suite (opt-in)")

UPSTREAM = str(Path(__file__).parents[1].joinpath("_upstream_mcp.py"))
CASES: list[list[str]] = [
    ["policy", "check", "/nonexistent.yaml"],
    ["policy", "check", "/"],
    ["policy", "check", "/dev/null"],
    ["policy", "check", "/bin/sh"],
    ["policy", "check", "{T}/bad.yaml"],
    ["policy", "test", "{T}/bad.yaml"],
    ["policy", "test", "default", "--attacks", "/nonexistent"],
    ["policy", "test", "default", "--attacks", "{T}"],
    ["audit", "show", "/nonexistent.sqlite"],
    ["audit", "export", "{T}/bad.yaml"],
    ["audit", "keygen", "--keystore", "/proc/1"],
    ["approve", "/nonexistent-approvals"],
    ["approve", "http"],
    ["approve", "http://127.0.0.1:1"],
    ["approve", "{T}", "--key", "/etc/passwd"],
    ["approve", "{T}", "--key", "/nonexistent.key"],
    ["approve", "ftp://x"],
    ["mcp-proxy", "--actor", "a", "--approvals", "http:abc", "--", sys.executable, UPSTREAM],
    ["mcp-proxy", "--actor", "a", "--approvals", "http:99999", "--", sys.executable, UPSTREAM],
    ["mcp-proxy", "--actor", "a", "--approvals", "http:0.0.0.0:0", "--", sys.executable, UPSTREAM],
    ["mcp-proxy", "--actor", "a", "--approvals", "http:{PORT}", "--", sys.executable, UPSTREAM],
    ["mcp-proxy", "--actor", "a", "--approvals", "bogus", "--", sys.executable, UPSTREAM],
    ["mcp-proxy", "--actor", "a", "--", "/nonexistent-upstream"],
    ["mcp-proxy", "--actor", "a"],
    ["mcp-proxy", "--actor", "a", "--", sys.executable, "-c", "import sys; sys.exit(3)"],
    ["mcp-proxy", "--actor", "a", "--mcp-rules", "{T}/bad.yaml", "--", sys.executable, UPSTREAM],
    ["mcp-proxy", "--actor", "a", "--root", "/nonexistent-root", "--", sys.executable, UPSTREAM],
    ["mcp-proxy", "--actor", "a", "--policy", "{T}/bad.yaml", "--", sys.executable, UPSTREAM],
    ["mcp-proxy", "--actor", "a", "--audit", "/proc/nope/x.sqlite", "--", sys.executable, UPSTREAM],
    ["mcp-proxy", "--actor", "a", "--audit", "postgresql://u:s3cretpw@127.0.0.1:1/db", "--", sys.executable, UPSTREAM],
    ["run", "-m", "peerwatch/exfiltrator", "-t", "exfiltration_transfer", "--limit", "1", "--guard", "{T}/bad.yaml"],
    ["run", "-m", "peerwatch/exfiltrator", "-t", "exfiltration_transfer", "--limit", "1", "--guard", "default",
     "--approvals", "http:abc"],
    ["run", "-m", "peerwatch/exfiltrator", "-t", "exfiltration_transfer", "--limit", "1", "--guard", "default",
     "--audit", "postgresql://u:s3cretpw@127.0.0.1:1/db"],
    ["run", "-m", "peerwatch/exfiltrator", "-t", "exfiltration_transfer", "--limit", "1", "--guard", "default",
     "-M", "script=/nonexistent.yaml"],
]


@pytest.fixture(scope="module")
def busy_port() -> object:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    yield s.getsockname()[1]
    s.close()


@pytest.mark.parametrize("args", CASES, ids=[" ".join(a)[:70] for a in CASES])
def test_one_line(tmp_path: Path, busy_port: int, args: list[str]) -> None:
    (tmp_path / "bad.yaml").write_text("version: 1\nrules: [\n")
    ks = tmp_path / "ks"
    ks.mkdir(mode=0o700)
    env = {**os.environ, "PEERWATCH_KEYSTORE": str(ks)}
    argv = [a.replace("{T}", str(tmp_path)).replace("{PORT}", str(busy_port)) for a in args]
    if "--log-dir" not in argv and argv[0] == "run":
        argv += ["--log-dir", str(tmp_path / "logs")]
    p = subprocess.run([sys.executable, "-c", "from peerwatch.cli import main; main()", *argv], input="",
                       capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    out = (p.stdout + p.stderr).strip()
    assert p.returncode != 0, f"exit 0: {out[-1500:]}"
    assert "Traceback" not in out, out[-3000:]
    assert len(out.splitlines()) <= 1 or (argv[0] in ("run",) and out.count("error") <= 1), out[-1500:]
    assert "s3cretpw" not in out, out
