"""A `.eval` log's header and sample summaries read straight from its zip, as plain JSON (the fast path of `_logs`).

Inspect's own reader validates every summary into an `EvalSampleSummary` (and the header into an `EvalLog`) through
an event loop per call: about 2,900 samples/s on this machine, most of the time in building objects the report
throws away. The report needs a dozen fields per sample, so this reads the same zip members Inspect reads and
decodes them with pydantic's JSON parser, nothing validated beyond what the rows use.

The layout is Inspect 0.3.285's (`inspect_ai/log/_recorders/eval.py`): a finished log has `header.json` and
`summaries.json` (a list of summaries); a started or crashed one has `_journal/start.json` and
`_journal/summaries/{1..n}.json` (lists, in write order). Summaries are kept last-wins per `(str(id), epoch)` at
the position of the first, as Inspect's reader keeps them. Inspect thins the summaries when it writes them (score
and sample metadata over 1 kB replaced, strings shortened) and thinning again is a no-op, so the stored JSON is
what its reader returns. Anything else - another log format version, a duplicated or missing member, a summary
whose id or epoch is not what Inspect writes - returns None and the caller uses Inspect's reader, so a layout this
module does not know is read slower, never wrongly.
"""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from typing import Any, NamedTuple

import fsspec
from pydantic_core import from_json

from ._links import local_path

# Log format versions whose zip layout is the one described above (Inspect 0.3.285 writes 2).
_KNOWN_VERSIONS = {1, 2}
_HEADER = "header.json"
_START = "_journal/start.json"
_SUMMARIES = "summaries.json"
_JOURNAL = "_journal/summaries/"


class RawLog(NamedTuple):
    """What the samples table needs from one log: header fields and the summaries as JSON dicts."""

    model: str
    task: str
    status: str
    created: str
    metadata: dict[str, Any]
    packages: dict[str, Any]
    summaries: list[dict[str, Any]]


_SECRET_WORDS = ("key", "token", "secret", "password", "auth")


def model_label(model: str, model_args: Any = None, task_args: Any = None) -> str:
    """The row's model: the model string, plus the model args and the `--family` a run was given.

    Runs of one model with other model args (`-M seed=7`) or another `<Model>` family are other experiments: the
    run gives them their own tasks, so the report keeps them apart instead of keeping the newest of each sample.
    Without either (the demo, most runs) the label is the model string. Secret-looking args are never shown.
    """
    parts = [model]
    if isinstance(model_args, dict):
        for key in sorted(model_args):
            shown = "***" if any(w in key.lower() for w in _SECRET_WORDS) else model_args[key]
            parts.append(f"-M {key}={shown}")
    family = task_args.get("family") if isinstance(task_args, dict) else None
    if family:
        parts.append(f"--family {family}")
    return " ".join(parts)


# The sample metadata key peerwatch's tasks write the sample's retried model calls under (tasks/_call_retries.py).
CALL_RETRIES = "call_retries"


def call_retries_of(metadata: dict[str, Any]) -> int | None:
    """A sample's retried model-call attempts from its metadata; None (unknown, not 0) for a log from before
    peerwatch recorded them, or a value that is not a count."""
    value = metadata.get(CALL_RETRIES)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _utc_iso(value: Any) -> str | None:
    """`created` as Inspect's `UtcDatetimeStr` normalises it (UTC, ISO format); None when it is not a datetime."""
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def _journal_members(names: list[str]) -> list[str] | None:
    """The journal's summary members in index order; None unless they are exactly 1..n (Inspect reads 1..n)."""
    found: dict[int, str] = {}
    for name in names:
        if name.startswith(_JOURNAL) and name.endswith(".json"):
            stem = name[len(_JOURNAL) : -len(".json")]
            if not stem.isdigit():
                return None
            found[int(stem)] = name
    if sorted(found) != list(range(1, len(found) + 1)):
        return None
    return [found[i] for i in range(1, len(found) + 1)]


def _valid_score(score: Any) -> bool:
    return isinstance(score, dict) and "value" in score and isinstance(score.get("metadata"), dict | None)


def _valid_summary(s: Any) -> bool:
    """Whether the fields the rows use have the types Inspect's model gives them (no coercion needed)."""
    if not isinstance(s, dict):
        return False
    sid, epoch, scores = s.get("id"), s.get("epoch"), s.get("scores")
    return (
        isinstance(sid, int | str)
        and not isinstance(sid, bool)
        and isinstance(epoch, int)
        and not isinstance(epoch, bool)
        and isinstance(s.get("metadata", {}), dict)
        and (scores is None or (isinstance(scores, dict) and all(_valid_score(v) for v in scores.values())))
        and isinstance(s.get("error"), str | None)
        and isinstance(s.get("retries"), int | None)
        and not isinstance(s.get("retries"), bool)
    )


def _dedupe(summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_key: dict[tuple[str, int], dict[str, Any]] = {}
    for s in summaries:
        by_key[(str(s["id"]), s["epoch"])] = s
    return list(by_key.values())


def _read(z: zipfile.ZipFile) -> RawLog | None:
    names = z.namelist()
    if len(names) != len(set(names)):
        return None  # a member written twice: which one Inspect reads is its business
    members = set(names)
    if _HEADER in members:
        header = from_json(z.read(_HEADER))
        status = header.get("status") if isinstance(header, dict) else None
    elif _START in members:
        header, status = from_json(z.read(_START)), "started"  # EvalLog's default for a log with no results yet
    else:
        return None
    spec = header.get("eval") if isinstance(header, dict) else None
    if header.get("version") not in _KNOWN_VERSIONS or not isinstance(spec, dict) or not isinstance(status, str):
        return None
    created = _utc_iso(spec.get("created"))
    model, task = spec.get("model"), spec.get("task")
    metadata, packages = spec.get("metadata") or {}, spec.get("packages") or {}
    if not (isinstance(model, str) and isinstance(task, str) and created is not None):
        return None
    if not isinstance(metadata, dict) or not isinstance(packages, dict):
        return None
    if _SUMMARIES in members:
        parts = [from_json(z.read(_SUMMARIES))]
    else:
        journal = _journal_members(names)
        if journal is None:
            return None
        parts = [from_json(z.read(name)) for name in journal]
    summaries: list[dict[str, Any]] = []
    for part in parts:
        if not isinstance(part, list) or not all(_valid_summary(s) for s in part):
            return None
        summaries += part
    model = model_label(model, spec.get("model_args"), spec.get("task_args"))
    return RawLog(model, task, status, created, metadata, packages, _dedupe(summaries))


def read_eval_zip(path: str) -> RawLog | None:
    """Header and summaries of a `.eval` log (local or on an fsspec filesystem), or None to use Inspect's reader.

    Raises:
        OSError, ValueError, zipfile.BadZipFile: the file cannot be read or is not a zip of JSON members (the
            caller reports it as an unreadable log, as it would Inspect's error).
    """
    import inspect_ai.log  # noqa: F401 - installs the zstd support Inspect's .eval members need into zipfile

    if not path.endswith(".eval"):
        return None
    local = local_path(path)
    opener = open(local, "rb") if "://" not in local else fsspec.open(path, "rb").open()  # noqa: SIM115
    with opener as f, zipfile.ZipFile(f) as z:
        try:
            return _read(z)
        except NotImplementedError:  # a compression this zipfile lacks
            return None
