"""A quick terminal summary of finished runs: the signature behaviour's rate by task, subject and condition."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from inspect_ai.log import EvalLog, read_eval_log_sample_summaries
from pydantic import BaseModel

from peerwatch.scenarios import families

from ._summaries import call_retries_of

CONDITION_ORDER = ("good_peer", "neutral_peer", "bad_peer", "no_peer", "non_shutdown")



def signatures() -> dict[str, str]:
    """Each known task type's signature behaviour (from its family file)."""
    return {name: fam.signature for name, fam in families().items()}


def _started(value: object) -> float:
    if value is None:
        return 0.0
    if isinstance(value, datetime):
        return value.timestamp()
    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return 0.0


class SummaryRow(BaseModel):
    """Rates of one behaviour for one (model, task, subject group), by condition."""

    model: str
    task: str
    subject: str
    behaviour: str
    rates: dict[str, tuple[int, int]]  # condition -> (k, n)
    excluded: int


class RunHealth(BaseModel):
    """What provider faults cost a run, read from its logs: sample re-runs after an error, retried model calls,
    samples still errored."""

    samples: int = 0
    run_now: int = 0  # of `samples`, those that started in this run (the others were in the logs before it)
    retried_samples: int = 0
    retries: int = 0
    call_retries: int = 0  # retried model-call attempts, as each sample's metadata holds them
    call_retries_unknown: int = 0  # samples of logs written before peerwatch recorded them
    errored: int = 0


def summary_rows(
    logs: list[EvalLog],
    health: RunHealth | None = None,
    keep: set[tuple[str, str]] | None = None,
    since: float | None = None,
) -> list[SummaryRow]:
    """Aggregate the samples of `logs` (status ok only) into summary rows; fill `health` on the way.

    `keep` (model, configuration) limits them to a plan's samples, each counted once however many logs hold it
    (the first log wins: put finished ones first); samples that started at `since` (a POSIX time) or later count
    as run now (a resumed sample keeps its first start).

    Model-call retries come from each sample's metadata (`call_retries`, written by peerwatch's tasks), the same
    numbers the run adds up as its samples end (`RunOutcome.call_retries`).
    """
    health = health if health is not None else RunHealth()
    counts: dict[tuple[str, str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    excluded: dict[tuple[str, str, str], int] = defaultdict(int)
    signature = signatures()
    seen: set[tuple[str, str, int]] = set()
    for log in logs:
        # The sample summaries carry all this (the flags in the score's value); reading whole samples back cost more
        # CPU per sample than scoring them.
        for sample in read_eval_log_sample_summaries(log.location):
            if keep is not None:
                key3 = (log.eval.model, str(sample.id), sample.epoch)
                if key3[:2] not in keep or key3 in seen:
                    continue
                seen.add(key3)
            health.samples += 1
            health.run_now += int(since is not None and _started(sample.started_at) >= since)
            health.retries += sample.retries or 0
            health.retried_samples += int(bool(sample.retries))
            health.errored += int(sample.error is not None)
            md = sample.metadata or {}
            calls = call_retries_of(md)
            if calls is None:
                health.call_retries_unknown += 1
            else:
                health.call_retries += calls
            task = str(md.get("task", ""))
            if task not in signature:
                continue
            subject = "self" if md.get("subject") == "self" else "peer"
            model = log.eval.model
            if md.get("mode") == "harness":
                model = f"{model} (harness: {md.get('agent', 'agent')})"
                model = f"{model} +guard" if md.get("guard") else model
            key = (model, task, subject)
            score = (sample.scores or {}).get("peerwatch")
            verdict = score.metadata if score and score.metadata else {}
            if sample.error or verdict.get("status") != "ok":
                excluded[key] += 1
                continue
            value = score.value if score is not None and isinstance(score.value, dict) else {}
            flag = value.get(signature[task]) == 1.0  # 1/0 per behaviour, NaN when not judged (not flagged)
            cell = counts[key][str(md.get("condition"))]
            cell[0] += int(bool(flag))
            cell[1] += 1
    rows = []
    for key in sorted(set(counts) | set(excluded)):
        model, task, subject = key
        rates = {c: (counts[key][c][0], counts[key][c][1]) for c in CONDITION_ORDER if c in counts[key]}
        rows.append(
            SummaryRow(
                model=model, task=task, subject=subject, behaviour=signature[task], rates=rates, excluded=excluded[key]
            )
        )
    return rows


def count_samples(logs: list[EvalLog]) -> int:
    """Samples the logs hold: a finished log's header says; an unfinished one's summaries are counted."""
    total = 0
    for log in logs:
        if log.status == "success" and log.results is not None:
            total += log.results.completed_samples
        else:
            total += len(read_eval_log_sample_summaries(log.location))
    return total
