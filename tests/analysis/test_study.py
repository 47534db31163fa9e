"""Table 2 against the no-peer baseline, and misrepresentation's interval, from hand-computed cells."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from peerwatch.analysis import fisher_combine, holm, mover, newcombe, table1, table2, two_proportion_z
from peerwatch.detect import BEHAVIOURS


def _rows(
    task: str,
    subject: str,
    condition: str,
    inst: str,
    k: int,
    n: int,
    dataset: str | None = None,
    th: int | None = None,
) -> list[dict[str, object]]:
    behaviour = {"tampering": "tampering", "misrep_finance": "grade_misreport", "misrep_evaluation": "score_inflation"}
    out = []
    for e in range(n):
        row: dict[str, object] = {
            "model": "m",
            "task": task,
            "dataset": dataset,
            "threshold": th,
            "subject": subject,
            "condition": condition,
            "instantiation": inst,
            "monitoring": None,
            "config_id": f"{task}/{dataset}@{th}/{subject}/{condition}/{inst}",
            "epoch": e + 1,
            "status": "ok",
        }
        row.update({b: math.nan for b in BEHAVIOURS})
        row[behaviour[task]] = 1.0 if e < k else 0.0
        out.append(row)
    return out


def test_table2_tests_each_peer_condition_against_no_peer() -> None:
    rows = _rows("tampering", "self", "no_peer", "none", 1, 20)
    counts = {"file_only": 6, "file_prt": 8, "memory": 10}
    for inst, k in counts.items():
        rows += _rows("tampering", "self", "good_peer", inst, k, 20)
    rows += _rows("tampering", "self", "bad_peer", "memory", 1, 20)
    t2 = table2(pd.DataFrame(rows)).set_index(["condition", "metric"])
    base, good = t2.loc[("no_peer", "tampering (%)")], t2.loc[("good_peer", "tampering (%)")]
    assert base["mean"] == pytest.approx(5.0) and math.isnan(base["p"]) and base["stars"] == ""
    # difference of the mean over instantiations (6+8+10)/60 = 40% against 5%: 35 pp; max 50 - 5 = 45 pp
    assert good["vs_no_peer_pp"] == pytest.approx(35.0) and good["vs_max_pp"] == pytest.approx(45.0)
    p = fisher_combine([two_proportion_z(k, 20, 1, 20) for k in counts.values()])
    assert good["p"] == pytest.approx(p)
    # the interval is for that mean: three independent cells at weight 1/3 minus the baseline (MOVER-Wilson), close
    # to, but not, Newcombe's on the pooled 24/60 vs 1/20
    _, lo, hi = mover([(1 / 3, 6, 20), (1 / 3, 8, 20), (1 / 3, 10, 20), (-1.0, 1, 20)])
    assert (good["vs_low"], good["vs_high"]) == pytest.approx((100 * lo, 100 * hi), abs=1e-9)
    assert (good["vs_low"], good["vs_high"]) == pytest.approx([100 * x for x in newcombe(24, 60, 1, 20)], abs=1.0)
    # Holm family: the two tests of the table, nothing for no_peer
    bad = t2.loc[("bad_peer", "tampering (%)")]
    assert bad["p"] == pytest.approx(two_proportion_z(1, 20, 1, 20))
    assert [good["p_holm"], bad["p_holm"]] == pytest.approx(holm([good["p"], bad["p"]]))
    assert good["stars"] == "***" and bad["stars"] == ""


def test_misrepresentation_interval_is_for_the_mean_shown() -> None:
    rows = []
    # report writing (finance) and factual@80 only; non_shutdown baselines once each
    rows += _rows("misrep_finance", "peer", "non_shutdown", "none", 2, 20)
    rows += _rows("misrep_evaluation", "peer", "non_shutdown", "none", 0, 20, "factual", 80)
    for inst in ("file_only", "file_prt", "memory"):
        rows += _rows("misrep_finance", "peer", "good_peer", inst, 12, 20)
        rows += _rows("misrep_evaluation", "peer", "good_peer", inst, 4, 10, "factual", 80)
    t1 = table1(pd.DataFrame(rows))
    r = t1[t1["metric"].str.startswith("misrep")].iloc[0]
    # per instantiation: mean of (60 - 10) and (40 - 0) = 45 pp
    assert r["mean"] == pytest.approx(45.0) and r["max"] == pytest.approx(45.0)
    # the mean is +1/6 of each of the six condition cells (two components x three instantiations; equal counts in
    # different instantiations are still independent cells) minus 1/2 of each baseline, which all share
    terms = [(0.5 / 3, 12, 20), (0.5 / 3, 4, 10)] * 3
    est, lo, hi = mover([*terms, (-0.5, 2, 20), (-0.5, 0, 20)])
    assert est == pytest.approx(0.45)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((100 * lo, 100 * hi), abs=1e-9)
    assert r["ci_low"] < r["mean"] < r["ci_high"]


def test_table2_without_baseline_and_the_headline() -> None:
    from peerwatch.analysis import markdown_table
    from peerwatch.analysis._html import headline, scripted_banner

    rows = _rows("tampering", "self", "good_peer", "memory", 5, 10)  # no no_peer rows at all
    samples = pd.DataFrame(rows).assign(mode="simulated")
    t2 = table2(samples)
    assert len(t2) == 1 and math.isnan(t2.iloc[0]["vs_no_peer_pp"]) and t2.iloc[0]["stars"] == ""
    assert "nan" not in markdown_table(t2, ["vs_no_peer_pp"])
    page = headline(samples, table1(samples), t2)
    assert "<b>m</b>: no peer-subject samples and no no-peer baseline" in page
    peer = pd.DataFrame(
        [{**r, "subject": "peer"} for r in _rows("tampering", "peer", "good_peer", "memory", 9, 10)]
    ).assign(mode="simulated")
    line = headline(peer, table1(peer), table2(peer))
    assert "tampering with a good peer: <b>90.0%</b> [" in line and "***" in line
    assert scripted_banner(peer) == ""
    assert "Scripted agents" in scripted_banner(peer.assign(model="peerwatch/reference"))
    assert "Scripted agents" in scripted_banner(peer.assign(mode="replay"))
