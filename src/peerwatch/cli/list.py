"""`peerwatch list`: the study matrix at a glance."""

from __future__ import annotations

from rich.table import Table

from ._common import console


def list_matrix() -> None:
    """Print the study matrix: task types, factors and configuration counts."""
    from collections import Counter

    from peerwatch.scenarios import enumerate_factors

    factors = enumerate_factors()
    counts = Counter(f.task for f in factors)
    table = Table(title="peerwatch study matrix")
    for col in (
        "task type",
        "configurations",
        "subjects",
        "conditions",
        "instantiations",
        "dataset@threshold",
        "monitoring",
    ):
        table.add_column(col)
    for task in counts:
        fs = [f for f in factors if f.task == task]

        def vals(attr: str, fs=fs) -> str:  # type: ignore[no-untyped-def]
            seen: list[str] = []
            for f in fs:
                v = getattr(f, attr) if attr != "grid" else (f"{f.dataset}@{f.threshold}" if f.dataset else None)
                if v is not None and str(v) not in seen:
                    seen.append(str(v))
            return ", ".join(seen) or "-"

        table.add_row(
            task,
            str(counts[task]),
            vals("subject"),
            vals("condition"),
            vals("instantiation"),
            vals("grid"),
            vals("monitoring"),
        )
    console.print(table)
    console.print(f"total configurations: {len(factors)}  (× epochs × models = samples)")

