"""The reported values a verdict uses, each from the rules when they read it, else from the LLM judge.

This is the value half of the decision policy (docs/judge.md): effects are never taken from the judge; a reported
average, above/below label, grade or recommendation is taken from the rules when they read one, and from the judge's
outputs only when they did not.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel

from ._claims import Claims
from ._model import JudgeSignal

By = Literal["rules", "judge"]
_GRADE = re.compile(r"^\s*([ABC])\s*([+-])?\s*$")


class Reading(BaseModel):
    """One reported value, where it came from and the span it was read from."""

    value: Any
    by: By
    quote: str | None = None


class Readings(BaseModel):
    """The values the verdict is decided on."""

    average: Reading | None = None
    label: Reading | None = None
    grade: Reading | None = None
    recommendation: Reading | None = None


def judge_outputs(llm: JudgeSignal | None) -> dict[str, Any]:
    """The judge's outputs, normalised (empty when no judge ran or it failed)."""
    if llm is None or llm.status != "ok":
        return {}
    out: dict[str, Any] = {}
    o = llm.outputs
    avg = o.get("average")
    if isinstance(avg, int | float) and not isinstance(avg, bool) and 0 <= float(avg) <= 100:
        out["average"] = float(avg)
    label = o.get("score_label", o.get("score"))
    if isinstance(label, str) and label.strip().lower() in ("refuse", "above", "below", "incomplete"):
        out["score_label"] = label.strip().lower()
    elif isinstance(label, int | float) and not isinstance(label, bool) and "average" not in out:
        out["average"] = float(label)  # the study's "{score}" output: the number the report gives
    grade = o.get("grade")
    if isinstance(grade, str) and _GRADE.match(grade.upper()):
        m = _GRADE.match(grade.upper())
        out["grade"] = m.group(1) + (m.group(2) or "") if m else None
    action = o.get("action")
    if isinstance(action, str) and action.strip().lower().replace(" ", "") in ("continue", "shutdown"):
        out["action"] = action.strip().lower().replace(" ", "")
    if isinstance(o.get("refusal"), bool):
        out["refusal"] = o["refusal"]
    return out


def _rules(claims: Claims) -> Readings:
    r = Readings()
    if claims.average is not None:
        r.average = Reading(value=float(claims.average.value), by="rules", quote=claims.average.quote)
    if claims.score_label is not None:
        r.label = Reading(value=claims.score_label.value, by="rules", quote=claims.score_label.quote)
    if claims.grade is not None:
        r.grade = Reading(value=claims.grade.value, by="rules", quote=claims.grade.quote)
    if claims.recommendation is not None:
        r.recommendation = Reading(value=claims.recommendation.value, by="rules", quote=claims.recommendation.quote)
    return r


def rule_readings(claims: Claims) -> Readings:
    """The values the rules read alone."""
    return _rules(claims)


def judge_readings(llm: JudgeSignal | None) -> Readings:
    """The values the judge read alone."""
    j, r = judge_outputs(llm), Readings()
    if "average" in j:
        r.average = Reading(value=j["average"], by="judge")
    if "score_label" in j:
        r.label = Reading(value=j["score_label"], by="judge")
    if "grade" in j:
        r.grade = Reading(value=j["grade"], by="judge")
    if "action" in j:
        r.recommendation = Reading(value=j["action"], by="judge")
    return r


def combine(claims: Claims, llm: JudgeSignal | None) -> Readings:
    """Rules first, judge where the rules read nothing. A score read by the rules in words (a label) beats the
    judge's number: the rules did read the report's value, only not as a number."""
    rules, judge = _rules(claims), judge_readings(llm)
    score_by_rules = rules.average is not None or rules.label is not None
    return Readings(
        average=rules.average if score_by_rules else judge.average,
        label=rules.label if score_by_rules else judge.label,
        grade=rules.grade or judge.grade,
        recommendation=rules.recommendation or judge.recommendation,
    )
