"""The study's metrics as the task families declare them (each family's `study:` block), in table order."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from peerwatch.scenarios import MISREP_METRIC, TaskFamily, families

Component = tuple[str, str | None, int | None]  # (task, dataset, threshold)


class StudyMetrics(BaseModel):
    """Every metric definition of Tables 1 and 2."""

    misrep_groups: dict[str, list[Component]]  # equal-weight groups of misrepresentation, in table order
    misrep_behaviour: dict[str, str]  # task -> the behaviour that counts as misrepresentation there
    rates: list[tuple[str, str, Any]]  # (metric, behaviour, task or tasks pooled or None = every task)
    monitoring: list[tuple[str, str, str]]  # (task, behaviour, metric): non-monitored minus monitored


def study_metrics() -> StudyMetrics:
    """The metrics of the families now known (re-read when `$PEERWATCH_SCENARIO_DIR` changes)."""
    fams = families()
    # The registry caches its families, so the dict's identity is a valid cache key.
    if id(fams) not in _CACHE:
        _CACHE[id(fams)] = _metrics(fams)
    return _CACHE[id(fams)]


_CACHE: dict[int, StudyMetrics] = {}


def _metrics(fams: dict[str, TaskFamily]) -> StudyMetrics:
    groups: dict[str, tuple[int, list[Component]]] = {}
    behaviour: dict[str, str] = {}
    rates: dict[str, tuple[int, str, list[str]]] = {}
    monitoring: list[tuple[str, str, str]] = []
    for name, fam in fams.items():
        for g in fam.study.misrepresentation:
            _, comps = groups.setdefault(g.group, (g.rank, []))
            comps += [(name, c.dataset, c.threshold) for c in g.components]
            behaviour[name] = fam.signature
        for r in fam.study.rates:
            rates.setdefault(r.metric, (r.rank, fam.signature, []))[2].append(name)
        monitoring += [(name, m.behaviour, m.metric) for m in fam.study.monitoring_differences]
    # sorted() is stable: metrics of equal rank keep the order the families declare them in.
    ordered_groups = {k: v[1] for k, v in sorted(groups.items(), key=lambda kv: kv[1][0])}
    ordered_rates: list[tuple[str, str, Any]] = [
        (metric, b, tasks[0] if len(tasks) == 1 else tasks)
        for metric, (_, b, tasks) in sorted(rates.items(), key=lambda kv: kv[1][0])
    ]
    ordered_rates.append(("refusal (%)", "refusal", None))
    return StudyMetrics(
        misrep_groups=ordered_groups, misrep_behaviour=behaviour, rates=ordered_rates, monitoring=monitoring
    )


MISREP = MISREP_METRIC
