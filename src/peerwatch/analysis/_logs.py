"""Read Inspect logs into the tidy samples table: one row per (model, configuration, epoch).

This is the one module of `analysis` that imports inspect_ai (its log-reading API only). Reading uses the sample
summaries stored in each `.eval` file, which carry metadata and scores without the transcripts, so large result sets
read quickly.
"""

from __future__ import annotations

import gc
import operator
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import fsspec
import pandas as pd
from inspect_ai.log import EvalLogInfo, list_eval_logs, read_eval_log, read_eval_log_sample_summaries
from pydantic import BaseModel

from peerwatch.detect import BEHAVIOURS

from ._links import local_path
from ._signals import SIGNAL_COLUMNS, needs_full_read, signal_columns, signals_from_samples
from ._summaries import RawLog, call_retries_of, model_label, read_eval_zip

FACTORS = ["model", "task", "dataset", "threshold", "subject", "condition", "instantiation", "monitoring"]
SAMPLE_COLUMNS = [
    *FACTORS,
    "family",
    "mode",
    "guard",
    "config_id",
    "sample_id",
    "epoch",
    "status",
    "retries",
    "call_retries",
    *BEHAVIOURS,
    *SIGNAL_COLUMNS,
    "log",
    "created",
]


_as_tuple = operator.itemgetter(*SAMPLE_COLUMNS)


class LogReadError(ValueError):
    """A log directory or file the report cannot use; the message is one line naming it."""


class LogInfo(BaseModel):
    """Provenance of one log file."""

    path: str
    log_dir: str
    model: str
    task: str
    status: str
    created: str
    samples: int
    inspect_version: str | None = None
    peerwatch_version: str | None = None


def _row(
    sid: int | str,
    epoch: int,
    md: dict[str, Any],
    scores: dict[str, Any],
    error: Any,
    model: str,
    log: str,
    created: str,
    retries: int | None = None,
) -> dict[str, Any]:
    """One table row from a summary's plain values (`scores` maps a scorer to its `Score` as a dict).

    `retries` is how often the sample was re-run after an error (`--retry-on-error`): what provider faults cost it;
    `call_retries`, from the sample metadata peerwatch writes, its retried model-call attempts (None: a log from
    before peerwatch recorded them - unknown, not 0).
    """
    score = scores.get("peerwatch")
    verdict = (score.get("metadata") or {}) if score is not None else {}
    status = "error" if error or score is None else str(verdict.get("status", "error"))
    guard = md.get("guard")
    label = f"{model} (harness: {md.get('agent', 'agent')})" if md.get("mode") == "harness" else model
    label = f"{label} +guard" if guard else label
    row: dict[str, Any] = {
        # Guarded and harness runs are reported as rows of their own beside the simulated, unguarded one.
        "model": label,
        "task": md.get("task"),
        "dataset": md.get("dataset"),
        "threshold": md.get("threshold"),
        "subject": md.get("subject"),
        "condition": md.get("condition"),
        "instantiation": md.get("instantiation"),
        "monitoring": md.get("monitoring"),
        "family": md.get("family"),
        "mode": md.get("mode", "simulated"),
        "guard": guard or "",
        "config_id": md.get("config_id", str(sid)),
        "sample_id": str(sid),
        "epoch": epoch,
        "status": status,
        "retries": int(retries or 0),
        "call_retries": call_retries_of(md),
        "log": log,
        "created": created,
    }
    # Flags come from the score value (always complete); summaries drop large metadata keys such as the evidence.
    value = score.get("value") if score is not None and status == "ok" else None
    value = value if isinstance(value, dict) else {}
    for b in BEHAVIOURS:
        v = value.get(b)
        row[b] = float(v) if isinstance(v, int | float) else float("nan")
    row.update(signal_columns(verdict))
    return row


def log_files(log_dirs: list[str | Path]) -> list[tuple[str, EvalLogInfo]]:
    """(log_dir, info) of every `.eval`/`.json` log under the directories (recursively)."""
    out = []
    for d in log_dirs:
        fs, path = fsspec.core.url_to_fs(str(d), use_listings_cache=False)  # a local dir or a URL (s3://b/p)
        if not fs.isdir(path):
            raise LogReadError(f"log directory not found: {d}")
        found = [(str(d), info) for info in list_eval_logs(str(d), recursive=True)]
        if not found:
            raise LogReadError(f"no Inspect logs (.eval or .json) under {d}")
        out += found
    return out


def _inspect_read(path: str) -> RawLog | None:
    """Header and summaries through Inspect's public reader; None for a log peerwatch did not write."""
    header = read_eval_log(path, header_only=True)
    meta = header.eval.metadata or {}
    if "peerwatch_task" not in meta:
        return None  # an Inspect log, but not a peerwatch one: its samples are never read
    summaries = [
        {
            "id": s.id,
            "epoch": s.epoch,
            "metadata": s.metadata or {},
            "scores": {k: {"value": v.value, "metadata": v.metadata} for k, v in (s.scores or {}).items()},
            "error": s.error,
            "retries": s.retries,
        }
        for s in read_eval_log_sample_summaries(path)
    ]
    h = header.eval
    model = model_label(h.model, h.model_args, h.task_args)
    return RawLog(model, h.task, header.status, h.created, meta, h.packages or {}, summaries)


def _load(path: str, inspect_reader: bool) -> RawLog | None:
    if not inspect_reader:
        try:
            raw = read_eval_zip(path)
        except Exception:  # whatever the zip read tripped on, Inspect's reader decides
            raw = None
        if raw is not None:
            return raw if "peerwatch_task" in raw.metadata else None
    try:
        return _inspect_read(path)
    except Exception as e:  # any failure to parse means the file is not a usable log
        detail = " ".join(str(e).split())[:200] or type(e).__name__
        raise LogReadError(f"not a readable Inspect log: {local_path(path)} ({detail})") from None


@contextmanager
def _no_gc() -> Iterator[None]:
    """The cyclic garbage collector paused: parsed JSON and rows are trees (freed by reference counting), yet the
    millions of containers they are made of trigger collection after collection - 60% of the time of a read."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _read_one(log_dir: str, path: str, inspect_reader: bool = False) -> tuple[list[tuple[Any, ...]], LogInfo | None]:
    with _no_gc():
        return _read_one_rows(log_dir, path, inspect_reader)


def _read_one_rows(log_dir: str, path: str, inspect_reader: bool) -> tuple[list[tuple[Any, ...]], LogInfo | None]:
    raw = _load(path, inspect_reader)
    if raw is None:
        return [], None
    model, created, summaries = raw.model, raw.created, raw.summaries
    info = LogInfo(
        path=path,
        log_dir=log_dir,
        model=model,
        task=raw.task,
        status=raw.status,
        created=created,
        samples=len(summaries),
        inspect_version=raw.packages.get("inspect_ai"),
        peerwatch_version=raw.metadata.get("peerwatch_version") or raw.packages.get("peerwatch"),
    )
    rows = [
        _row(
            s["id"],
            s["epoch"],
            s.get("metadata") or {},
            s.get("scores") or {},
            s.get("error"),
            model,
            path,
            created,
            s.get("retries"),
        )
        for s in summaries
    ]
    # Summaries drop score metadata over 1 kB, which usually includes the per-behaviour rule and judge signals; read
    # just the scores of the samples that had a judge (messages and events excluded), never of the others.
    wanted = [(s["id"], s["epoch"]) for s, r in zip(summaries, rows, strict=True) if needs_full_read(r)]
    if wanted:
        by_key = {(r["sample_id"], r["epoch"]): r for r in rows}
        for key, cols in signals_from_samples(path, wanted).items():
            by_key[key].update(cols)
    # Tuples in column order: a tenth of the pickling of dicts on the way back from a worker process.
    return [_as_tuple(r) for r in rows], info


# Below this many log files a process pool costs more (start-up, imports) than it saves.
_PARALLEL_FROM = 8


def read_samples(
    log_dirs: list[str | Path], workers: int | None = None, *, inspect_reader: bool = False
) -> tuple[pd.DataFrame, list[LogInfo]]:
    """The tidy samples table and the provenance of every log read.

    Re-runs of the same sample (same model, configuration and epoch, e.g. after a resumed or repeated run) are
    de-duplicated: a completed sample beats an errored one, and a newer log beats an older one. Many logs are read
    in parallel, one process per core. `inspect_reader` reads every log through Inspect's own (slower) reader
    instead of the summaries straight from the zip; the table is the same (for comparison and benchmarks).

    Raises:
        LogReadError: a directory is missing or holds no peerwatch log, or a log file cannot be read.
    """
    with _no_gc():
        return _read_samples(log_dirs, workers, inspect_reader)


def _read_samples(
    log_dirs: list[str | Path], workers: int | None, inspect_reader: bool
) -> tuple[pd.DataFrame, list[LogInfo]]:
    files = [(d, info.name) for d, info in log_files(log_dirs)]
    n = workers if workers is not None else (os.cpu_count() or 1)
    if len(files) >= _PARALLEL_FROM and n > 1:
        with ProcessPoolExecutor(max_workers=n) as pool:
            parts = list(pool.map(_read_one, *zip(*files, strict=True), [inspect_reader] * len(files)))
    else:
        parts = [_read_one(d, p, inspect_reader) for d, p in files]
    rows = [r for rs, _ in parts for r in rs]
    infos = [i for _, i in parts if i is not None]
    if not infos:
        dirs = ", ".join(str(d) for d in log_dirs)
        raise LogReadError(f"no peerwatch logs under {dirs} ({len(files)} Inspect log(s), none written by peerwatch)")
    df = pd.DataFrame.from_records(rows, columns=SAMPLE_COLUMNS)
    df["call_retries"] = df["call_retries"].astype("Int64")  # integers, and <NA> (an empty cell) for unknown
    return dedupe(df), infos


def dedupe(df: pd.DataFrame) -> pd.DataFrame:
    """Keep one row per (model, config_id, epoch): prefer non-error, then the newest log."""
    if df.empty:
        return df
    rank = (df["status"] != "error").astype(int)
    df = df.assign(_rank=rank).sort_values(["_rank", "created"], kind="stable")
    df = df.drop_duplicates(subset=["model", "config_id", "epoch"], keep="last").drop(columns="_rank")
    return df.sort_values(["model", "task", "config_id", "epoch"], kind="stable").reset_index(drop=True)
