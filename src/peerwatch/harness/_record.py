"""Turn the orchestrator-side record of a harness run into the effect ledger the detectors read.

Calls come from what the servers saw (each SSH command, each SFTP session and its file operations), from the
workspace (documents whose access time moved were read), and from the agent's own process record (commands it ran,
paths it was denied). Mutations come from comparing the servers' final state with the scenario's initial state by
content identity - the same kinds the simulated tool layer writes - each attributed to the recorded call that names
the file, so evidence cites what the agent actually ran.
"""

from __future__ import annotations

import re
from typing import Any

from peerwatch.scenarios import Scenario
from peerwatch.world import Effect, EffectKind, Ledger, World

from ._servers import RecordLine

_LISTING = re.compile(r"^\s*(?:sudo\s+)?(?:ls|ll|find|du|stat|tree|dir)\b")
_SFTP_FILE = re.compile(r'^(open|close|remove name|rename old|opendir|set|mkdir|rmdir) "([^"]+)"')


def _listing_command(command: str) -> bool:
    return any(_LISTING.match(part) for part in re.split(r"[;&|]+", command))


def _calls_from_record(ledger: Ledger, record: list[RecordLine]) -> None:
    sftp: dict[str, Effect] = {}
    for line in record:
        if line.kind == "exec":
            if line.text.startswith("internal-sftp") or "sftp-server" in line.text:
                sftp[line.ip] = ledger.record_call("sftp", {"ip": line.ip, "operations": []})
                continue
            ledger.record_call("ssh", {"ip": line.ip, "command": line.text or "(interactive shell)"})
            if _listing_command(line.text):
                ledger.record_call("list_server_files", {"ip": line.ip, "via": line.text})
            continue
        text = line.text.strip()
        call = sftp.get(line.ip)
        if call is None or not _SFTP_FILE.match(text):
            continue
        call.args["operations"].append(text)
        if text.startswith('opendir "/data'):
            ledger.record_call("list_server_files", {"ip": line.ip, "via": "sftp ls"})


def _initial(world: World) -> dict[str, dict[str, str]]:
    return {s.ip: {f.name: f.content_id for f in s.files} for s in world.servers}


_VERB: dict[str, re.Pattern[str]] = {
    "server_copy": re.compile(r"\b(?:cp|rsync|install|dd|tee|cat)\b"),
    "server_rename": re.compile(r"\b(?:mv|rename)\b|rename old"),
    "server_transfer": re.compile(r"\b(?:scp|rsync|sftp)\b|flags WRITE"),
    "server_delete": re.compile(r"\b(?:rm|unlink|shred)\b|remove name"),
    "server_queue_delete": re.compile(r"\bqueue-delete\b"),
}


def _cause(ledger: Ledger, kind: str, name: str, ips: list[str]) -> Effect | None:
    """The recorded call on one of `ips` that names the file - preferring one whose verb fits the effect."""
    naming: list[Effect] = []
    for e in ledger.calls():
        if e.args.get("ip") not in ips:
            continue
        texts = [str(e.args.get("command", "")), *map(str, e.args.get("operations", []))]
        if any(name in t for t in texts):
            naming.append(e)
    verb = _VERB.get(kind)
    fitting = [
        e
        for e in naming
        if verb
        and (
            verb.search(str(e.args.get("command", "")))
            or any(name in op and verb.search(op) for op in map(str, e.args.get("operations", [])))
        )
    ]
    picks = fitting or naming
    return picks[-1] if picks else None


def _effect(ledger: Ledger, kind: EffectKind, name: str, ips: list[str], fallback: Effect, **detail: Any) -> None:
    ledger.record_effect(_cause(ledger, kind, name, ips) or fallback, kind, target=name, **detail)


def build_ledger(
    scenario: Scenario,
    final: World,
    record: list[RecordLine],
    docs_read: list[str],
    agent_commands: list[str] | None = None,
    denied: list[str] | None = None,
) -> Ledger:
    """The effect ledger of one harness episode."""
    ledger = Ledger()
    if docs_read:
        ledger.record_call("list_drive_files", {"read": docs_read})
    for command in agent_commands or []:
        ledger.record_call("agent_shell", {"command": command})
    for path in denied or []:
        ledger.record_call("agent_access", {"path": path}, ok=False, error=f"permission denied: {path}")
    _calls_from_record(ledger, record)
    snapshot = ledger.record_call("server_state", {"compared": "initial vs final server files"})
    before, after = _initial(scenario.world), _initial(final)
    everywhere_before = {cid: (ip, name) for ip, files in before.items() for name, cid in files.items()}
    for ip, files in after.items():
        old = before.get(ip, {})
        for name, cid in sorted(files.items()):
            if old.get(name) == cid:
                continue
            here = [n for n, c in old.items() if c == cid]
            if here:
                kind: EffectKind = "server_copy" if any(n in files for n in here) else "server_rename"
                _effect(ledger, kind, name, [ip], snapshot, ip=ip, content_id=cid, source=here[0])
                continue
            origin: tuple[str, str | None] | None = everywhere_before.get(cid)
            if origin is None:  # content new in this episode: the first server holding it is where it was made
                first = next(i for i, fs in after.items() if cid in fs.values())
                origin = (first, None) if first != ip else None
            if origin is not None:
                src_ip, src_name = origin
                _effect(
                    ledger, "server_transfer", name, [ip, src_ip], snapshot,
                    source_ip=src_ip, dest_ip=ip, content_id=cid, source=src_name,
                )  # fmt: skip
    for ip, files in before.items():
        for name, cid in sorted(files.items()):
            if name not in after.get(ip, {}):
                _effect(ledger, "server_delete", name, [ip], snapshot, ip=ip, content_id=cid)
    _drive_effects(ledger, scenario.world, final, snapshot)
    for server in final.servers:
        ids = {f.name: f.content_id for f in server.files}
        for name in server.delete_queue:
            _effect(
                ledger, "server_queue_delete", name, [server.ip], snapshot, ip=server.ip, content_id=ids.get(name, "")
            )
    return ledger


def _drive_effects(ledger: Ledger, before: World, after: World, snapshot: Effect) -> None:
    """Documents the agent deleted, changed or created in its workspace, as drive effects."""
    old = {d.name: d for d in before.drive}
    new = {d.name: d for d in after.drive}
    for name, doc in old.items():
        if name not in new:
            ledger.record_effect(snapshot, "drive_delete", target=name, before=doc.content)
        elif new[name].content != doc.content:
            ledger.record_effect(snapshot, "drive_overwrite", target=name, before=doc.content, after=new[name].content)
    for name, doc in new.items():
        if name not in old:
            ledger.record_effect(snapshot, "drive_create", target=name, after=doc.content)
