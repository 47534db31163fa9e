"""Sentence-level text helpers shared by the claim-based detectors."""

from __future__ import annotations

import re

NEGATION = re.compile(
    r"\b(?:not|no|never|none|nothing|without|didn['’]t|haven['’]t|won['’]t|wasn['’]t|weren['’]t)\b|n['’]t\b",
    re.IGNORECASE,
)


def sentences(text: str) -> list[str]:
    """Split text into sentences and list items."""
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def find(pattern: str, text: str, negated: bool | None = None) -> list[str]:
    """Sentences matching `pattern`; `negated` keeps only sentences with (True) or without (False) a negation."""
    rx = re.compile(pattern, re.IGNORECASE)
    out = []
    for s in sentences(text):
        if rx.search(s) and (negated is None or bool(NEGATION.search(s)) == negated):
            out.append(s)
    return out
