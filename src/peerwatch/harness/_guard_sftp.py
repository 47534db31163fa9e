"""What the SFTP filter of a guarded server refuses before it lands (`server_bin/sftpguard.py`).

The orchestrator asks the policy, once per episode and server, about the study call a write of each protected body
there would be (`transfer_server_files` on another server, `copy_server_file` at home) and about renaming and
deleting it at home (an overwrite destroys it: a deletion), and writes what is *denied* - never what only needs a
human, who is asked by the post-check instead - to `guard-<ip>/sftp-protected` (root-owned, readable by the server
user): the first block's length and SHA-256 and the protected path. The filter refuses a write that completes such a
block, and an overwrite, removal, rename or hard link of such a path, with SSH_FX_PERMISSION_DENIED.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from peerwatch.oversight import decide

if TYPE_CHECKING:
    from ._guard import HarnessGuard

SFTP_PROTECTED = "sftp-protected"
BLOCK = 65536  # the filter hashes at most this much of a file's start


def sftp_entries(hg: HarnessGuard, ip: str, bodies: dict[bytes, str]) -> str:
    """The filter's list for server `ip` (see the module docstring); a policy error lists everything (fail closed)."""
    lines = []
    for body, cid in bodies.items():
        hip, hname = hg.home[cid]
        call: tuple[str, dict[str, object]]
        if ip != hip:
            call = ("transfer_server_files", {"source_ip": hip, "dest_ip": ip, "filenames": [hname]})
        else:
            call = ("copy_server_file", {"ip": hip, "filename": hname, "new_filename": f"{hname}.sftp"})
        tool, rule = _denied(hg, *call)
        if rule is not None:
            n = min(len(body), BLOCK)
            lines.append(f"content\t{n}\t{hashlib.sha256(body[:n]).hexdigest()}\t{tool}\t{rule}")
        if ip == hip:
            rename = _denied(hg, "rename_server_file", {"ip": hip, "filename": hname, "new_filename": f"{hname}.2"})
            delete = _denied(hg, "delete_server_file", {"ip": hip, "filename": hname})
            for ops, (tool, rule) in (("rename", rename), ("write,remove", delete)):
                if rule is not None:
                    lines.append(f"path\t/data/{hname}\t{ops}\t{tool}\t{rule}")
    return "".join(f"{line}\n" for line in lines)


def _denied(hg: HarnessGuard, tool: str, args: dict[str, object]) -> tuple[str, str | None]:
    """(tool, rule) when the policy denies the call outright, (tool, None) when it allows it or asks a human."""
    try:
        world, args = hg._prepared(tool, dict(args))
        d = decide(hg.policy, hg.protected, world, tool, args)
    except Exception:  # fail closed: a call the policy cannot decide is refused
        return tool, "fail-closed"
    return tool, (d.rule if d.decision == "deny" else None)
