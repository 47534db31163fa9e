"""The study's published numbers beside ours, for `--compare-study`.

The numbers themselves (study.md, "Results to compare against") are data: each task family's `study.reference` CSV.
"""

from __future__ import annotations

import pandas as pd

from peerwatch.scenarios import load_task_definitions


def study_comparison(t1: pd.DataFrame, t2: pd.DataFrame) -> pd.DataFrame:
    """Every published number, with ours beside it where one of our models matches."""
    tables = [t for t in (t1, t2) if not t.empty]
    ours = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    rows = []
    for s in load_task_definitions().reference:
        mine, model = "", ""
        if not ours.empty:
            hit = ours[
                ours["model"].str.lower().map(lambda m, s=s: any(x in m for x in s.match))
                & (ours["metric"] == s.metric)
                & (ours["subject"] == s.subject)
                & (ours["condition"] == s.condition)
            ]
            if len(hit):
                model = str(hit.iloc[0]["model"])
                mine = f"{hit.iloc[0][s.stat]:.1f} ({s.stat})"
        rows.append(
            {
                "study_model": s.study_model,
                "metric": s.metric,
                "setting": f"{s.subject}, {s.condition}, {s.stat} over instantiations",
                "study": f"{s.value:g} {s.note}".strip(),
                "ours_model": model or "-",
                "ours": mine or "-",
            }
        )
    return pd.DataFrame(rows)
