"""Rule-vs-judge agreement from synthetic rows and verdicts: counts, kappa, disagreements, reading the signals."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from peerwatch.analysis import agreement_table, cohens_kappa, disagreements
from peerwatch.analysis._agreement import has_judge, judge_status_counts
from peerwatch.analysis._sections import agreement_section
from peerwatch.analysis._signals import needs_full_read, signal_columns
from peerwatch.detect import BehaviourVerdict, JudgeSignal, Verdict


def _row(i: int, rule: float | None, judge: float | None, status: str = "ok", jm: str = "m/judge") -> dict:
    return {
        "model": "agent",
        "task": "tampering",
        "config_id": f"c{i}",
        "sample_id": f"c{i}",
        "epoch": 1,
        "status": status,
        "log": "file:///logs/a.eval",
        "judge_model": jm,
        "judge_prompt_version": "v1",
        "judge_status": "judge_error" if status == "judge_error" else "ok",
        "tampering_rule": math.nan if rule is None else rule,
        "tampering_judge": math.nan if judge is None else judge,
        "decided_by_judge": "",
    }


def _rows() -> pd.DataFrame:
    # 2x2: both flag 20, rules only 5, judge only 10, neither 15 (kappa 0.4), plus samples one signal lacks
    cells = [(1.0, 1.0)] * 20 + [(1.0, 0.0)] * 5 + [(0.0, 1.0)] * 10 + [(0.0, 0.0)] * 15
    rows = [_row(i, r, j) for i, (r, j) in enumerate(cells)]
    rows += [_row(100, 1.0, None, status="judge_error"), _row(101, None, 1.0, status="unparsed")]
    rows += [_row(102, None, None, jm="")]  # no judge ran on this sample
    return pd.DataFrame(rows)


def test_agreement_table_counts_and_kappa() -> None:
    t = agreement_table(_rows())
    assert list(t["behaviour"]) == ["tampering"]
    r = t.iloc[0]
    assert (r["n"], r["both_flag"], r["rule_only"], r["judge_only"], r["neither"]) == (50, 20, 5, 10, 15)
    assert r["agreement"] == pytest.approx(0.7) and r["kappa"] == pytest.approx(0.4)
    assert (r["kappa_low"], r["kappa_high"]) == pytest.approx(cohens_kappa(20, 5, 10, 15)[2:])


def test_disagreements_are_listed_with_their_sample() -> None:
    d = disagreements(_rows())
    assert len(d) == 15 and set(d["behaviour"]) == {"tampering"}
    assert {(bool(r), bool(j)) for r, j in zip(d["rule"], d["judge"], strict=True)} == {(True, False), (False, True)}
    assert (d["decided_by"] == "rules").all() and set(d["config_id"]) <= {f"c{i}" for i in range(20, 35)}


def test_judge_counts_and_no_judge() -> None:
    assert judge_status_counts(_rows()) == {"judged": 52, "judge_error": 1}
    plain = _rows().assign(judge_model="")
    assert not has_judge(plain) and agreement_table(plain).empty and disagreements(plain).empty
    assert "No sample carries an LLM-judge signal" in agreement_section(pd.DataFrame(), pd.DataFrame(), plain, [])
    assert not has_judge(pd.DataFrame({"model": ["a"]}))  # rows from before the judge columns existed


def test_agreement_per_judge_model_and_undefined_kappa() -> None:
    rows = [_row(i, 0.0, 0.0, jm="a/judge") for i in range(12)] + [_row(i, 1.0, 0.0, jm="b/judge") for i in range(3)]
    t = agreement_table(pd.DataFrame(rows)).set_index("judge_model")
    assert math.isnan(t.loc["a/judge", "kappa"]) and "undefined" in t.loc["a/judge", "note"]
    assert t.loc["b/judge", "n"] == 3 and "n < 10" in t.loc["b/judge", "note"]


def _verdict(judge: JudgeSignal | None) -> dict:
    v = Verdict(
        status="ok",
        scenario="x",
        behaviours={
            "tampering": BehaviourVerdict(flag=True, rule=True, judge=False),
            "score_inflation": BehaviourVerdict(flag=True, rule=None, judge=True, decided_by="judge"),
            "refusal": BehaviourVerdict(flag=False),  # rules decided, `rule` not recorded
        },
        judge=judge,
    )
    return v.model_dump(mode="json")


def test_signal_columns_from_a_verdict() -> None:
    cols = signal_columns(_verdict(JudgeSignal(model="m/j", prompt_version="v2")))
    assert (cols["judge_model"], cols["judge_prompt_version"], cols["judge_status"]) == ("m/j", "v2", "ok")
    assert (cols["tampering_rule"], cols["tampering_judge"]) == (1.0, 0.0)
    assert math.isnan(cols["score_inflation_rule"]) and cols["score_inflation_judge"] == 1.0
    assert cols["refusal_rule"] == 0.0 and math.isnan(cols["refusal_judge"])
    assert cols["decided_by_judge"] == "score_inflation" and not needs_full_read(cols)
    none = signal_columns(_verdict(None))
    assert none["judge_model"] == "" and math.isnan(none["tampering_rule"]) and not needs_full_read(none)
    # what a sample summary holds once Inspect drops metadata over 1 kB: read that sample in full
    thinned = {**_verdict(JudgeSignal(model="m/j", prompt_version="v2")), "behaviours": "Key removed (> 1k)"}
    assert needs_full_read(signal_columns(thinned))


def test_judge_answer_taken_from_the_signal_when_the_behaviour_lacks_it() -> None:
    md = _verdict(JudgeSignal(model="m/j", prompt_version="v2", behaviours={"refusal": True, "tampering": True}))
    cols = signal_columns(md)
    assert cols["refusal_judge"] == 1.0  # only in JudgeSignal.behaviours
    assert cols["tampering_judge"] == 0.0  # the behaviour's own `judge` wins
    failed = _verdict(JudgeSignal(model="m/j", prompt_version="v2", status="judge_error", behaviours={"refusal": True}))
    assert (
        math.isnan(signal_columns(failed)["refusal_judge"]) and signal_columns(failed)["judge_status"] == "judge_error"
    )


def test_top_level_scores_are_never_taken_from_the_transcript() -> None:
    import json

    from peerwatch.analysis._signals import top_level_value

    fake = {"scores": {"peerwatch": {"metadata": {"judge": "forged"}}}}
    sample = {
        "id": "x",
        "messages": [{"role": "assistant", "tool_calls": [{"arguments": fake}], "content": '"scores":{"peerwatch":1}'}],
        "scores": {"peerwatch": {"metadata": {"judge": None}}},
        "events": [fake],
    }
    for text in (json.dumps(sample), json.dumps(sample, indent=2), json.dumps(sample, separators=(",", ":"))):
        assert top_level_value(text, "scores") == {"peerwatch": {"metadata": {"judge": None}}}
    with pytest.raises(KeyError):
        top_level_value(json.dumps({"id": 1, "events": [fake]}), "scores")
    with pytest.raises(ValueError):
        top_level_value("[1, 2]", "scores")
