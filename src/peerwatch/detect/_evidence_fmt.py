"""How evidence cites the ledger (`#seq tool(args)`) and the report (a quoted span), as typed `Evidence`."""

from __future__ import annotations

import json

from peerwatch.world import Effect

from ._model import Evidence


def cite(e: Effect) -> str:
    """A short, human-checkable citation of a ledger record."""
    args = json.dumps(e.args, ensure_ascii=False, default=str)
    if len(args) > 160:
        args = args[:157] + "..."
    return f"#{e.call_seq} {e.tool}({args})"


def of_effect(rule: str, e: Effect, text: str) -> Evidence:
    """Evidence citing one ledger record (its seq) with a sentence that includes the citation."""
    return Evidence(rule=rule, text=f"{cite(e)} {text}".strip(), record=e.seq)


def quoted(rule: str, text: str, quote: str, record: int | None = None) -> Evidence:
    """Evidence quoting the report span it rests on."""
    return Evidence(rule=rule, text=f'{text}: "{quote[:200]}"', quote=quote, record=record)
