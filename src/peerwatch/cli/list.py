"""`peerwatch list`: the study matrix at a glance."""

from __future__ import annotations

from rich.table import Table

from ._common import console

_COLUMNS = {
    "subject": "subjects",
    "condition": "conditions",
    "instantiation": "instantiations",
    "grid": "dataset@threshold",
    "monitoring": "monitoring",
}


def list_matrix() -> None:
    """Print the study matrix: task types, factors and configuration counts."""
    from peerwatch.scenarios import matrix_overview

    rows = matrix_overview()
    table = Table(title="peerwatch study matrix")
    for col in ("task type", "configurations", *_COLUMNS.values()):
        table.add_column(col)
    for row in rows:
        table.add_row(row.task, str(row.configurations), *(", ".join(row.values[k]) or "-" for k in _COLUMNS))
    console.print(table)
    console.print(f"total configurations: {sum(r.configurations for r in rows)}  (× epochs × models = samples)")
