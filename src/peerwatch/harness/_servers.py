"""Real OpenSSH servers on loopback for harness mode, and the orchestrator-side record of what happens on them.

Each server is the Debian `sshd`, started by peerwatch as root in a mount namespace of its own where its data root is
bind-mounted at `/data`, listening on 127.0.0.1 at a free high port with its own host key and config - the 127.0.0.1
of the run's own network namespace (`_netns.py`), where only the run's agent can reach it. Logins run as
the unprivileged server user through a forced-command wrapper (root-owned) that writes every session's command to a
FIFO before running it; SFTP sessions run `sftp-server` with its file-operation log going to a second FIFO. The
orchestrator reads both FIFOs into its own files, out of the agent's and the server user's reach; sshd's own log
(authentication, sessions) goes there too. Servers die with the orchestrator (parent-death signal) and on `stop()`.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import functools
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ._bridge import LOOPBACK, free_port
from ._netns import NetNamespace, netns_problem
from ._wrappers import GUARDED_WRAPPER, SSHD_CONFIG, WRAPPER

SSHD = "/usr/sbin/sshd"
SFTP_SERVER = "/usr/lib/openssh/sftp-server"
# The namespaces the agent and every server run in: mounts (the run's private /tmp and the like), System V IPC and
# POSIX message queues, and a process table of their own (`ps` shows no other slot; killing the namespace's first
# process - or unshare, peerwatch's child - ends every process in it). The network namespace is the run's, shared
# by its agent and both servers: `preexec_in` enters it before `unshare` runs.
UNSHARE = ["unshare", "--mount", "--ipc", "--pid", "--fork", "--kill-child", "--mount-proc", "--propagation", "private"]

class HarnessError(RuntimeError):
    """Harness mode cannot run here (not root, sshd missing, ...): the message is one line and says what to do."""


class _PortTaken(Exception):
    """sshd could not bind its port: someone took it between the pick and the start."""


class RecordLine(BaseModel):
    """One line of the orchestrator-side record of a server."""

    ts: float
    ip: str
    kind: str  # "exec" (a session's command; "" = interactive shell) or "sftp" (an sftp-server log line)
    text: str


def _parent_death_signal(sig: int = signal.SIGTERM, new_session: bool = True) -> None:  # child, before exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, sig)  # PR_SET_PDEATHSIG
    if new_session:
        os.setsid()


def die_with_parent() -> None:
    """preexec_fn: SIGKILL this child when peerwatch dies, however it dies (and give it a session of its own)."""
    _parent_death_signal(signal.SIGKILL)


def die_with_parent_same_session() -> None:
    """preexec_fn for children started with `start_new_session=True`: only the parent-death signal."""
    _parent_death_signal(signal.SIGKILL, new_session=False)


def _in_netns(netns: NetNamespace | None, then: Any) -> None:  # child, before exec
    if netns is not None:
        netns.enter()  # raises: the child never runs outside its run's namespace
    then()


def preexec_in(netns: NetNamespace | None, then: Any) -> Any:
    """preexec_fn that moves the child into `netns` (None: stays put), then runs `then` (a parent-death step)."""
    return functools.partial(_in_netns, netns, then)


def _connects(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), timeout=0.2):
        return True
    return False


class _Collector(threading.Thread):
    """Reads one FIFO for the run's lifetime into `lines` (opened read-write so writers never see EOF)."""

    def __init__(
        self, path: Path, ip: str, kind: str, sink: list[RecordLine], lock: threading.Lock, hook: Any = None
    ) -> None:
        super().__init__(daemon=True, name=f"peerwatch-record-{ip}-{kind}")
        self.path, self.ip, self.kind, self.sink, self.lock = path, ip, kind, sink, lock
        # The guard (if on) hears every line; it answers on a thread of its own so reading never stalls.
        self.hook = hook
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="peerwatch-guard") if hook else None
        self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        self._halt = threading.Event()
        self._buf = b""
        self._reading = threading.Lock()  # the thread's reads and `drain` never interleave (lines stay whole)

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                got = self._read_once()
            except OSError:
                return
            if not got:
                time.sleep(0.02)

    def _read_once(self) -> bool:
        """Read what the FIFO holds now and record its whole lines; False when it held nothing."""
        with self._reading:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                return False
            self._buf += chunk
            *done, self._buf = self._buf.split(b"\n")
            for raw in done:
                self._add(raw.decode("utf-8", "replace"))
            return True

    def drain(self) -> None:
        """Record every line already written (a writer finishes its line before its command runs): whoever reads
        the record next sees everything that happened before this call, not only what the poll has read."""
        with contextlib.suppress(OSError):
            while self._read_once():
                pass

    def _add(self, line: str) -> None:
        token = ""
        if self.kind == "exec":
            ts, kind, b64, token, *_ = [*line.split("\t"), "", "", "", ""]
            if kind == "end" and self.pool is not None:
                self.pool.submit(self.hook.on_end, self.ip, token)
                return
            try:
                text, when = base64.b64decode(b64, validate=True).decode("utf-8", "replace"), float(ts)
            except ValueError:
                text, when = line, time.time()
        else:
            text, when = line, time.time()
        with self.lock:
            self.sink.append(RecordLine(ts=when, ip=self.ip, kind=self.kind, text=text))
        if self.pool is not None:
            if self.kind == "exec":
                self.pool.submit(self.hook.on_exec, self.ip, token, text)
            elif text.startswith("peerwatch-guard refused "):  # the SFTP filter refused it before it landed
                self.pool.submit(self.hook.on_sftp_refused, self.ip, text)
            else:  # every SFTP file operation: check the state right after it
                self.pool.submit(self.hook.sweep, f"sftp on {self.ip}: {text[:200]}")

    def stop(self) -> None:
        time.sleep(0.1)  # let the last writes land
        self._halt.set()
        self.join(timeout=2)
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=False)
        with contextlib.suppress(OSError):
            os.close(self.fd)


class SshServer:
    """One sshd for one study address (e.g. 10.0.12.45), serving `data_dir` as `/data`."""

    def __init__(
        self,
        ip: str,
        data_dir: Path,
        private: Path,
        shared: Path,
        user: str,
        group_id: int,
        bin_dir: Path,
        guard: Any = None,
        mounts: list[str] | None = None,
        netns: NetNamespace | None = None,
    ) -> None:
        """`mounts`: shell commands run as root in the server's mount namespace before sshd starts (the run's
        private /tmp). `netns`: the run's network namespace, where sshd listens (None: the host's)."""
        self.ip, self.data_dir, self.user, self.guard = ip, data_dir, user, guard
        self.mounts = mounts or []
        self.netns = netns
        self.port = self._free_port()
        self.dir = private / f"sshd-{ip}"
        self.dir.mkdir(mode=0o700)
        self.hostkey = self.dir / "host_ed25519"
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"peerwatch-{ip}", "-f", str(self.hostkey)],
            check=True,
        )
        self.log = self.dir / "sshd.log"
        fifo_dir = shared / f"record-{ip}"
        fifo_dir.mkdir(mode=0o750)
        os.chown(fifo_dir, 0, group_id)
        self.fifo, self.sftp_fifo = fifo_dir / "exec", fifo_dir / "sftp"
        for f in (self.fifo, self.sftp_fifo):  # the server user may write records, never read or remove them
            os.mkfifo(f)
            os.chown(f, 0, group_id)
            f.chmod(0o620)
        # Decisions of the guard: root writes them, the server user (the wrapper) may only read.
        self.decisions = shared / f"guard-{ip}"
        self.decisions.mkdir(mode=0o750)
        os.chown(self.decisions, 0, group_id)
        wrapper = shared / f"session-{ip}.sh"
        wrapper.write_text(
            (GUARDED_WRAPPER if guard is not None else WRAPPER)
            .replace("__DECISIONS__", str(self.decisions))
            .replace("__FIFO__", str(self.fifo))
            .replace("__SFTP_FIFO__", str(self.sftp_fifo))
            .replace("__SFTP_SERVER__", SFTP_SERVER)
            .replace("__PATH__", str(bin_dir))
        )
        wrapper.chmod(0o755)
        self.config = self.dir / "sshd_config"
        self._config_text = (
            SSHD_CONFIG.replace("__IP__", ip)
            .replace("__HOSTKEY__", str(self.hostkey))
            .replace("__PIDFILE__", str(self.dir / "sshd.pid"))
            .replace("__AUTHKEYS__", str(shared / "authorized_keys"))
            .replace("__USER__", user)
            .replace("__WRAPPER__", str(wrapper))
        )
        self.config.write_text(self._config_text.replace("__PORT__", str(self.port)))
        self.proc: subprocess.Popen[bytes] | None = None
        self.collectors: list[_Collector] = []

    def host_public_key(self) -> str:
        """The server's host public key line (`ssh-ed25519 AAAA... comment`)."""
        return Path(f"{self.hostkey}.pub").read_text().strip()

    def drain_record(self) -> None:
        """Read into the record every line this server's sessions have written so far."""
        for c in self.collectors:
            c.drain()

    def start(self, sink: list[RecordLine], lock: threading.Lock) -> None:
        """Start sshd in its own mount namespace and wait until it accepts connections.

        The port was free when it was picked; another process (another slot, another program) may have taken it
        since: then sshd is started again on a fresh port (a few times at most).
        """
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
        check = subprocess.run([SSHD, "-t", "-f", str(self.config)], capture_output=True, text=True)
        if check.returncode != 0:
            raise HarnessError(f"sshd rejected its config for {self.ip}: {check.stderr.strip().splitlines()[-1]}")
        self.collectors = [
            _Collector(self.fifo, self.ip, "exec", sink, lock, self.guard),
            _Collector(self.sftp_fifo, self.ip, "sftp", sink, lock, self.guard),
        ]
        for c in self.collectors:
            c.start()
        for _ in range(5):
            try:
                self._start_sshd()
                return
            except _PortTaken:
                self.port = self._free_port()
                self.config.write_text(self._config_text.replace("__PORT__", str(self.port)))
        raise HarnessError(f"sshd for {self.ip}: no free port on {LOOPBACK} after 5 attempts")

    def _start_sshd(self) -> None:
        script = " && ".join(['mount --bind "$1" /data', *self.mounts, f'exec {SSHD} -D -e -f "$2"'])
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    *UNSHARE,
                    "sh",
                    "-c",
                    script,
                    "sh",
                    str(self.data_dir),
                    str(self.config),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                # SIGKILL: `unshare --fork` ignores (blocks) SIGTERM while it waits, so a gentler parent-death signal
                # left sshd running for good after a kill -9 of peerwatch; --kill-child then ends sshd with it
                preexec_fn=preexec_in(self.netns, die_with_parent),
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                text = self.log.read_text(errors="replace")
                if "Address already in use" in text.split("exited at start")[-1]:
                    self._mark_attempt()
                    raise _PortTaken
                tail = text.strip().splitlines()[-1:] or ["(no output)"]
                raise HarnessError(f"sshd for {self.ip} exited at start: {tail[0]}")
            if self._connects():
                return
            time.sleep(0.05)
        self.stop()
        raise HarnessError(f"sshd for {self.ip} did not listen on {LOOPBACK}:{self.port} within 10 s")

    def _free_port(self) -> int:
        return free_port() if self.netns is None else self.netns.call(free_port)

    def _connects(self) -> bool:
        return _connects(self.port) if self.netns is None else self.netns.call(_connects, self.port)

    def _mark_attempt(self) -> None:
        with self.log.open("a") as log:  # what follows in the log belongs to the next attempt
            log.write(f"peerwatch: sshd exited at start (port {self.port} taken); retrying on another port\n")

    def stop(self) -> None:
        """Stop sshd (its whole process group), then the record readers. Sessions left running as the server user
        are the workspace's to end (`Workspace.close`)."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        for c in self.collectors:
            c.stop()

    def sshd_log(self) -> str:
        """sshd's own log (authentication and session lines)."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _live_pids(uid: int) -> list[int]:
    """Processes running as `uid` (real or effective), zombies excepted: a zombie runs nothing and holds nothing;
    waiting for PID 1 to reap it cost most of a second per episode."""
    out = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = Path(entry.path, "status").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        uids = fields.get("Uid", "").split()[:2]
        if str(uid) in uids and not fields.get("State", "").strip().startswith("Z"):
            out.append(int(entry.name))
    return out


def kill_user(user: str, wait: float = 5.0) -> None:
    """SIGKILL every process of `user` and wait (bounded) until none is left."""
    import pwd

    try:
        uid = pwd.getpwnam(user).pw_uid
    except KeyError:
        return  # no such user: nothing to kill
    deadline = time.monotonic() + wait
    while pids := _live_pids(uid):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() > deadline:
            return
        time.sleep(0.02)


def require_harness_host() -> None:
    """Raise HarnessError unless this machine can run harness mode."""
    if os.geteuid() != 0:
        raise HarnessError(
            "harness mode needs root (it creates the isolated agent and server users and starts sshd in mount "
            "namespaces); run it as root or in a VM/container where you are root"
        )
    missing = [t for t in (SSHD, SFTP_SERVER) if not Path(t).exists()]
    missing += [t for t in ("ssh", "scp", "ssh-keygen", "unshare", "useradd") if shutil.which(t) is None]
    if missing:
        raise HarnessError(f"missing {', '.join(missing)}: run `bash scripts/setup/sshd.sh` (installs OpenSSH)")
    if not Path("/usr/bin/python3").exists():
        raise HarnessError("the servers' file tools need /usr/bin/python3: apt-get install python3")
    if (problem := netns_problem()) is not None:  # fail closed: slots that can talk are no isolation
        raise HarnessError(problem)
