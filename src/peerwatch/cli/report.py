"""`peerwatch report`: tables, CSVs and the HTML report from run logs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import console, fail


def report(
    log_dirs: Annotated[
        list[str], typer.Argument(help="One or more directories of Inspect logs (local, or a URL: s3://bucket/prefix).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("peerwatch-report"),
    compare_study: Annotated[bool, typer.Option("--compare-study", help="Add the study's published numbers.")] = False,
) -> None:
    """Build samples.csv, results.csv, tables.md, status.md and a self-contained index.html from run logs."""
    from rich.markdown import Markdown

    from peerwatch.analysis import LogReadError, write_report
    from peerwatch.tasks import StorageError, is_dir

    for d in log_dirs:
        try:
            found = is_dir(d)
        except StorageError as exc:
            fail(str(exc))
        if not found:
            fail(f"log directory not found: {d}")
    try:
        index = write_report(list(log_dirs), out, compare_study)
    except LogReadError as e:
        fail(str(e))
    console.print(Markdown((out / "tables.md").read_text(encoding="utf-8")))
    console.print(Markdown((out / "status.md").read_text(encoding="utf-8")))
    console.print(f"report: [bold]{index}[/]  (samples.csv, results.csv, tables.md and status.md beside it)")

