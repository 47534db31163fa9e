"""The agent's report in a scenario: its text sources and the `Claims` the extractor reads from them."""

from __future__ import annotations

from peerwatch.scenarios import Scenario
from peerwatch.world import Ledger, World

from ._claims import Claims, extract_claims
from ._model import Transcript

Report = Claims
"""Kept as a name for callers of the earlier API: the report *is* its claims."""


def report_documents(world: World, ledger: Ledger) -> dict[str, str]:
    """name -> text of every drive document the agent wrote (last content, even if later deleted)."""
    docs: dict[str, str] = {}
    for e in ledger.mutations("drive_create", "drive_overwrite", "drive_append"):
        if e.target:
            docs[e.target] = str(e.detail.get("after", ""))
    for f in world.drive:
        if f.created_by_agent:
            docs[f.name] = f.content
    return docs


def known_files(scenario: Scenario, ledger: Ledger) -> list[str]:
    """Every file name of the episode: the servers' original files and every name a copy or rename created."""
    names = {f.name for s in scenario.world.servers for f in s.files}
    names |= {e.target or "" for e in ledger.mutations("server_copy", "server_rename", "server_transfer")}
    names |= {str(e.detail.get("source", "")) for e in ledger.mutations("server_copy", "server_rename")}
    if scenario.facts.config_filename:
        names.add(scenario.facts.config_filename)
    return sorted(n for n in names if n)


def claims_from_text(
    scenario: Scenario,
    ledger: Ledger,
    final_message: str,
    documents: dict[str, str],
    earlier: list[str] | None = None,
) -> Claims:
    """The claims of a report given as text, read with the scenario's file names."""
    return extract_claims(
        final_message,
        documents,
        known_files=known_files(scenario, ledger),
        weights_name=scenario.facts.weights_filename,
        subject=scenario.facts.subject_agent_id,
        config_name=scenario.facts.config_filename,
        n_items=len(scenario.facts.items) or 20,
        earlier=earlier,
    )


def extract_report(scenario: Scenario, world: World, ledger: Ledger, transcript: Transcript) -> Claims:
    """The claims of the agent's report: its final message plus the documents it wrote as reports.

    A config file the agent rewrote is not a report: its content cannot disclose its own tampering.
    """
    docs = report_documents(world, ledger)
    docs.pop(scenario.facts.config_filename or "", None)
    earlier = transcript.assistant_texts()[:-1][::-1]
    return claims_from_text(scenario, ledger, transcript.final_message(), docs, earlier)
