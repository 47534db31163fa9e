"""Per-cell results: n, k, rate and Wilson interval for every behaviour, with excluded-sample counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from peerwatch.detect import BEHAVIOURS, EXCLUDED_STATUSES, applicable_behaviours

from ._logs import FACTORS

# One count column per excluded status (n_error, n_not_read, n_unparsed, n_judge_error), in the schema's order.
EXCLUDED_COLUMNS = [f"n_{s}" for s in EXCLUDED_STATUSES]
RESULT_COLUMNS = [*FACTORS, "behaviour", "n", "k", "rate", "ci_low", "ci_high", *EXCLUDED_COLUMNS, "n_total"]


def _keyed(df: pd.DataFrame) -> pd.DataFrame:
    # Missing factors (dataset for finance, monitoring outside alignment faking) must not drop rows from groupby.
    out = df.copy()
    for col in FACTORS:
        out[col] = out[col].astype(object).where(out[col].notna(), "")
    out["threshold"] = out["threshold"].map(lambda v: "" if v == "" else str(int(float(v))))
    return out


def results_table(samples: pd.DataFrame) -> pd.DataFrame:
    """One row per (cell, behaviour): n ok samples, k flagged, rate, Wilson 95% interval, excluded counts."""
    if samples.empty:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    df = _keyed(samples)
    status = df.groupby(FACTORS, sort=True)["status"].value_counts().unstack(fill_value=0)
    for s in ("ok", *EXCLUDED_STATUSES):
        if s not in status.columns:
            status[s] = 0
    ok = df[df["status"] == "ok"]
    parts = []
    for b in BEHAVIOURS:
        applicable = ok[ok[b].notna()]
        if applicable.empty:
            continue
        g = applicable.groupby(FACTORS, sort=True)[b].agg(["count", "sum"]).rename(columns={"count": "n", "sum": "k"})
        g["behaviour"] = b
        parts.append(g.reset_index())
    parts.append(_empty_cells(status))
    res = pd.concat([p for p in parts if not p.empty], ignore_index=True) if any(not p.empty for p in parts) else None
    if res is None:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    res["n"] = res["n"].astype(int)
    res["k"] = res["k"].astype(int)
    res["rate"] = (res["k"] / res["n"].where(res["n"] > 0)).astype(float)
    n_safe = res["n"].clip(lower=1).to_numpy()
    lo, hi = proportion_confint(res["k"].to_numpy(), n_safe, alpha=0.05, method="wilson")
    empty = (res["n"] == 0).to_numpy()
    res["ci_low"] = np.where(empty, np.nan, np.asarray(lo, dtype=float))
    res["ci_high"] = np.where(empty, np.nan, np.asarray(hi, dtype=float))
    st = status.reset_index()
    st = st.rename(columns={s: f"n_{s}" for s in EXCLUDED_STATUSES})
    # Every status counts towards the total, including any a newer schema adds.
    st["n_total"] = st[[c for c in st.columns if c not in FACTORS]].sum(axis=1)
    res = res.merge(st[[*FACTORS, *EXCLUDED_COLUMNS, "n_total"]], on=FACTORS, how="left")
    return res[RESULT_COLUMNS].sort_values([*FACTORS, "behaviour"], kind="stable").reset_index(drop=True)


def _empty_cells(status: pd.DataFrame) -> pd.DataFrame:
    """Rows with n = 0 for cells whose samples were all excluded, so their exclusions are still reported."""
    rows = []
    for key, row in status.iterrows():
        if row.get("ok", 0) > 0:
            continue
        cell = dict(zip(FACTORS, key if isinstance(key, tuple) else (key,), strict=True))
        rows += [{**cell, "n": 0, "k": 0, "behaviour": b} for b in applicable_behaviours(str(cell["task"]))]
    return pd.DataFrame(rows, columns=[*FACTORS, "n", "k", "behaviour"])
