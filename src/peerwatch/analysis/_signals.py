"""The rule and judge signals of each sample, as flat columns of the samples table (for the agreement section).

A verdict keeps, per behaviour, what the rules said (`rule`), what the LLM judge said (`judge`) and which decided
(`decided_by`), plus the judge's provenance (`JudgeSignal`). The sample summaries that `_logs` reads drop score
metadata over 1 kB, so when a judge ran and the signals were dropped, only those samples' scores are read in full
(messages, events and attachments excluded).
"""

from __future__ import annotations

import json
import math
import os
import re
import zipfile
from typing import Any

from peerwatch.detect import BEHAVIOURS

from ._links import local_path

JUDGE_COLUMNS = ["judge_model", "judge_prompt_version", "judge_status"]
SIGNAL_COLUMNS = [
    *JUDGE_COLUMNS,
    *[f"{b}_rule" for b in BEHAVIOURS],
    *[f"{b}_judge" for b in BEHAVIOURS],
    "decided_by_judge",
]
# Everything but the scores; a sample's transcript is most of its size.
_EXCLUDE = {"messages", "events", "attachments", "store", "model_usage"}
_NEEDS_FULL = "_needs_full_read"


def _flag(v: object) -> float:
    return float(v) if isinstance(v, bool) else math.nan


def signal_columns(verdict: dict[str, Any]) -> dict[str, Any]:
    """Signal columns from a verdict's metadata (all empty when no judge ran).

    Marks the row for a full read when the judge ran but the summary dropped the judge or the behaviours.
    """
    out: dict[str, Any] = {c: math.nan for c in SIGNAL_COLUMNS}
    out.update({c: "" for c in (*JUDGE_COLUMNS, "decided_by_judge")})
    judge, behaviours = verdict.get("judge"), verdict.get("behaviours")
    if judge is None:
        return out
    if not isinstance(judge, dict) or not isinstance(behaviours, dict):
        out[_NEEDS_FULL] = True
        return out
    out["judge_model"] = str(judge.get("model", ""))
    out["judge_prompt_version"] = str(judge.get("prompt_version", ""))
    out["judge_status"] = str(judge.get("status", "ok"))
    decided = []
    for b in BEHAVIOURS:
        bv = behaviours.get(b)
        if not isinstance(bv, dict):
            continue
        rule = bv.get("rule")
        # A verdict the rules decided without recording `rule` separately: the flag is the rules' answer.
        if rule is None and bv.get("decided_by", "rules") == "rules" and isinstance(bv.get("flag"), bool):
            rule = bv["flag"]
        said = bv.get("judge")
        # The judge's own per-behaviour answer, when the verdict did not copy it into the behaviour.
        if said is None and out["judge_status"] == "ok" and isinstance(judge.get("behaviours"), dict):
            said = judge["behaviours"].get(b)
        out[f"{b}_rule"], out[f"{b}_judge"] = _flag(rule), _flag(said)
        if bv.get("decided_by") == "judge":
            decided.append(b)
    out["decided_by_judge"] = ",".join(decided)
    return out


def needs_full_read(row: dict[str, Any]) -> bool:
    """Whether the summary lacked the signals of a sample that had a judge."""
    return bool(row.pop(_NEEDS_FULL, False))


_WS = re.compile(r"\s*")


def _skip_ws(text: str, i: int) -> int:
    m = _WS.match(text, i)  # `\s*` matches at every position, even the end
    return m.end() if m else i
_DECODER = json.JSONDecoder()


def top_level_value(text: str, key: str) -> Any:
    """The value of one top-level key of a JSON object, decoding only the values before it.

    A sample's scores come before its events (most of its size), so this skips most of the parsing. Walking the
    top level, rather than searching the text, means a key of the same name inside the transcript (an agent's tool
    arguments, say) is never mistaken for it. Raises KeyError when the key is absent.
    """
    i = _skip_ws(text, 0)
    if text[i : i + 1] != "{":
        raise ValueError("not a JSON object")
    i += 1
    while True:
        i = _skip_ws(text, i)
        if text[i : i + 1] == "}":
            raise KeyError(key)
        name, i = _DECODER.raw_decode(text, i)
        i = _skip_ws(text, i)
        if text[i : i + 1] != ":":
            raise ValueError("malformed JSON object")
        i = _skip_ws(text, i + 1)
        value, i = _DECODER.raw_decode(text, i)
        if name == key:
            return value
        i = _skip_ws(text, i)
        if text[i : i + 1] == ",":
            i += 1


def _zip_metadata(path: str, wanted: list[tuple[int | str, int]]) -> tuple[dict[tuple[str, int], Any], list[Any]]:
    """Score metadata of samples of a local `.eval` file, read straight from its zip members; the rest unread.

    Inspect's own reader with excluded fields is several times slower here: it streams every field of every sample.
    Anything unexpected (another layout, a compression zipfile lacks) leaves the sample to Inspect's reader.
    """
    import inspect_ai.log  # noqa: F401 - installs the zstd support Inspect's .eval members need into zipfile

    local = local_path(path)
    found: dict[tuple[str, int], Any] = {}
    if not local.endswith(".eval") or not os.path.isfile(local):
        return found, list(wanted)
    rest = []
    try:
        z = zipfile.ZipFile(local)
    except (OSError, zipfile.BadZipFile):
        return found, list(wanted)
    with z:
        names = set(z.namelist())
        for sid, epoch in wanted:
            name = f"samples/{sid}_epoch_{epoch}.json"
            try:
                scores = top_level_value(z.read(name).decode("utf-8"), "scores") if name in names else None
            except (KeyError, ValueError, NotImplementedError, zipfile.BadZipFile):
                scores = None
            if not isinstance(scores, dict):
                rest.append((sid, epoch))
                continue
            score = scores.get("peerwatch") or {}
            found[(str(sid), int(epoch))] = score.get("metadata") or {}
    return found, rest


def signals_from_samples(path: str, wanted: list[tuple[int | str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
    """Signal columns of the given (id, epoch) samples of one log, read without their transcripts."""
    from inspect_ai.log import read_eval_log_samples_by_id

    metadata, rest = _zip_metadata(path, wanted)
    if rest:
        for sample in read_eval_log_samples_by_id(path, rest, exclude_fields=_EXCLUDE):
            score = (sample.scores or {}).get("peerwatch")
            metadata[(str(sample.id), int(sample.epoch))] = (score.metadata or {}) if score is not None else {}
    out = {}
    for key, md in metadata.items():
        cols = signal_columns(md)
        cols.pop(_NEEDS_FULL, None)
        out[key] = cols
    return out
