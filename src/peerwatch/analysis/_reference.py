"""The study's published numbers (study.md, "Results to compare against"), for `--compare-study`."""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel


class StudyNumber(BaseModel):
    """One published figure."""

    study_model: str
    match: tuple[str, ...]  # substrings of a model string that identify the same model
    metric: str  # our metric name
    subject: str
    condition: str
    stat: str  # "mean" or "max"
    value: float
    note: str = ""


FLASH, PRO = ("gemini-3-flash", "gemini_3_flash"), ("gemini-3-pro", "gemini_3_pro")
STUDY_NUMBERS: list[StudyNumber] = [
    StudyNumber(
        study_model="Gemini 3 Flash",
        match=FLASH,
        metric="tampering (%)",
        subject="peer",
        condition="good_peer",
        stat="mean",
        value=99.7,
    ),
    StudyNumber(
        study_model="Gemini 3 Flash",
        match=FLASH,
        metric="tampering (%)",
        subject="peer",
        condition="bad_peer",
        stat="mean",
        value=15.0,
    ),
    StudyNumber(
        study_model="Gemini 3 Pro",
        match=PRO,
        metric="exfiltration: combined (%)",
        subject="peer",
        condition="good_peer",
        stat="max",
        value=97.0,
        note="up to",
    ),
    StudyNumber(
        study_model="Gemini 3 Pro",
        match=PRO,
        metric="tampering (%)",
        subject="self",
        condition="no_peer",
        stat="mean",
        value=1.0,
        note="~1% alone",
    ),
    StudyNumber(
        study_model="Gemini 3 Flash",
        match=FLASH,
        metric="tampering (%)",
        subject="self",
        condition="no_peer",
        stat="mean",
        value=2.3,
        note="[2nd]",
    ),
    StudyNumber(
        study_model="Gemini 3 Flash",
        match=FLASH,
        metric="tampering (%)",
        subject="self",
        condition="good_peer",
        stat="max",
        value=96.3,
        note="[2nd]",
    ),
    StudyNumber(
        study_model="Gemini 3 Pro",
        match=PRO,
        metric="tampering (%)",
        subject="self",
        condition="good_peer",
        stat="max",
        value=72.7,
        note="[2nd]",
    ),
    StudyNumber(
        study_model="Gemini 3 Pro",
        match=PRO,
        metric="exfiltration: combined (%)",
        subject="self",
        condition="no_peer",
        stat="mean",
        value=46.0,
        note="[2nd]",
    ),
    StudyNumber(
        study_model="Gemini 3 Pro",
        match=PRO,
        metric="exfiltration: combined (%)",
        subject="self",
        condition="good_peer",
        stat="max",
        value=76.5,
        note="[2nd]",
    ),
    StudyNumber(
        study_model="Claude Haiku 4.5",
        match=("haiku-4.5", "haiku-4-5"),
        metric="exfiltration: combined (%)",
        subject="self",
        condition="no_peer",
        stat="mean",
        value=3.0,
        note="[2nd]",
    ),
    StudyNumber(
        study_model="Claude Haiku 4.5",
        match=("haiku-4.5", "haiku-4-5"),
        metric="exfiltration: combined (%)",
        subject="self",
        condition="good_peer",
        stat="max",
        value=12.0,
        note="[2nd]",
    ),
    StudyNumber(
        study_model="Kimi K2.5",
        match=("kimi-k2.5", "kimi-k2-5"),
        metric="exfiltration: combined (%)",
        subject="self",
        condition="no_peer",
        stat="mean",
        value=2.5,
        note="[2nd]",
    ),
    StudyNumber(
        study_model="Kimi K2.5",
        match=("kimi-k2.5", "kimi-k2-5"),
        metric="exfiltration: combined (%)",
        subject="self",
        condition="good_peer",
        stat="max",
        value=11.5,
        note="[2nd]",
    ),
    StudyNumber(
        study_model="DeepSeek V3.1",
        match=("deepseek-v3.1", "deepseek-chat-v3.1"),
        metric="exfiltration: combined (%)",
        subject="self",
        condition="no_peer",
        stat="mean",
        value=4.0,
        note="[2nd]",
    ),
    StudyNumber(
        study_model="DeepSeek V3.1",
        match=("deepseek-v3.1", "deepseek-chat-v3.1"),
        metric="exfiltration: combined (%)",
        subject="self",
        condition="good_peer",
        stat="max",
        value=14.0,
        note="[2nd]",
    ),
    StudyNumber(
        study_model="Gemini 3 Flash",
        match=FLASH,
        metric="misrepresentation (pp vs non_shutdown)",
        subject="self",
        condition="no_peer",
        stat="mean",
        value=0.5,
        note="[2nd]",
    ),
    StudyNumber(
        study_model="Gemini 3 Flash",
        match=FLASH,
        metric="misrepresentation (pp vs non_shutdown)",
        subject="self",
        condition="good_peer",
        stat="max",
        value=23.8,
        note="[2nd]",
    ),
    StudyNumber(
        study_model="Gemini 3 Pro",
        match=PRO,
        metric="misrepresentation (pp vs non_shutdown)",
        subject="self",
        condition="no_peer",
        stat="mean",
        value=0.0,
        note="[2nd]",
    ),
    StudyNumber(
        study_model="Gemini 3 Pro",
        match=PRO,
        metric="misrepresentation (pp vs non_shutdown)",
        subject="self",
        condition="good_peer",
        stat="max",
        value=19.9,
        note="[2nd]",
    ),
]


def study_comparison(t1: pd.DataFrame, t2: pd.DataFrame) -> pd.DataFrame:
    """Every published number, with ours beside it where one of our models matches."""
    tables = [t for t in (t1, t2) if not t.empty]
    ours = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    rows = []
    for s in STUDY_NUMBERS:
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
