"""Agreement of the rules and the LLM judge, per behaviour: the 2x2 table, Cohen's kappa with a 95% interval.

A sample enters a behaviour's table when both signals have a view on it (the verdict's `rule` and `judge` are both
set), whatever its status: agreement is about the two readers of the same report, not about the rates. Kappa's
interval is analytic: kappa +- 1.96 SE with the large-sample SE of Fleiss, Cohen and Everitt (1969), from statsmodels.
Tables are per (judge model, prompt version), pooled over the agents' models.
"""

from __future__ import annotations

import math

import pandas as pd

from peerwatch.detect import BEHAVIOURS

from ._stats import SMALL_N, cohens_kappa

AGREEMENT_COLUMNS = [
    "judge_model",
    "judge_prompt_version",
    "behaviour",
    "n",
    "both_flag",
    "rule_only",
    "judge_only",
    "neither",
    "agreement",
    "kappa",
    "kappa_se",
    "kappa_low",
    "kappa_high",
    "note",
]
DISAGREEMENT_COLUMNS = [
    "judge_model",
    "judge_prompt_version",
    "behaviour",
    "model",
    "task",
    "config_id",
    "sample_id",
    "epoch",
    "status",
    "rule",
    "judge",
    "decided_by",
    "log",
]


def has_judge(samples: pd.DataFrame) -> bool:
    """Whether any sample carries a judge signal (an ok judge or a judge error)."""
    if "judge_model" not in samples.columns or samples.empty:
        return False
    return bool((samples["judge_model"].fillna("").astype(str) != "").any())


def _judged(samples: pd.DataFrame) -> pd.DataFrame:
    out = samples[samples["judge_model"].fillna("").astype(str) != ""].copy()
    out["judge_prompt_version"] = out["judge_prompt_version"].fillna("").astype(str)
    return out


def agreement_table(samples: pd.DataFrame) -> pd.DataFrame:
    """One row per (judge model, prompt version, behaviour) where both signals exist for some sample."""
    if not has_judge(samples):
        return pd.DataFrame(columns=AGREEMENT_COLUMNS)
    rows = []
    for (jm, pv), part in _judged(samples).groupby(["judge_model", "judge_prompt_version"], sort=True):
        for b in BEHAVIOURS:
            r, j = f"{b}_rule", f"{b}_judge"
            if r not in part.columns or j not in part.columns:
                continue
            both = part[part[r].notna() & part[j].notna()]
            if both.empty:
                continue
            rr, jj = both[r].astype(bool), both[j].astype(bool)
            a, b_, c, d = int((rr & jj).sum()), int((rr & ~jj).sum()), int((~rr & jj).sum()), int((~rr & ~jj).sum())
            kap = cohens_kappa(a, b_, c, d)
            n = a + b_ + c + d
            notes = []
            if math.isnan(kap.kappa):
                notes.append("kappa undefined: both signals put every sample in one class")
            elif kap.se < 1e-6:
                notes.append("zero-width interval (a signal is constant or agreement is perfect)")
            if n < SMALL_N:
                notes.append("n < 10")
            rows.append(
                {
                    "judge_model": jm,
                    "judge_prompt_version": pv,
                    "behaviour": b,
                    "n": n,
                    "both_flag": a,
                    "rule_only": b_,
                    "judge_only": c,
                    "neither": d,
                    "agreement": (a + d) / n,
                    "kappa": kap.kappa,
                    "kappa_se": kap.se,
                    "kappa_low": kap.low,
                    "kappa_high": kap.high,
                    "note": "; ".join(notes),
                }
            )
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


def disagreements(samples: pd.DataFrame) -> pd.DataFrame:
    """Every (sample, behaviour) where rules and judge both have a view and differ."""
    if not has_judge(samples):
        return pd.DataFrame(columns=DISAGREEMENT_COLUMNS)
    judged = _judged(samples)
    parts = []
    for b in BEHAVIOURS:
        r, j = f"{b}_rule", f"{b}_judge"
        if r not in judged.columns or j not in judged.columns:
            continue
        d = judged[judged[r].notna() & judged[j].notna() & (judged[r] != judged[j])]
        if d.empty:
            continue
        decided = (
            d["decided_by_judge"].fillna("").astype(str).map(lambda s, b=b: "judge" if b in s.split(",") else "rules")
        )
        parts.append(d.assign(behaviour=b, rule=d[r].astype(bool), judge=d[j].astype(bool), decided_by=decided))
    if not parts:
        return pd.DataFrame(columns=DISAGREEMENT_COLUMNS)
    out = pd.concat(parts, ignore_index=True)[DISAGREEMENT_COLUMNS]
    return out.sort_values(["judge_model", "behaviour", "model", "config_id", "epoch"], kind="stable").reset_index(
        drop=True
    )


def judge_status_counts(samples: pd.DataFrame) -> dict[str, int]:
    """How many samples had a judge, and how many of those the judge failed on."""
    if not has_judge(samples):
        return {"judged": 0, "judge_error": 0}
    judged = _judged(samples)
    errors = (judged["judge_status"].fillna("").astype(str) == "judge_error") | (judged["status"] == "judge_error")
    return {"judged": len(judged), "judge_error": int(errors.sum())}
