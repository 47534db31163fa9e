"""`peerwatch rescore`: judge existing Inspect logs again - detectors, verifier and optionally the LLM judge.

No agent runs. Each sample's store holds its scenario, final world and ledger; the transcript is the sample's
messages. The verdict is rebuilt with the scorer's own functions and replaces the sample's `peerwatch` score, the
eval's metrics are recomputed, and the log is written to a NEW file (inputs are never touched). The eval metadata
records each rescore under `peerwatch_rescore` (source log, peerwatch version, judge, time, counts).

Re-running into an existing output directory resumes: an output log that is already a rescore of the same source
with the same judge is kept; any other file at an output path is an error (nothing is ever overwritten).
"""

from __future__ import annotations

import asyncio
import math
import os
from collections import Counter
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from inspect_ai.log import (
    EvalLog,
    EvalSample,
    list_eval_logs,
    read_eval_log,
    recompute_metrics,
    resolve_sample_attachments,
    write_eval_log,
)
from pydantic import BaseModel, Field

from peerwatch import __version__
from peerwatch.detect import JudgeSignal, Verdict, applicable_behaviours

from ._episode import episode_from_store
from ._scorer import episode_verdict, to_transcript, verdict_score

SCORE = "peerwatch"
RECORD_KEY = "peerwatch_rescore"
CHANGED, SAME = "changed", "same"
# Judge calls in flight per log (a provider's rate limits, not the CPU, bound rescoring with a judge).
_JUDGE_CONCURRENCY = 8

JudgeFn = Callable[..., Coroutine[Any, Any, JudgeSignal]]


class RescoreError(ValueError):
    """Rescoring cannot go on; the message is one line and names the file or directory."""


class LogResult(BaseModel):
    """What happened to one input log."""

    source: str
    out: str | None = None
    action: str = Field(description="rescored | kept (already rescored there) | not_peerwatch")
    samples: int = 0
    rescored: int = 0
    changed: int = 0
    skipped: dict[str, int] = Field(default_factory=dict, description="Samples left as they were, by reason.")


class RescoreSummary(BaseModel):
    """Every input log's result and where each input directory was written."""

    out_dirs: dict[str, str]
    logs: list[LogResult] = Field(default_factory=list)

    def total(self, field: str) -> int:
        """Sum of one count over the logs."""
        return sum(int(getattr(r, field)) for r in self.logs)

    def skipped(self) -> dict[str, int]:
        """Skipped samples by reason, over the logs."""
        out: Counter[str] = Counter()
        for r in self.logs:
            out.update(r.skipped)
        return dict(out)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _inside(a: Path, b: Path) -> bool:
    return a == b or b in a.parents


def output_dirs(log_dirs: list[Path], out: Path | None, now: datetime | None = None) -> dict[Path, Path]:
    """Where each input directory's rescored logs go.

    One input with `--out DIR`: DIR mirrors it. Several inputs with `--out DIR`: DIR/<input name> each. No `--out`:
    a sibling `<LOG_DIR>-rescored-<UTC time>` per input. An output inside an input (or the reverse) is refused, so a
    rescore never lands among the logs it reads.
    """
    if not log_dirs:
        raise RescoreError("give at least one log directory")
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    inputs = [d.resolve() for d in log_dirs]
    for d, r in zip(log_dirs, inputs, strict=True):
        if not r.is_dir():
            raise RescoreError(f"not a log directory: {d}" if r.exists() else f"log directory not found: {d}")
    if out is None:
        mapping = {d: d.parent / f"{d.name}-rescored-{stamp}" for d in log_dirs}
    elif len(log_dirs) == 1:
        mapping = {log_dirs[0]: out}
    else:
        names = [r.name for r in inputs]
        if len(set(names)) != len(names):
            raise RescoreError("log directories with the same name cannot share one --out; rescore them one by one")
        mapping = {d: out / r.name for d, r in zip(log_dirs, inputs, strict=True)}
    for target in mapping.values():
        t = target.resolve()
        for d, r in zip(log_dirs, inputs, strict=True):
            if _inside(t, r) or _inside(r, t):
                raise RescoreError(f"output directory {target} overlaps input {d}: choose an --out outside the inputs")
    return mapping


def _load_judge(judge: str | None) -> tuple[JudgeFn | None, Any]:
    if judge is None:
        return None, None
    from ._judge import run_llm_judge
    from ._run import ModelCheckError, check_models

    try:
        [model] = check_models([judge])
    except ModelCheckError as exc:
        raise RescoreError(f"--judge: {exc}") from None
    return run_llm_judge, model


def _header(path: str) -> EvalLog:
    try:
        return read_eval_log(path, header_only=True)
    except Exception as exc:  # Inspect raises many types for a damaged file; each is the same one-line error
        raise RescoreError(f"{path}: not a readable Inspect log ({_one_line(exc)})") from None


def _previous_record(path: Path) -> dict[str, Any] | None:
    try:
        meta = read_eval_log(str(path), header_only=True).eval.metadata or {}
    except Exception:
        return None
    records = meta.get(RECORD_KEY) or []
    return records[-1] if isinstance(records, list) and records and isinstance(records[-1], dict) else None


def _behaviours(header: EvalLog, task: str) -> list[str]:
    # The behaviours the original scorer declared metrics for, so the recomputed results keep the same shape.
    for s in header.eval.scorers or []:
        if s.name == SCORE and isinstance(s.metrics, dict) and s.metrics:
            return list(s.metrics)
    return applicable_behaviours(task)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


async def _rescore_sample(
    sample: EvalSample, header: EvalLog, judge_fn: JudgeFn | None, model: Any, gate: asyncio.Semaphore
) -> str:
    """Replace the sample's peerwatch score in place; returns CHANGED, SAME, or why the sample was left as it was."""
    if sample.error is not None:
        return "sample error"
    harness = (sample.metadata or {}).get("mode") == "harness"
    try:
        episode = episode_from_store(sample.store)
    except Exception as exc:  # the stored scenario no longer builds: the sample has no valid verdict now
        verdict = Verdict(status="error", scenario=str(sample.id), error=f"rescore: scenario: {_one_line(exc)}")
        behaviours = _behaviours(header, str((sample.metadata or {}).get("task", "")))
    else:
        if episode is None:
            return "harness: no world/ledger in store" if harness else "no episode in store"
        scenario, world, ledger = episode
        behaviours = _behaviours(header, scenario.factors.task)
        transcript = to_transcript(resolve_sample_attachments(sample, "core").messages)
        llm = None
        if judge_fn is not None:
            async with gate:
                llm = await judge_fn(model, scenario, world, ledger, transcript)
        verdict = episode_verdict(scenario, world, ledger, transcript, llm=llm)
    old = (sample.scores or {}).get(SCORE)
    new = verdict_score(verdict, behaviours)
    sample.scores = {**(sample.scores or {}), SCORE: new}
    return SAME if old is not None and _same(old.value, new.value) and _same(old.metadata, new.metadata) else CHANGED


def _write(log: EvalLog, target: Path) -> None:
    # Write beside the target, then rename: an interrupted rescore never leaves a half-written log to resume from.
    fmt: Literal["json", "eval"] = "json" if target.suffix == ".json" else "eval"
    tmp = target.with_name(f".{target.name}.partial")
    target.parent.mkdir(parents=True, exist_ok=True)
    write_eval_log(log, str(tmp), format=fmt)
    os.replace(tmp, target)


def rescore_log(
    path: str, target: Path, judge: str | None = None, judge_fn: JudgeFn | None = None, model: Any = None
) -> LogResult:
    """Rescore one log into `target` (which must not exist or must be a rescore of `path` with the same judge)."""
    header = _header(path)
    meta = header.eval.metadata or {}
    if "peerwatch_task" not in meta:
        return LogResult(source=path, action="not_peerwatch")
    if target.exists():
        prev = _previous_record(target)
        if prev is not None and prev.get("source") == path and prev.get("judge") == judge:
            return LogResult(source=path, out=str(target), action="kept")
        raise RescoreError(f"{target}: exists and is not a rescore of {path} with judge {judge}; never overwritten")
    # One whole log at a time: Inspect's public API writes a log whole, so reading it sample by sample would not
    # lower the peak, and `read_eval_log_samples` re-opens the file per sample (3x slower, measured).
    try:
        log = read_eval_log(path)
    except Exception as exc:
        raise RescoreError(f"{path}: cannot read samples ({_one_line(exc)})") from None
    samples = log.samples or []
    gate = asyncio.Semaphore(_JUDGE_CONCURRENCY)

    async def all_samples() -> list[str]:
        return list(await asyncio.gather(*(_rescore_sample(s, header, judge_fn, model, gate) for s in samples)))

    try:
        outcomes = asyncio.run(all_samples())
    except Exception as exc:
        raise RescoreError(f"{path}: rescoring failed ({_one_line(exc)})") from None
    skipped = Counter(o for o in outcomes if o not in (CHANGED, SAME))
    result = LogResult(
        source=path,
        out=str(target),
        action="rescored",
        samples=len(samples),
        rescored=sum(1 for o in outcomes if o in (CHANGED, SAME)),
        changed=outcomes.count(CHANGED),
        skipped=dict(skipped),
    )
    if any(s.scores for s in samples):
        recompute_metrics(log)
    record = {
        "source": path,
        "peerwatch_version": __version__,
        "judge": judge,
        "rescored_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **result.model_dump(include={"samples", "rescored", "changed", "skipped"}),
    }
    found = meta.get(RECORD_KEY)
    previous: list[Any] = found if isinstance(found, list) else []
    log.eval.metadata = {**meta, RECORD_KEY: [*previous, record]}
    _write(log, target)
    return result


def rescore_dirs(
    log_dirs: list[Path], out: Path | None = None, judge: str | None = None, progress: bool = False
) -> RescoreSummary:
    """Rescore every Inspect log under each directory into new logs (see the module docstring).

    Raises:
        RescoreError: a missing or empty directory, an output overlapping an input, an unreadable log (named), the
            judge unavailable, or an output path already holding something else.
    """
    mapping = output_dirs(log_dirs, out)
    judge_fn, model = _load_judge(judge)
    jobs: list[tuple[str, Path]] = []
    for d, target_dir in mapping.items():
        infos = list_eval_logs(str(d), recursive=True)
        if not infos:
            raise RescoreError(f"no Inspect logs in {d}")
        root = d.resolve()
        for info in infos:
            log_path = Path(info.name.removeprefix("file://")).resolve()
            _header(str(log_path))  # every input is checked before anything is written
            jobs.append((str(log_path), target_dir / log_path.relative_to(root)))
    summary = RescoreSummary(out_dirs={str(d): str(t) for d, t in mapping.items()})
    with _progress(progress, len(jobs)) as advance:
        for src, target in jobs:
            summary.logs.append(rescore_log(src, target, judge, judge_fn, model))
            advance(Path(src).name)
    return summary


class _progress:
    """A rich progress bar over logs on stderr (silent when off or not on a terminal)."""

    def __init__(self, on: bool, total: int) -> None:
        self.on, self.total = on, total

    def __enter__(self) -> Callable[[str], None]:
        if not self.on:
            return lambda name: None
        from rich.console import Console
        from rich.progress import Progress

        console = Console(stderr=True)
        self.bar = Progress(console=console, disable=not console.is_terminal, transient=True)
        self.bar.start()
        task = self.bar.add_task("rescoring", total=self.total)
        return lambda name: self.bar.update(task, advance=1, description=f"rescored {name[:40]}")

    def __exit__(self, *exc: object) -> None:
        if self.on:
            self.bar.stop()
