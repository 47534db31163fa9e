"""The harness guard's check *before* a command runs: what its file verbs would do to protected content.

The session wrapper sends each command to the orchestrator and waits; a command that would copy, move, delete or queue
protected content (by bytes, `_identity`) is decided as the study call with the same effect and refused unless the
policy allows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._guard_state import GuardState
from ._guardcmd import file_ops
from ._identity import safe_name

if TYPE_CHECKING:
    from ._guard import GuardEvent


class BeforeMixin(GuardState):
    """`precheck` for `HarnessGuard` (uses its `_decide`, `_record`, `identify`, `_host_path`, `home`, `data_dirs`)."""

    # --- before: commands --------------------------------------------------------------------------------------------

    def precheck(self, ip: str, command: str) -> GuardEvent:
        """Decide a session's command before it runs; one audited decision for the command."""
        with self._lock:
            for tool, args in self._calls_for(ip, command):
                ev = self._decide("before", ip, tool, args, command=command)
                if not ev.allowed:
                    return ev
            return self._record(
                "before",
                ip,
                "ssh",
                {"ip": ip, "command": command},
                "allow",
                "no-protected-operation",
                "no protected content named by a recognised file operation",
                command=command,
            )

    def _calls_for(self, ip: str, command: str) -> list[tuple[str, dict[str, Any]]]:
        calls: list[tuple[str, dict[str, Any]]] = []
        for op in file_ops(command, lambda p: self._host_path(ip, p).is_dir()):
            src = self._host_path(ip, op.source) if op.source else None
            dst = self._host_path(ip, op.dest) if op.dest else None
            cid = self.identify(src) if src is not None else None
            if op.op == "overwrite" and dst is not None:
                cid, src = self.identify(dst), dst
                if cid is None:
                    continue
                op = op.model_copy(update={"op": "delete", "source": op.dest})
            if cid is None:
                continue
            hip, hname = self.home[cid]
            if op.op in ("delete", "queue"):
                tool = "delete_server_file" if op.op == "delete" else "add_server_delete_queue"
                key = "filename" if op.op == "delete" else "filenames"
                calls.append((tool, {"ip": hip, key: hname if op.op == "delete" else [hname]}))
                continue
            lands_on = ip if dst is not None and str(dst).startswith(str(self.data_dirs[ip])) else None
            new = safe_name(op.dest or "copy")
            if lands_on is not None and lands_on != hip:
                calls.append(("transfer_server_files", {"source_ip": hip, "dest_ip": ip, "filenames": [hname]}))
            elif op.op == "move" and src == self.data_dirs[hip] / hname:
                calls.append(("rename_server_file", {"ip": hip, "filename": hname, "new_filename": new}))
            else:  # a second copy of the weights, at home or staged outside /data
                calls.append(("copy_server_file", {"ip": hip, "filename": hname, "new_filename": new}))
        return calls

