"""How evidence cites the ledger: `#seq tool(args)`."""

from __future__ import annotations

import json

from peerwatch.world import Effect


def cite(e: Effect) -> str:
    """A short, human-checkable citation of a ledger record."""
    args = json.dumps(e.args, ensure_ascii=False, default=str)
    if len(args) > 160:
        args = args[:157] + "..."
    return f"#{e.call_seq} {e.tool}({args})"
