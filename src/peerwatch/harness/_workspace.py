"""Materialise a server scenario as a real workspace, two real SSH servers, and an isolated agent user.

Layout of one run (a fresh temporary directory, mode 0711 so nobody can list it):

    private/   root 0700   scenario and answer key, sshd configs and host keys, the record, the servers' data roots,
                           and tmp/ (1777): the run's own /tmp, seen as /tmp by the agent and by both servers;
                           likewise var-tmp/, shm/ and lock/ for /var/tmp, /dev/shm and /run/lock (= /var/lock)
    shared/    root:server-user 0750   the session wrapper, the servers' file tools, authorized_keys, record FIFOs
    home/      agent 0700  the agent's HOME: .ssh (key, config, known_hosts) and workspace/ (documents, AGENTS.md)

The agent user can reach only home/; the server user only what its sessions need; the record, the answer key and
the other server's data are root's. Each run belongs to a slot (`_slots.py`): its users, lock and run directory are
the slot's alone, and its /tmp, /var/tmp, /dev/shm and /run/lock are private to it (bind mounts in the agent's and
the servers' mount namespaces, which also have IPC and PID namespaces of their own: System V and POSIX message queues
and the process table) and a network namespace (`_netns.py`: loopback only; its servers, agent and model bridge),
so runs in other slots share nothing with it; what an episode leaves there goes with its run directory. The study's
addresses are SSH config aliases (`Host 10.0.12.45`, `HostName 127.0.0.1`, a high port): no traffic ever goes to a
private-range address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shlex
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from peerwatch.agents import doc_filename
from peerwatch.scenarios import Factors, Scenario, enumerate_factors, factors_by_id, families
from peerwatch.world import DriveFile, Server, ServerFile, World

from ._files import FileIdentity, _ids, _stamp, ordinary_bytes, standin_bytes
from ._netns import NetNamespace, NetnsUnavailable
from ._servers import HarnessError, RecordLine, SshServer, kill_user, require_harness_host
from ._slots import SlotLease, claim_slot, ensure_user, slot_names

AGENT_USER = slot_names(0).agent_user  # slot 0's users; slot K's are `peerwatch-agent-K`, `peerwatch-maint-K`
SERVER_USER = slot_names(0).server_user
QUEUE_NAME = ".delete_queue"
LOCK_PATH = slot_names(0).lock_path
_FAKEFS = Path(__file__).parent / "server_bin" / "fakefs.py"
_TOOLS = ("ls", "stat", "du", "df", "queue-delete")
# The machine's directories every user may write (1777 on Debian): each run gets its own, under private/. A missing
# one (no /run/lock in a container) is skipped; /var/lock and /run/shm are links to two of them.
SHARED_DIRS = {"/var/tmp": "var-tmp", "/dev/shm": "shm", "/run/lock": "lock"}
KEPT = "KEPT"  # marks a run directory kept on purpose (--keep); others left behind by a crash are removed


def server_tasks() -> tuple[str, ...]:
    """The task types harness mode runs: the families with servers and a harness prompt."""
    return tuple(name for name, fam in families().items() if fam.harness is not None)


def _remove_stale(current: Path, prefix: str) -> None:
    """Remove this slot's run directories that a killed run left behind (we hold the slot: none is in use)."""
    for old in current.parent.glob(f"{prefix}*"):
        if old != current and old.is_dir() and not (old / KEPT).exists():
            shutil.rmtree(old, ignore_errors=True)


class Workspace:
    """One harness run's files, users and servers. Use as a context manager: everything stops on exit."""

    def __init__(
        self,
        scenario: Scenario,
        instruction_file: str = "AGENTS.md",
        system_text: str | None = None,
        keep: bool = False,
        guard: Any = None,
        slot: int | SlotLease = 0,
    ) -> None:
        """`slot`: a slot index to claim (refused if another run holds it) or a lease already claimed (the workspace
        releases it on close)."""
        if scenario.factors.task not in (server := server_tasks()):
            raise HarnessError(f"harness mode runs the server tasks ({', '.join(server)}), not {scenario.factors.task}")
        require_harness_host()
        self.scenario, self.instruction_file, self.keep = scenario, instruction_file, keep
        self.system_text = system_text
        self.guard = guard  # a HarnessGuard (`--guard`): decides before and after every server operation
        self.record: list[RecordLine] = []
        self._record_lock = threading.Lock()
        self.servers: dict[str, SshServer] = {}
        self.netns: NetNamespace | None = None  # the run's network namespace, from set-up to close
        self.identities: dict[str, FileIdentity] = {}  # sha256 hex -> identity
        self._slot_arg = slot
        self.lease: SlotLease | None = None
        self.slot = slot.slot if isinstance(slot, SlotLease) else slot_names(slot)
        self.agent_user, self.server_user = self.slot.agent_user, self.slot.server_user
        self.root = Path(tempfile.mkdtemp(prefix=self.slot.run_prefix))
        self.private, self.shared, self.home = self.root / "private", self.root / "shared", self.root / "home"
        self.workspace = self.home / "workspace"
        self.tmp = self.private / "tmp"  # the run's /tmp (inside its namespaces)
        # the run's own copy of each shared writable directory the machine has (inside its namespaces)
        self.shared_dirs = {d: self.private / sub for d, sub in SHARED_DIRS.items() if _plain_dir(d)}

    # --- set-up ------------------------------------------------------------------------------------------------------

    def __enter__(self) -> Workspace:
        try:
            self._lock()
            self._setup()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _lock(self) -> None:
        # A refused claim leaves `lease` None: close() must leave the other run's processes alone.
        self.lease = self._slot_arg if isinstance(self._slot_arg, SlotLease) else claim_slot(self._slot_arg)
        self.lease.arm(self.root)  # from here on the slot is cleaned even if peerwatch is killed

    def namespace_mounts(self) -> list[str]:
        """Shell commands (run as root in fresh mount + IPC namespaces) that give them this run's private /tmp,
        /var/tmp, /dev/shm (POSIX shared memory) and /run/lock, and the IPC namespace's own POSIX message queues.

        The run directory itself lives under the host's /tmp: it is bound back at its own path inside the new /tmp,
        so every path in the configs stays valid. Nothing else of the host's /tmp (other slots' runs) is visible.
        """
        q = shlex.quote
        cmds = [f"mount --bind {q(str(mine))} {q(d)}" for d, mine in self.shared_dirs.items()]
        if _plain_dir("/dev/mqueue"):  # mounted afresh, it lists this namespace's queues only
            cmds.append("mount -t mqueue peerwatch-mqueue /dev/mqueue")
        inside = self._run_in_tmp()
        if inside is not None:
            cmds.append(f"mount --bind {q(str(self.root))} {q(str(self.tmp / inside))}")
        cmds.append(f"mount --rbind {q(str(self.tmp))} /tmp")
        return cmds

    def path_views(self) -> dict[str, Path]:
        """How a path named inside this run's namespaces maps to the host (longest prefix wins): /tmp is the run's."""
        views = {"/tmp": self.tmp, **{d: mine for d, mine in self.shared_dirs.items()}}
        for alias in ("/var/lock", "/run/shm"):  # links into two of them on Debian
            if (target := os.path.realpath(alias)) != alias and target in self.shared_dirs:
                views[alias] = self.shared_dirs[target]
        if self._run_in_tmp() is not None:
            views[str(self.root)] = self.root
        return views

    def _run_in_tmp(self) -> Path | None:
        try:
            return self.root.relative_to("/tmp")
        except ValueError:
            return None

    def _setup(self) -> None:
        _remove_stale(self.root, self.slot.run_prefix)
        for user in (self.agent_user, self.server_user):  # leftovers of a run killed hard (we hold the slot)
            kill_user(user)
        try:  # before any server: they listen in it, and so does the model bridge
            self.netns = NetNamespace()
        except NetnsUnavailable as exc:  # e.g. the machine's namespace limit reached: this episode does not run
            raise HarnessError(str(exc)) from None
        Path("/data").mkdir(exist_ok=True)  # mount point of the servers' data roots (inside their namespaces)
        ensure_user(self.server_user, "/data")
        ensure_user(self.agent_user, str(self.home))
        s_uid, s_gid = _ids(self.server_user)
        a_uid, a_gid = _ids(self.agent_user)
        self.root.chmod(0o711)
        self.private.mkdir(mode=0o700)
        (self.private / "record").mkdir(mode=0o700)
        for mine in (self.tmp, *self.shared_dirs.values()):
            mine.mkdir()
            mine.chmod(0o1777)  # as the host's: anyone creates, only the owner removes
        inside = self._run_in_tmp()
        if inside is not None:  # the mount point of the run directory inside the run's /tmp: root's, not removable
            (self.tmp / inside).mkdir(parents=True, mode=0o711)
        self.shared.mkdir(mode=0o750)
        os.chown(self.shared, 0, s_gid)
        bin_dir = self.shared / "bin"
        bin_dir.mkdir(mode=0o755)
        shutil.copy(_FAKEFS, bin_dir / "fakefs.py")
        (bin_dir / "fakefs.py").chmod(0o755)
        shutil.copy(_FAKEFS.with_name("sftpguard.py"), bin_dir / "sftpguard.py")  # the guarded wrapper's SFTP filter
        (bin_dir / "sftpguard.py").chmod(0o755)
        for tool in _TOOLS:
            (bin_dir / tool).symlink_to("fakefs.py")
        (self.private / "scenario.json").write_text(self.scenario.model_dump_json(indent=1))
        self._agent_home(a_uid, a_gid)
        for server in self.scenario.world.servers:
            data = self.private / "servers" / server.ip / "data"
            data.mkdir(parents=True, mode=0o755)
            self._fill(server, data)
            for p in [data, *data.iterdir()]:
                os.chown(p, s_uid, s_gid)
            self.servers[server.ip] = SshServer(
                server.ip,
                data,
                self.private,
                self.shared,
                self.server_user,
                s_gid,
                bin_dir,
                guard=self.guard,
                mounts=self.namespace_mounts(),
                netns=self.netns,
            )
        if self.guard is not None:
            self.guard.attach(
                self.scenario,
                {ip: srv.data_dir for ip, srv in self.servers.items()},
                {ip: srv.decisions for ip, srv in self.servers.items()},
                views=self.path_views(),
            )
        for srv in self.servers.values():
            srv.start(self.record, self._record_lock)
        self._ssh_config(a_uid, a_gid)  # after start: a port taken meanwhile by someone else was replaced
        if self.guard is not None:
            self.guard.start()

    def _fill(self, server: Server, data: Path) -> None:
        for f in server.files:
            if f.size > 50_000_000:
                body = standin_bytes(f.name, f.size, f.content_id)
            else:
                body = ordinary_bytes(f.name, f.size, f.summary)
            path = data / f.name
            path.write_bytes(body)
            path.chmod(0o644)
            _stamp(path, f.modified)
            self.identities[hashlib.sha256(body).hexdigest()] = FileIdentity(
                content_id=f.content_id, apparent_size=f.size
            )

    def _agent_home(self, uid: int, gid: int) -> None:
        self.home.mkdir(mode=0o700)
        self.workspace.mkdir()
        world = self.scenario.world
        for doc in world.drive:
            path = self.workspace / doc_filename(doc.name)
            path.write_text(doc.content + "\n")
            _stamp(path, doc.date)
        instructions = self.system_text
        if instructions is None:
            instructions = self.scenario.system_prompt
            if world.memory is not None:
                instructions += "\n\n## Memory\n\n" + world.memory
        (self.workspace / self.instruction_file).write_text(instructions + "\n")
        ssh = self.home / ".ssh"
        ssh.mkdir(mode=0o700)
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "agent@workspace", "-f", str(ssh / "id_ed25519")],
            check=True,
        )
        keys = self.shared / "authorized_keys"
        keys.write_text((ssh / "id_ed25519.pub").read_text())
        keys.chmod(0o644)
        for dirpath, _, names in os.walk(self.home):
            os.chown(dirpath, uid, gid)
            for n in names:
                os.chown(os.path.join(dirpath, n), uid, gid)

    def _ssh_config(self, uid: int, gid: int) -> None:
        ssh = self.home / ".ssh"
        config, known = [], []
        for ip, srv in self.servers.items():
            config.append(
                f"Host {ip}\n    HostName 127.0.0.1\n    Port {srv.port}\n    User {self.server_user}\n"
                f"    HostKeyAlias {ip}\n    IdentityFile ~/.ssh/id_ed25519\n    IdentitiesOnly yes\n"
                f"    StrictHostKeyChecking yes\n    BatchMode yes\n    LogLevel ERROR\n"
            )
            known.append(f"{ip} {srv.host_public_key()}")
        for name, text in (("config", "\n".join(config)), ("known_hosts", "\n".join(known) + "\n")):
            (ssh / name).write_text(text)
            (ssh / name).chmod(0o600)
            os.chown(ssh / name, uid, gid)

    def guard_finish(self) -> None:
        """With the guard on: stop every server-side process (background jobs too), then the guard's last sweep."""
        if self.guard is not None:
            kill_user(self.server_user)
            self.guard.finish()

    # --- tear-down ---------------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the servers and every process of the slot's users, delete the run directory, release the slot."""
        if self.guard is not None:
            self.guard.stop()
        for srv in self.servers.values():
            srv.stop()
        held = self.lease is not None and self.lease.held
        if held:  # only the slot's holder may end its users' processes
            kill_user(self.agent_user)
            kill_user(self.server_user)
        if self.netns is not None:  # its servers and agent are gone: the kernel frees it
            self.netns.close()
        if self.keep:
            (self.root / KEPT).touch()
        else:
            shutil.rmtree(self.root, ignore_errors=True)
        if self.lease is not None:
            self.lease.release()  # the reaper checks once more, then the slot is free
            self.lease = None

    # --- observation -------------------------------------------------------------------------------------------------

    def server_state(self) -> World:
        """The servers as they are now, as a `World` (files by content identity, apparent sizes, queue)."""
        world = self.scenario.world.model_copy(deep=True)
        for server in world.servers:
            data = self.private / "servers" / server.ip / "data"
            files: list[ServerFile] = []
            queue: list[str] = []
            for path in sorted(data.iterdir()) if data.exists() else []:
                if path.name == QUEUE_NAME:
                    queue = [q.strip() for q in path.read_text(errors="replace").splitlines() if q.strip()]
                    continue
                if not path.is_file() or path.is_symlink():
                    continue
                body = path.read_bytes()
                digest = hashlib.sha256(body).hexdigest()
                known = self.identities.get(digest)
                mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC).date().isoformat()
                files.append(
                    ServerFile(
                        name=path.name,
                        size=known.apparent_size if known else len(body),
                        modified=mtime,
                        content_id=known.content_id if known else f"sha256:{digest[:40]}",
                    )
                )
            server.files, server.delete_queue = files, queue
        world.drive = self._workspace_documents(world)
        return world

    def _workspace_documents(self, world: World) -> list[DriveFile]:
        """The drive as the workspace now has it: documents kept, edited or deleted, and text files the agent made."""
        by_file = {doc_filename(d.name): d for d in world.drive}
        out = []
        for name, doc in by_file.items():
            path = self.workspace / name
            if path.is_file():
                text = path.read_text(errors="replace").removesuffix("\n")
                out.append(doc.model_copy(update={"content": text}) if text != doc.content else doc)
        for path in sorted(self.workspace.iterdir()) if self.workspace.exists() else []:
            if path.name in by_file or path.name == self.instruction_file or path.name.startswith("."):
                continue
            if path.is_file() and not path.is_symlink() and path.stat().st_size <= 1_000_000:
                text = path.read_text(errors="replace")
                out.append(
                    DriveFile(name=path.name, owner="agent", date=world.today, content=text, created_by_agent=True)
                )
        return out

    def docs_read(self) -> list[str]:
        """Workspace documents whose access time moved since set-up (they were read)."""
        out = []
        for doc in self.scenario.world.drive:
            path = self.workspace / doc_filename(doc.name)
            with_times = path.stat() if path.exists() else None
            if with_times is not None and with_times.st_atime > with_times.st_mtime:
                out.append(doc.name)
        return out

    def record_lines(self) -> list[RecordLine]:
        """The record so far, in time order (every line the servers have written by now)."""
        for srv in self.servers.values():
            srv.drain_record()
        with self._record_lock:
            return sorted(self.record, key=lambda r: r.ts)

    def sshd_logs(self) -> dict[str, str]:
        """Each server's own sshd log."""
        return {ip: srv.sshd_log() for ip, srv in self.servers.items()}


def _plain_dir(path: str) -> bool:
    """A real directory (not a link to one: its target is bound on its own)."""
    p = Path(path)
    return p.is_dir() and not p.is_symlink()


def server_factors(
    config: list[str], task: list[str], subject: list[str], condition: list[str], instantiation: list[str]
) -> list[Factors]:
    """The harness configurations: the ids given, else the server tasks' configurations matching the filters."""
    if config:
        out = [factors_by_id(c) for c in config]
    else:
        out = enumerate_factors(
            task=task or list(server_tasks()),
            subject=subject or None,
            condition=condition or None,
            instantiation=instantiation or None,
        )
    server = server_tasks()
    bad = [f.config_id for f in out if f.task not in server]
    if bad:
        raise HarnessError(f"harness mode runs the server tasks only ({', '.join(server)}); not {bad[0]}")
    return out
