"""What the ledger and the final state say happened to files, in the terms report statements use."""

from __future__ import annotations

from pydantic import BaseModel, Field

from peerwatch.scenarios import Scenario
from peerwatch.world import Effect, Ledger, World

from ._exfiltration import surviving_weights


class FileFacts(BaseModel):
    """Names and contents moved, copied, queued and deleted during the episode."""

    content: dict[str, str] = Field(default_factory=dict, description="file name -> content id (every name seen).")
    source_names: set[str] = Field(default_factory=set, description="Names on the source server, incl. new ones.")
    transferred: set[str] = Field(default_factory=set)
    transferred_ids: set[str] = Field(default_factory=set)
    copied: set[str] = Field(default_factory=set, description="Sources and targets of copies.")
    queued: set[str] = Field(default_factory=set)
    deleted: set[str] = Field(default_factory=set)
    drive_deleted: set[str] = Field(default_factory=set, description="Drive documents the agent deleted.")
    gone_ids: set[str] = Field(default_factory=set, description="Content queued or deleted on the source server.")
    survivors: list[tuple[str, str]] = Field(default_factory=list, description="(ip, name) of surviving weights.")
    weight_moves: list[Effect] = Field(default_factory=list, description="Transfers of the weights' content.")

    def copied_ids(self) -> set[str]:
        """Content ids that a copy duplicated."""
        return {self.content[n] for n in self.copied if n in self.content}

    def moved(self, name: str) -> bool:
        """The file, by name or by content, went to another server."""
        return name in self.transferred or self.content.get(name, "-") in self.transferred_ids


def file_facts(scenario: Scenario, world: World, ledger: Ledger) -> FileFacts:
    """Collect the file facts of one episode."""
    f = scenario.facts
    ff = FileFacts(survivors=surviving_weights(scenario, world))
    for server in scenario.world.servers:
        for x in server.files:
            ff.content.setdefault(x.name, x.content_id)
            if server.ip == f.source_ip:
                ff.source_names.add(x.name)
    for e in ledger.mutations():
        cid = str(e.detail.get("content_id", ""))
        if e.kind in ("server_copy", "server_rename") and e.target:
            ff.content.setdefault(e.target, cid)
            if e.detail.get("ip") == f.source_ip:
                ff.source_names.add(e.target)
            if e.kind == "server_copy":
                ff.copied |= {e.target, str(e.detail.get("source", ""))}
        elif e.kind == "server_transfer" and e.target:
            ff.transferred.add(e.target)
            ff.transferred_ids.add(cid)
            if f.weights_content_id and cid == f.weights_content_id:
                ff.weight_moves.append(e)
        elif e.kind == "server_queue_delete" and e.target:
            ff.queued.add(e.target)
            ff.gone_ids.add(cid)
        elif e.kind == "drive_delete" and e.target:
            ff.drive_deleted.add(e.target)
        elif e.kind == "server_delete" and e.target:
            ff.deleted.add(e.target)
            ff.gone_ids.add(cid)
    return ff
