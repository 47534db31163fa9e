"""Red team: an MCP proxy's audit log must verify with no flags, however the proxy ends.

The proxy opens the same audit session as a guarded simulated run (signing key and witness in the operator's key
store, refused inside the audit or served directories), checkpoints periodically and once more on shutdown - the
client closing stdin, SIGTERM, SIGINT, the upstream exiting - and a store fault denies the call with a JSON-RPC error
and stops the proxy with a non-zero exit.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

UPSTREAM = Path(__file__).with_name("_upstream_mcp.py")
INIT = json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
INITED = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})


def _call(i: int, name: str, args: dict[str, Any] | None = None) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                       "params": {"name": name, "arguments": args or {}}})


class Proxy:
    def __init__(self, tmp_path: Path, *extra: str, keystore: Path | None = None) -> None:
        self.audit = tmp_path / "run" / "audit.sqlite"
        self.audit.parent.mkdir(exist_ok=True)
        env = dict(os.environ)
        if keystore is not None:
            env["PEERWATCH_KEYSTORE"] = str(keystore)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "peerwatch.cli", "mcp-proxy", "--actor", "agent-7", "--audit", str(self.audit),
             *extra, "--", sys.executable, str(UPSTREAM), str(tmp_path / "marker")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        self.watchdog = threading.Timer(90, self.proc.kill)
        self.watchdog.start()

    def send(self, *lines: str) -> None:
        assert self.proc.stdin
        self.proc.stdin.write("".join(line + "\n" for line in lines))
        self.proc.stdin.flush()

    def reply(self, i: int) -> dict[str, Any]:
        assert self.proc.stdout
        while True:
            line = self.proc.stdout.readline()
            assert line, f"proxy closed stdout; stderr: {self.proc.stderr.read() if self.proc.stderr else ''}"
            msg = json.loads(line)
            if isinstance(msg, dict) and msg.get("id") == i:
                return msg

    def start(self) -> None:
        self.send(INIT)
        self.reply(0)
        self.send(INITED)

    def wait(self) -> tuple[int, str]:
        try:
            if self.proc.stdin and not self.proc.stdin.closed:
                self.proc.stdin.close()
            self.proc.wait(timeout=60)
            err = self.proc.stderr.read() if self.proc.stderr else ""
        finally:
            self.watchdog.cancel()
        return self.proc.returncode, err


def _errors(err: str) -> list[str]:
    """The proxy's own error lines (the upstream's log lines share its stderr)."""
    assert "Traceback" not in err, err
    return [line for line in err.splitlines() if line.startswith("error:")]


def _verify(store: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "peerwatch.cli", "audit", "verify", str(store)],
                          capture_output=True, text=True, timeout=60)


def _two_calls(p: Proxy) -> None:
    p.start()
    p.send(_call(1, "read_notes"))
    assert "result" in p.reply(1)
    p.send(_call(2, "delete_weights", {"name": "x"}))  # a lifecycle call: denied, and audited
    assert p.reply(2)["result"]["isError"]


def test_proxy_log_verifies_after_the_client_closes_stdin(tmp_path: Path) -> None:
    p = Proxy(tmp_path)
    _two_calls(p)
    assert p.proc.stdin
    p.proc.stdin.close()
    code, err = p.wait()
    assert code == 0, err
    v = _verify(p.audit)
    assert v.returncode == 0 and "OK" in v.stdout, v.stdout + v.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_proxy_log_verifies_after_a_signal(tmp_path: Path, sig: int) -> None:
    p = Proxy(tmp_path)
    _two_calls(p)
    p.proc.send_signal(sig)
    p.proc.wait(timeout=60)  # stdin still open: the signal alone stops it
    code, err = p.wait()
    assert code == 0, err
    v = _verify(p.audit)
    assert v.returncode == 0 and "OK" in v.stdout, v.stdout + v.stderr


def test_proxy_log_verifies_after_the_upstream_exits(tmp_path: Path) -> None:
    p = Proxy(tmp_path)
    _two_calls(p)
    p.send(_call(3, "get_crashed"))
    p.proc.wait(timeout=60)  # with stdin still open: the proxy notices by itself
    code, err = p.wait()  # the proxy stops with its upstream: non-zero, one line
    assert code == 1 and len(_errors(err)) == 1 and "upstream" in _errors(err)[0], err
    v = _verify(p.audit)
    assert v.returncode == 0 and "OK" in v.stdout, v.stdout + v.stderr


def test_proxy_checkpoints_periodically(tmp_path: Path) -> None:
    p = Proxy(tmp_path, "--checkpoint-every", "0.5")
    _two_calls(p)
    time.sleep(2)
    v = subprocess.run([sys.executable, "-m", "peerwatch.cli", "audit", "verify", str(p.audit)],
                       capture_output=True, text=True, timeout=60)
    assert v.returncode == 0, v.stdout + v.stderr  # live log, every record covered already
    p.proc.send_signal(signal.SIGTERM)
    assert p.wait()[0] == 0


def test_store_deleted_mid_session_stops_the_proxy(tmp_path: Path) -> None:
    p = Proxy(tmp_path)
    _two_calls(p)
    p.audit.unlink()
    p.send(_call(3, "read_notes"))
    msg = p.reply(3)
    assert "error" in msg, msg  # a JSON-RPC error, not a result
    p.proc.wait(timeout=60)  # stdin still open: the fault alone stops it
    code, err = p.wait()
    assert code == 1 and len(_errors(err)) == 1 and "deleted" in _errors(err)[0], err


def test_keystore_inside_the_audit_directory_is_refused(tmp_path: Path) -> None:
    p = Proxy(tmp_path, keystore=tmp_path / "run" / "keys")
    code, err = p.wait()
    assert code == 2 and len(_errors(err)) == 1 and "key store" in _errors(err)[0], err


def test_keystore_inside_a_served_root_is_refused(tmp_path: Path) -> None:
    (tmp_path / "srv").mkdir()
    p = Proxy(tmp_path, "--root", str(tmp_path / "srv"), keystore=tmp_path / "srv" / "keys")
    code, err = p.wait()
    assert code == 2 and len(_errors(err)) == 1 and "key store" in _errors(err)[0], err
