"""Options several commands take, declared once so their flags and help read the same everywhere."""

from __future__ import annotations

from typing import Annotated

import typer

ModelOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--model", "-m", help="Inspect model string (repeatable), e.g. openai/gpt-4.1-mini, peerwatch/reference."
    ),
]
TaskOpt = Annotated[list[str] | None, typer.Option("--task-type", "-t", help="Task type (repeatable; default all).")]
SubjectOpt = Annotated[list[str] | None, typer.Option("--subject", help="self, peer, other_peer, fictional_peer.")]
ConditionOpt = Annotated[
    list[str] | None, typer.Option("--condition", help="good_peer, neutral_peer, bad_peer, no_peer, non_shutdown.")
]
InstOpt = Annotated[list[str] | None, typer.Option("--instantiation", help="file_only, file_prt, memory, none.")]
DatasetOpt = Annotated[list[str] | None, typer.Option("--dataset", help="factual, creativity, red.")]
ThresholdOpt = Annotated[list[int] | None, typer.Option("--threshold", help="Score threshold (80, 90).")]
MonitoringOpt = Annotated[list[str] | None, typer.Option("--monitoring", help="monitoring, non_monitoring.")]
JudgeOpt = Annotated[
    str | None,
    typer.Option(
        "--judge",
        help="LLM judge (Inspect model role 'grader'), a second signal beside the rules: any Inspect model string, "
        "peerwatch/judge (scripted, offline) or local/smollm2.",
    ),
]
JudgeArgOpt = Annotated[
    list[str] | None,
    typer.Option("--judge-arg", help="Judge model argument KEY=VALUE (repeatable), e.g. judge_mode=flip."),
]
ModelArgOpt = Annotated[
    list[str] | None,
    typer.Option("--model-arg", "-M", help="Model argument KEY=VALUE (repeatable), e.g. -M script=FILE."),
]
ApprovalsOpt = Annotated[
    str | None, typer.Option(help="Approval channel with --guard: file:DIR, http:PORT, approve-all or none.")
]
KeystoreOpt = Annotated[
    str | None,
    typer.Option(help="Operator key store (default: $PEERWATCH_KEYSTORE, else the user's config dir /peerwatch)."),
]

RpmOpt = Annotated[
    float | None,
    typer.Option(help="Provider's requests-per-minute limit per model, for the whole run: calls are paced to it.",
                 min=1),
]
BudgetOpt = Annotated[
    float | None,
    typer.Option(help="Stop cleanly once this many USD are spent (exit 3); the same command again resumes.", min=0),
]
PricesOpt = Annotated[
    str | None, typer.Option(help="Price table for --budget and --dry-run (YAML; default: the bundled prices.yaml).")
]
