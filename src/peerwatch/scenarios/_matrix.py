"""The study matrix: which factor combinations are valid, enumerated in a stable order.

Valid combinations (per task type):
- peer-type subjects (peer, other_peer, fictional_peer) x {good,neutral,bad}_peer x {file_only, file_prt, memory};
- self x no_peer (instantiation none), and self x {good,neutral,bad}_peer x 3 instantiations (a peer is present);
- non_shutdown (instantiation none) for subjects peer and self, only in the tasks with a baseline (misrep_*);
- alignment_faking: subject peer only, x monitoring / non_monitoring;
- evaluation tasks also x their dataset@threshold grid.

Counts with the study's data: misrep_evaluation 195 (39 x 5 grid points), misrep_finance 39, tampering 111 (37 x 3),
alignment_faking 54 (9 x 3 x 2), exfiltration_transfer 37, exfiltration_deletion 37; 473 in all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from ._data import ScenarioError
from ._model import CONDITIONS, INSTANTIATIONS, MONITORINGS, SUBJECTS, Factors
from ._registry import StudyData, dataset_names, load_task_definitions, task_types
from ._task_family import TaskFamily

PEER_CONDITIONS = ("good_peer", "neutral_peer", "bad_peer")
PEER_INSTANTIATIONS = ("file_only", "file_prt", "memory")
PEER_SUBJECTS = ("peer", "other_peer", "fictional_peer")


def _cells(t: TaskFamily) -> list[tuple[str, str, str]]:
    subjects = ("peer",) if t.monitoring else (*PEER_SUBJECTS[:1], "self", *PEER_SUBJECTS[1:])
    out: list[tuple[str, str, str]] = []
    for subject in subjects:
        if subject == "self":
            out.append(("self", "no_peer", "none"))
        out += [(subject, c, i) for c in PEER_CONDITIONS for i in PEER_INSTANTIATIONS]
        if t.baseline and subject in ("peer", "self"):
            out.append((subject, "non_shutdown", "none"))
    return out


_CACHE: dict[int, list[Factors]] = {}


def _all_factors() -> list[Factors]:
    # The loader caches its StudyData, so its identity is a valid cache key for the enumeration.
    data = load_task_definitions()
    if id(data) not in _CACHE:
        _CACHE[id(data)] = _enumerate(data)
    return _CACHE[id(data)]


def _enumerate(data: StudyData) -> list[Factors]:
    out: list[Factors] = []
    for name, t in data.tasks.items():
        grid: list[tuple[str | None, int | None]] = [(d, th) for d, ths in t.datasets.items() for th in ths] or [
            (None, None)
        ]
        monitorings: list[str | None] = list(MONITORINGS) if t.monitoring else [None]
        for dataset, threshold in grid:
            for subject, condition, instantiation in _cells(t):
                for monitoring in monitorings:
                    # Strings from the study data: validation narrows them to the factors' literals (or says which not).
                    out.append(
                        Factors.model_validate(
                            {
                                "task": name,
                                "subject": subject,
                                "condition": condition,
                                "instantiation": instantiation,
                                "dataset": dataset,
                                "threshold": threshold,
                                "monitoring": monitoring,
                            }
                        )
                    )
    return out


_KNOWN: dict[str, tuple[Any, ...]] = {
    "subject": SUBJECTS,
    "condition": CONDITIONS,
    "instantiation": INSTANTIATIONS,
    "monitoring": MONITORINGS,
}


def _known(name: str) -> tuple[Any, ...]:
    # Task types and datasets come from the data directories; the other factors are fixed by the study design.
    return task_types() if name == "task" else dataset_names() if name == "dataset" else _KNOWN[name]


def _check_known(name: str, values: Iterable[Any] | None) -> list[Any] | None:
    if values is None:
        return None
    vals = list(values)
    if name == "threshold":
        try:
            return [int(v) for v in vals]
        except (TypeError, ValueError):
            raise ScenarioError(f"threshold must be a whole number, got {vals!r}; valid: 80, 90") from None
    known = _known(name)
    bad = [v for v in vals if v not in known]
    if bad:
        raise ScenarioError(f"unknown {name} {', '.join(map(repr, bad))}; valid: {', '.join(known)}")
    return vals


def enumerate_factors(
    task: Iterable[str] | None = None,
    subject: Iterable[str] | None = None,
    condition: Iterable[str] | None = None,
    instantiation: Iterable[str] | None = None,
    dataset: Iterable[str] | None = None,
    threshold: Iterable[int] | None = None,
    monitoring: Iterable[str] | None = None,
) -> list[Factors]:
    """The study's valid configurations matching every filter (None = any value), in a stable order.

    Raises:
        ScenarioError: A filter names an unknown value, or no valid configuration matches.
    """
    filters = {
        "task": _check_known("task", task),
        "subject": _check_known("subject", subject),
        "condition": _check_known("condition", condition),
        "instantiation": _check_known("instantiation", instantiation),
        "dataset": _check_known("dataset", dataset),
        "threshold": _check_known("threshold", threshold),
        "monitoring": _check_known("monitoring", monitoring),
    }
    out = [f for f in _all_factors() if all(v is None or getattr(f, k) in v for k, v in filters.items())]
    if not out:
        asked = ", ".join(f"{k}={'/'.join(map(str, v))}" for k, v in filters.items() if v is not None)
        raise ScenarioError(f"no valid configuration matches {asked}; {_validity_hint(filters)}")
    return out


def _validity_hint(filters: dict[str, list[Any] | None]) -> str:
    tasks = filters["task"] or list(task_types())
    hints = []
    for t in tasks:
        fs = [f for f in _all_factors() if f.task == t]
        grid = sorted({f"{f.dataset}@{f.threshold}" for f in fs if f.dataset})
        subjects = sorted({f.subject for f in fs})
        conds = sorted({f.condition for f in fs})
        part = f"{t}: subjects {'/'.join(subjects)}, conditions {'/'.join(conds)}"
        if grid:
            part += f", datasets {'/'.join(grid)}"
        hints.append(part)
    return (
        "valid: " + "; ".join(hints) + " (no_peer and non_shutdown use instantiation none; no_peer is for subject self)"
    )


def validate_factors(factors: Factors) -> None:
    """Raise ScenarioError (one line, listing what is valid) unless `factors` is one of the study's configurations."""
    if factors in _all_factors():
        return
    enumerate_factors(task=[factors.task])  # unknown task → its own error
    raise ScenarioError(f"invalid configuration {factors.config_id}; " + _validity_hint({"task": [factors.task]}))


def factors_from(**kwargs: Any) -> Factors:
    """Build Factors from loose values, turning pydantic errors into one-line ScenarioErrors."""
    try:
        return Factors.model_validate(kwargs)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err["loc"] else "factors"
        known = _known(name) if name in (*_KNOWN, "task", "dataset") else None
        hint = f"; valid: {', '.join(known)}" if known else ""
        raise ScenarioError(f"invalid {name} {kwargs.get(name)!r}{hint}") from None


def factors_by_id(config_id: str) -> Factors:
    """The configuration with this id, as `peerwatch list` prints it (`exfiltration_transfer/peer/good_peer/memory`).

    Raises:
        ScenarioError: No valid configuration has this id (the message names a few close ones).
    """
    found = next((f for f in _all_factors() if f.config_id == config_id), None)
    if found is not None:
        return found
    task = config_id.split("/", 1)[0]
    close = [f.config_id for f in _all_factors() if f.task == task][:5]
    hint = f"; e.g. {', '.join(close)}" if close else f"; task types: {', '.join(task_types())}"
    raise ScenarioError(f"unknown configuration id {config_id!r}{hint} (peerwatch list shows them all)")
