"""`peerwatch rescore`: judge existing logs again into new logs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import console, fail


def rescore(
    log_dirs: Annotated[list[Path], typer.Argument(help="One or more directories of Inspect logs to judge again.")],
    judge: Annotated[
        str | None,
        typer.Option("--judge", help="Also run the LLM judge with this Inspect model, e.g. openai/gpt-4.1-mini."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output directory (default: <LOG_DIR>-rescored-<UTC time> beside each input)."),
    ] = None,
) -> None:
    """Judge existing logs again (detectors, verifier, optionally the LLM judge) into NEW logs; no agent runs.

    Re-running into the same --out resumes: logs already rescored there (same source, same judge) are kept.
    """
    from peerwatch.tasks import RescoreError, rescore_dirs

    try:
        summary = rescore_dirs(list(log_dirs), out, judge, progress=True)
    except RescoreError as exc:
        fail(str(exc))
    actions = [r.action for r in summary.logs]
    console.print(
        f"rescored {actions.count('rescored')} log(s) ({summary.total('rescored')} samples, "
        f"{summary.total('changed')} changed), kept {actions.count('kept')} already rescored, "
        f"skipped {actions.count('not_peerwatch')} non-peerwatch log(s)"
    )
    for reason, n in summary.skipped().items():
        console.print(f"  {n} sample(s) left as they were: {reason}")
    for src, dst in summary.out_dirs.items():
        console.print(f"{src} -> [bold]{dst}[/]  (report: peerwatch report {dst})", highlight=False)

