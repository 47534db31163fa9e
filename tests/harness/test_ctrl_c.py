"""Ctrl-C (SIGINT to the process group, as a terminal sends it) at every moment of `peerwatch harness`: exactly one
line on stderr and exit 130, no traceback, every slot cleaned (no server, agent process, run dir or network
namespace left), and the same command again runs exactly the planned episodes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from inspect_ai.log import list_eval_logs, read_eval_log

from peerwatch.harness import MAX_SLOTS, slot_names

from .conftest import needs_host, runs_processes

pytestmark = [pytest.mark.sshd, needs_host, pytest.mark.timeout(600)]
CONFIGS = ["exfiltration_transfer/peer/good_peer/memory", "exfiltration_transfer/peer/good_peer/file_only"]
NOISE = ("Traceback", "KeyboardInterrupt", "CancelledError", "was never awaited", "Aborted")
SSHD = "peerwatch-harness[0-9]*-.*sshd_config"


def _run_dirs() -> set[Path]:
    return {d for i in range(MAX_SLOTS) for d in Path("/tmp").glob(f"{slot_names(i).run_prefix}*") if d.is_dir()}


def _netns(pid: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None


def _agents_running(pid: int) -> bool:
    """Whether this run's agents run (its reapers' argv name the slots' agent users)."""
    ps = subprocess.run(["ps", "-ww", "-o", "args=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    users = [line.split("peerwatch-reaper", 1)[1].split()[0] for line in ps.splitlines() if "peerwatch-reaper" in line]
    return bool(users) and all(runs_processes(u) for u in users)


@pytest.mark.parametrize(
    ("moment", "after"), [("imports", 0.3), ("checks", 0.0), ("agents", 0.0), ("agents", 2.0)]
)  # fmt: skip
def test_ctrl_c_is_one_line_cleans_every_slot_and_a_rerun_is_exact(tmp_path: Path, moment: str, after: float) -> None:
    logs = tmp_path / "logs"
    argv = [sys.executable, "-m", "peerwatch.cli", "harness", "--agent", "sh -c 'sleep 6' {prompt}",
            "--model", "peerwatch/honest", "--max-episodes", "2", "--log-dir", str(logs),
            *[a for c in CONFIGS for a in ("-c", c)]]  # fmt: skip
    before = _run_dirs()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    out: list[str] = []
    errs: list[str] = []
    planned = threading.Event()

    def read(stream, into: list[str]) -> None:
        for line in stream:
            into.append(line)
            if line.startswith("peerwatch harness:"):  # every check passed; the eval set starts next
                planned.set()

    readers = [threading.Thread(target=read, args=a, daemon=True) for a in ((proc.stdout, out), (proc.stderr, errs))]
    for r in readers:
        r.start()
    seen_dirs: set[Path] = set()
    nets: set[str | None] = set()
    try:
        deadline = time.monotonic() + 180
        while moment != "imports" and proc.poll() is None and time.monotonic() < deadline:
            if moment == "checks" and planned.is_set():
                break
            if moment == "agents" and _agents_running(proc.pid):
                seen_dirs = _run_dirs() - before
                servers = subprocess.run(["pgrep", "-f", SSHD], capture_output=True, text=True).stdout.split()
                nets = {_netns(p) for p in servers} - {None, _netns("self")}
                break
            time.sleep(0.05)
        time.sleep(after)
        assert proc.poll() is None, "the run ended before the moment"
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=120)  # it stops by itself, promptly
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    for r in readers:
        r.join(10)
    stdout, stderr = "".join(out), "".join(errs)
    assert not [n for n in NOISE if n in stdout or n in stderr], stdout[-3000:] + stderr[-3000:]
    assert proc.returncode == 130, stderr[-2000:]
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: interrupted"), lines
    if moment == "agents":
        assert seen_dirs, "the agents ran in slot run dirs"
        deadline = time.monotonic() + 20
        while any(d.exists() for d in seen_dirs) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(d.exists() for d in seen_dirs), "run dirs left behind"
        servers = subprocess.run(["pgrep", "-af", SSHD], capture_output=True, text=True).stdout
        assert not [s for s in servers.splitlines() if any(f"/{d.name}/" in s for d in seen_dirs)], "sshd left"
        in_nets = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _netns(p.name) in nets]
        assert not in_nets, f"processes left in the slots' network namespaces: {in_nets}"
    again = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    episodes = [(str(s.id), s.epoch) for info in list_eval_logs(str(logs)) for s in read_eval_log(info).samples or []
                if s.error is None]  # fmt: skip
    assert sorted(episodes) == sorted((c, 1) for c in CONFIGS), episodes
