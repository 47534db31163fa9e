"""The oversight layer in front of the real servers (`peerwatch harness --guard POLICY`).

Two checks, both deciding with the ordinary policy engine (`Guard.check`) by replaying what happens on the servers
as the study tool call with the same effect (a write of the weights' content on another server is
`transfer_server_files`, a second copy at home `copy_server_file`, ...), so a policy file means the same thing in
both modes:

- before (`_guard_before`): the root-owned session wrapper sends each command to the orchestrator (through the record
  FIFO) and waits for a decision file only root can write; a command whose file verbs would copy, move, delete or
  queue protected content is refused before it runs;
- after (`_guard_after`): every recorded operation and a poll of the data roots trigger a sweep of the servers'
  state; protected content (by bytes, `_identity`: encoded, archived or split too) anywhere but its home, or gone
  from home, is decided as that effect and, unless allowed, reverted from root's pristine copy.

This module holds the set-up, the identity cache, the decisions and the wrapper's side channel. Every decision and
every revert is appended to the audit log with the actor bound by the orchestrator.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from peerwatch.oversight import Guard, GuardResult, Policy, protected_in
from peerwatch.scenarios import Scenario
from peerwatch.world import World

from ._guard_after import QUEUE_NAME, AfterMixin
from ._guard_before import BeforeMixin
from ._guard_sftp import SFTP_PROTECTED, sftp_entries
from ._identity import MAX_READ, Identifier

__all__ = ["QUEUE_NAME", "GuardEvent", "HarnessGuard"]
_TOKEN = re.compile(r"^[0-9a-f-]{36}$")
POLL_SECONDS = 0.25


class GuardEvent(BaseModel):
    """One decision of the harness guard (kept in the sample's store and the ledger)."""

    time: float
    ip: str
    check: str  # "before" (a command refused or allowed) or "after" (state found and kept or reverted)
    tool: str
    args: dict[str, Any]
    allowed: bool
    decision: str
    rule: str
    reason: str
    audit_seq: int | None = None
    command: str | None = None
    reverted: list[str] = Field(default_factory=list)


class HarnessGuard(BeforeMixin, AfterMixin):
    """The guard for one harness episode: attach to a workspace's data roots, then check before and after."""

    def __init__(self, guard: Guard, policy: Policy, actor: str) -> None:
        self.guard, self.policy, self.actor = guard, policy, actor
        self.events: list[GuardEvent] = []
        self._lock = threading.RLock()  # decisions and reverts on one world are serialised
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self._kept: set[tuple[str, str, str, str]] = set()  # state the policy allowed: not asked again
        self._calls = 0
        self._seen: dict[tuple[str, int, int, int, int], str | None] = {}

    # --- set-up ------------------------------------------------------------------------------------------------------

    def attach(
        self,
        scenario: Scenario,
        data_dirs: dict[str, Path],
        decision_dirs: dict[str, Path],
        views: dict[str, Path] | None = None,
    ) -> None:
        """Fix what is protected and where it lives, and keep root's pristine copy of every initial file.

        `views`: other paths the servers see elsewhere than root does (a harness slot's private /tmp), by prefix.
        """
        self.scenario, self.data_dirs, self.decision_dirs = scenario, data_dirs, decision_dirs
        self.views = sorted((views or {}).items(), key=lambda kv: -len(kv[0]))  # the longest prefix wins
        self.protected = protected_in(self.policy, scenario.world)
        self.home: dict[str, tuple[str, str]] = {}
        self.backup: dict[tuple[str, str], tuple[bytes, float, float]] = {}
        bodies: dict[bytes, str] = {}
        unprotected: list[bytes] = []
        for server in scenario.world.servers:
            for f in server.files:
                path = data_dirs[server.ip] / f.name
                body, st = path.read_bytes(), path.stat()
                self.backup[(server.ip, f.name)] = (body, st.st_atime, st.st_mtime)
                if f.content_id in self.protected.weights:
                    self.home.setdefault(f.content_id, (server.ip, f.name))
                    bodies[body] = f.content_id
                else:
                    unprotected.append(body)
        if not self.home:
            raise ValueError("guard: the policy protects no server file of this scenario (nothing to guard)")
        self.identifier = Identifier(bodies, unprotected, set(self.protected.weights))
        for ip in decision_dirs:  # what the SFTP filter refuses before it lands (`_guard_sftp`)
            self._answer(ip, SFTP_PROTECTED, sftp_entries(self, ip, bodies))

    def start(self) -> None:
        """Poll the data roots for changes no recorded operation announces (background jobs, interactive shells)."""
        self._poller = threading.Thread(target=self._poll, daemon=True, name="peerwatch-harness-guard")
        self._poller.start()

    def _poll(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            with contextlib.suppress(Exception):  # a failing poll is retried; the final sweep is not optional
                self.sweep("poll")

    def stop(self) -> None:
        """Stop polling (idempotent)."""
        self._stop.set()
        if self._poller is not None and self._poller is not threading.current_thread():
            self._poller.join(timeout=5)

    def finish(self) -> None:
        """The last sweep (the caller has stopped every server-side process), then a signed checkpoint."""
        self.stop()
        self.sweep("end of episode")
        self.guard.audit.checkpoint()

    # --- identity ----------------------------------------------------------------------------------------------------

    def identify(self, path: Path) -> str | None:
        """The protected content id a file holds (same bytes, embedded, a stand-in header, a part, encoded)."""
        try:
            st = path.lstat()
            if not stat.S_ISREG(st.st_mode):
                return None
            key = (str(path), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            if key in self._seen:  # polling rereads nothing that did not change
                return self._seen[key]
            with path.open("rb") as f:
                body = f.read(MAX_READ)
        except OSError:
            return None
        self._seen[key] = cid = self.identifier.identify(body, st.st_size)
        return cid

    def _host_path(self, ip: str, path: str) -> Path:
        """A path as a session on `ip` names it, as root sees it (/data is each server's own root; `views`)."""
        p = path if path.startswith("/") else f"/data/{path}"
        p = os.path.normpath(p)
        if p == "/data" or p.startswith("/data/"):
            return self.data_dirs[ip] / p[len("/data/") :] if p != "/data" else self.data_dirs[ip]
        for prefix, host in self.views:
            if p == prefix or p.startswith(prefix + "/"):
                return host / p[len(prefix) + 1 :] if p != prefix else host
        return Path(p)

    def _link_target(self, ip: str, root: Path, link: Path) -> Path:
        """What a symbolic link on a server points at, as root sees it (a link to staged weights is the weights)."""
        target = Path(os.readlink(link))
        inside = "/data" / link.parent.relative_to(root)
        for _ in range(8):  # a chain of links, bounded
            host = self._host_path(ip, str(target if target.is_absolute() else inside / target))
            if not host.is_symlink():
                return host
            inside, target = Path(os.path.dirname(str(target))), Path(os.readlink(host))
        return host

    # --- decisions ---------------------------------------------------------------------------------------------------

    def _world(self) -> World:
        return self.scenario.world.model_copy(deep=True)

    def _prepared(self, tool: str, args: dict[str, Any]) -> tuple[World, dict[str, Any]]:
        """The episode's initial world and the call's arguments, set up so the call has its effect."""
        world = self._world()
        if tool == "transfer_server_files":  # the copy already there must not turn the transfer into a no-op
            for s in world.servers:
                if s.ip == args["dest_ip"]:
                    s.files = [f for f in s.files if f.name not in args["filenames"]]
        if tool in ("copy_server_file", "rename_server_file"):
            for s in world.servers:
                if s.ip == args["ip"]:
                    s.files = [f for f in s.files if f.name != args["new_filename"] or f.name == args["filename"]]
            if args["new_filename"] == args["filename"]:
                args = {**args, "new_filename": f"{args['new_filename']}.copy"}
        return world, args

    def _decide(self, check: str, ip: str, tool: str, args: dict[str, Any], command: str | None) -> GuardEvent:
        """Ask the policy about the study call with the same effect, on the episode's initial world."""
        self._calls += 1
        world, args = self._prepared(tool, args)
        actor = f"{self.actor}@{ip}"
        result: GuardResult = self.guard.check(
            actor, tool, args, f"harness-{check}-{self._calls}", world, self.protected
        )
        if result.allowed and result.rule == "no-effect":  # the replay failed: never a reason to let it through
            result = result.model_copy(update={"allowed": False, "decision": "deny", "rule": "fail-closed"})
            self.guard.audit.append(
                actor=actor,
                tool=tool,
                args=args,
                decision="deny",
                rule="fail-closed",
                effect={"reason": "replayed call had no effect"},
            )
        ev = GuardEvent(
            time=time.time(),
            ip=ip,
            check=check,
            tool=tool,
            args=args,
            allowed=result.allowed,
            decision=result.decision,
            rule=result.rule,
            reason=result.reason,
            audit_seq=result.audit_seq,
            command=command,
        )
        self.events.append(ev)
        return ev

    def _record(
        self,
        check: str,
        ip: str,
        tool: str,
        args: dict[str, Any],
        decision: str,
        rule: str,
        reason: str,
        command: str | None = None,
    ) -> GuardEvent:
        """A decision the policy engine is not asked about (nothing protected involved; a revert): audited too."""
        try:
            seq = self.guard.audit.append(
                actor=f"{self.actor}@{ip}",
                tool=tool,
                args=args,
                decision=decision,
                rule=rule,
                effect={"reason": reason, "check": check},
            ).seq
            allowed = decision == "allow"
        except Exception as exc:  # an operation that cannot be recorded does not happen
            seq, allowed, decision, rule = None, False, "deny", "fail-closed"
            reason = f"audit error: {type(exc).__name__}: {' '.join(str(exc).split())}"
        ev = GuardEvent(
            time=time.time(),
            ip=ip,
            check=check,
            tool=tool,
            args=args,
            allowed=allowed,
            decision=decision,
            rule=rule,
            reason=reason,
            audit_seq=seq,
            command=command,
        )
        self.events.append(ev)
        return ev

    # --- the wrapper's side channel ----------------------------------------------------------------------------------

    def on_exec(self, ip: str, token: str, command: str) -> None:
        """A session announced its command: write the decision where only root can write and the wrapper reads."""
        if not _TOKEN.match(token):
            return
        ev = self.precheck(ip, command)
        verdict = "allow" if ev.allowed else "deny"
        reason = " ".join(f"{ev.decision} by rule {ev.rule}: {ev.reason}".split())
        self._answer(ip, token, f"{verdict}\t{hashlib.sha256(command.encode()).hexdigest()}\t{reason}\n")

    def on_end(self, ip: str, token: str) -> None:
        """A session's command finished: sweep, then let the wrapper return (with any revert notice)."""
        if not _TOKEN.match(token):
            return
        notices = self.sweep(f"after a session on {ip}")
        self._answer(ip, f"{token}.done", "".join(f"{n}\n" for n in notices) or "\n")

    def on_sftp_refused(self, ip: str, line: str) -> None:
        """The SFTP filter refused an operation before it landed: audit it, then sweep (what did land is checked)."""
        parts = line.split(" ", 4)
        tool, rule = (parts[2], parts[3]) if len(parts) >= 4 else ("sftp", "sftp-refused")
        with self._lock:
            self._record("before", ip, tool, {"ip": ip, "sftp": line[:300]}, "deny", rule, "refused by the SFTP filter",
                         command="sftp")
        self.sweep(f"sftp refusal on {ip}")

    def _answer(self, ip: str, name: str, text: str) -> None:
        d = self.decision_dirs[ip]
        tmp = d / f".{name}.tmp"
        tmp.write_text(text)
        os.chown(tmp, 0, d.stat().st_gid)  # readable by the server user's group (the wrapper), writable by root only
        tmp.chmod(0o640)
        os.replace(tmp, d / name)

    def summary(self) -> dict[str, int]:
        """Counts for the record: decisions, refusals before, reverts after."""
        return {
            "decisions": len(self.events),
            "refused_before": sum(1 for e in self.events if e.check == "before" and not e.allowed),
            "reverted_after": sum(1 for e in self.events if e.decision == "reverted"),
        }

