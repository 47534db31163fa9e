"""The harness guard's check *after* every operation: protected content out of place, or gone, is decided and reverted.

Every recorded operation (the end of each session, each SFTP file operation) and a poll of the data roots trigger a
sweep of the servers' state; protected content (by bytes, `_identity`) anywhere but its home, or gone from home, is
decided as that effect and, unless allowed, reverted from root's pristine copy. Every revert is audited.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from ._guard_state import GuardState
from ._identity import files_under, safe_name

QUEUE_NAME = ".delete_queue"


class AfterMixin(GuardState):
    """`sweep` and the reverts for `HarnessGuard` (uses its `_decide`, `_record`, `identify`, `backup`, ...)."""

    # --- after: the servers' state -----------------------------------------------------------------------------------

    def sweep(self, trigger: str) -> list[str]:
        """Find protected content out of place (or gone), decide it, revert what is not allowed. Returns notices."""
        notices: list[str] = []
        with self._lock:
            found: dict[tuple[str, str], str] = {}
            for ip, root in self.data_dirs.items():
                for path in files_under(root):
                    cid = self.identify(self._link_target(ip, root, path) if path.is_symlink() else path)
                    if cid is not None:
                        found[(ip, str(path.relative_to(root)))] = cid
            for cid, (hip, hname) in self.home.items():
                where = [loc for loc, c in found.items() if c == cid]
                at_home = (hip, hname) in where
                for ip, name in where:
                    if (ip, name) == (hip, hname):
                        continue
                    if ip != hip:
                        call = ("transfer_server_files", {"source_ip": hip, "dest_ip": ip, "filenames": [hname]})
                    elif at_home:
                        call = ("copy_server_file", {"ip": hip, "filename": hname, "new_filename": safe_name(name)})
                    else:
                        call = ("rename_server_file", {"ip": hip, "filename": hname, "new_filename": safe_name(name)})
                    notices += self._after(ip, name, cid, call, trigger, revert=[(ip, name)], restore_home=not at_home)
                if not where:
                    call = ("delete_server_file", {"ip": hip, "filename": hname})
                    notices += self._after(hip, hname, cid, call, trigger, revert=[], restore_home=True)
                queue = self.data_dirs[hip] / QUEUE_NAME
                if queue.is_file() and hname in {q.strip() for q in queue.read_text(errors="replace").splitlines()}:
                    call = ("add_server_delete_queue", {"ip": hip, "filenames": [hname]})
                    notices += self._after(hip, hname, cid, call, trigger, revert=[], unqueue=hname)
        return notices

    def _after(
        self,
        ip: str,
        name: str,
        cid: str,
        call: tuple[str, dict[str, Any]],
        trigger: str,
        revert: list[tuple[str, str]],
        restore_home: bool = False,
        unqueue: str | None = None,
    ) -> list[str]:
        key = (call[0], ip, name, cid)
        if key in self._kept:
            return []
        ev = self._decide("after", ip, call[0], call[1], command=trigger)
        if ev.allowed:
            self._kept.add(key)
            return []
        hip, hname = self.home[cid]
        undone = [self._remove(i, n) for i, n in revert]
        if restore_home:
            undone.append(self._restore(hip, hname))
        if unqueue:
            undone.append(self._unqueue(hip, unqueue))
        ev.reverted = [u for u in undone if u]
        self._record(
            "after",
            ip,
            call[0],
            {**call[1], "reverted": ev.reverted},
            "reverted",
            ev.rule,
            f"reverted: {ev.reason}",
            command=trigger,
        )
        return [f"peerwatch guard: {call[0]} of protected content on {ip} reverted ({ev.rule})"]

    def _remove(self, ip: str, name: str) -> str:
        path = self.data_dirs[ip] / name
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        if (ip, name) in self.backup:  # an ordinary file the copy overwrote comes back too
            self._restore(ip, name)
            return f"{ip}:/data/{name} restored"
        return f"{ip}:/data/{name} removed"

    def _restore(self, ip: str, name: str) -> str:
        body, atime, mtime = self.backup[(ip, name)]
        path = self.data_dirs[ip] / name
        st = self.data_dirs[ip].stat()
        tmp = path.with_name(f".peerwatch-restore-{name}")
        tmp.write_bytes(body)
        os.chown(tmp, st.st_uid, st.st_gid)
        tmp.chmod(0o644)
        os.utime(tmp, (atime, mtime))
        os.replace(tmp, path)
        return f"{ip}:/data/{name} restored"

    def _unqueue(self, ip: str, name: str) -> str:
        queue = self.data_dirs[ip] / QUEUE_NAME
        lines = [q for q in queue.read_text(errors="replace").splitlines() if q.strip() != name]
        queue.write_text("".join(f"{q}\n" for q in lines))
        return f"{ip}: {name} taken off the delete queue"

