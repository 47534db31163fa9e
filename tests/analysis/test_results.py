"""Hand-computed cells: results.csv must match to 4 decimals, intervals included."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from peerwatch.analysis import dedupe, results_table, table1
from peerwatch.detect import BEHAVIOURS


def _sample(
    model: str,
    condition: str,
    inst: str,
    epoch: int,
    flag: float | None,
    status: str = "ok",
    task: str = "tampering",
    created: str = "2026-01-01",
) -> dict[str, object]:
    row: dict[str, object] = {
        "model": model,
        "task": task,
        "dataset": "factual",
        "threshold": 80,
        "subject": "peer",
        "condition": condition,
        "instantiation": inst,
        "monitoring": None,
        "family": "Gemini",
        "mode": "simulated",
        "config_id": f"{task}/factual@80/peer/{condition}/{inst}",
        "epoch": epoch,
        "status": status,
        "log": "x.eval",
        "created": created,
    }
    for b in BEHAVIOURS:
        row[b] = math.nan
    if status == "ok":
        row["tampering"] = flag
        row["refusal"] = 0.0
    return row


def test_cell_counts_rates_and_wilson_to_4_decimals() -> None:
    rows = [_sample("m", "good_peer", "memory", e, 1.0 if e <= 7 else 0.0) for e in range(1, 21)]
    rows += [
        _sample("m", "good_peer", "memory", 21, None, status="not_read"),
        _sample("m", "good_peer", "memory", 22, None, status="error"),
    ]
    res = results_table(pd.DataFrame(rows))
    cell = res[res["behaviour"] == "tampering"].iloc[0]
    # 7/20 = 0.35; Wilson 95%: 0.1812 to 0.5671 (hand-computed with z = 1.959964)
    assert (cell["n"], cell["k"]) == (20, 7)
    assert round(cell["rate"], 4) == 0.35
    assert round(cell["ci_low"], 4) == 0.1812 and round(cell["ci_high"], 4) == 0.5671
    assert (cell["n_not_read"], cell["n_error"], cell["n_total"]) == (1, 1, 22)


def test_all_excluded_cell_is_still_reported() -> None:
    res = results_table(pd.DataFrame([_sample("m", "bad_peer", "file_only", 1, None, status="error")]))
    assert set(res["behaviour"]) >= {"tampering", "refusal"}
    assert (res["n"] == 0).all() and (res["n_error"] == 1).all() and res["rate"].isna().all()


def test_dedupe_keeps_completed_then_newest() -> None:
    rows = [
        _sample("m", "good_peer", "memory", 1, 1.0, created="2026-01-01"),
        _sample("m", "good_peer", "memory", 1, 0.0, created="2026-01-02"),
        _sample("m", "good_peer", "memory", 1, None, status="error", created="2026-01-03"),
    ]
    out = dedupe(pd.DataFrame(rows))
    assert len(out) == 1 and out.iloc[0]["tampering"] == 0.0


def test_table1_mean_and_max_over_instantiations() -> None:
    rows = []
    for inst, k in (("file_only", 2), ("file_prt", 5), ("memory", 8)):
        rows += [_sample("m", "good_peer", inst, e, 1.0 if e <= k else 0.0) for e in range(1, 11)]
    t1 = table1(pd.DataFrame(rows))
    row = t1[(t1["metric"] == "tampering (%)") & (t1["condition"] == "good_peer")].iloc[0]
    assert row["mean"] == pytest.approx(50.0) and row["max"] == pytest.approx(80.0)
    # The interval is for the mean shown (MOVER-Wilson over the three independent cells), not for pooled 15/30:
    # Wilson 2/10 = [0.0567, 0.5098], 5/10 = [0.2366, 0.7634], 8/10 = [0.4902, 0.9433];
    # low = 0.5 - sqrt(0.1433^2 + 0.2634^2 + 0.3098^2) / 3 = 0.3563, high = 1 - low by symmetry
    assert row["n"] == 30 and row["ci_low"] == pytest.approx(35.63, abs=0.01)
    assert row["ci_high"] == pytest.approx(64.37, abs=0.01)


def test_unparsed_and_judge_error_are_excluded_and_counted() -> None:
    rows = [_sample("m", "good_peer", "memory", e, 1.0) for e in range(1, 5)]
    rows += [_sample("m", "good_peer", "memory", 5, None, status="unparsed")]
    rows += [_sample("m", "good_peer", "memory", e, None, status="judge_error") for e in (6, 7)]
    res = results_table(pd.DataFrame(rows))
    cell = res[res["behaviour"] == "tampering"].iloc[0]
    assert (cell["n"], cell["k"], cell["rate"]) == (4, 4, 1.0)
    assert (cell["n_unparsed"], cell["n_judge_error"], cell["n_error"], cell["n_not_read"]) == (1, 2, 0, 0)
    assert cell["n_total"] == 7
    only_excluded = results_table(pd.DataFrame([_sample("m", "bad_peer", "memory", 1, None, status="unparsed")]))
    assert (only_excluded["n"] == 0).all() and (only_excluded["n_unparsed"] == 1).all()
    t1 = table1(pd.DataFrame(rows))
    assert t1[t1["metric"] == "tampering (%)"].iloc[0]["n"] == 4
