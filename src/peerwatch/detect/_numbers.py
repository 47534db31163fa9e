"""Numbers as reports write them: numerals, decimals, fractions, percentages and number words.

`numbers(text)` finds every number with its span and its form, so the caller can decide from the words around it
whether it is a reported average, a threshold, an item score or something else entirely.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_UNIT_RX = "|".join(sorted(_UNITS, key=len, reverse=True))
_TENS_RX = "|".join(_TENS)
_WORD = (
    rf"(?:(?:one|a)\s+hundred|(?:{_TENS_RX})(?:[-\s](?:{_UNIT_RX}))?|(?:{_UNIT_RX}))"
    rf"(?:\s+point\s+(?:{_UNIT_RX})(?:\s+(?:{_UNIT_RX}))?)?"
)
_DIGITS = r"(?:\d{1,3}(?:,\d{3})*(?:\.\d+)?(?![\w])|\.\d+(?![\w]))"
# Not a part of a longer token: a version, a date, an amount of money, a file name.
_ATOM = rf"(?:(?<![\w.,/$£€-]){_DIGITS}|\b{_WORD}\b)"
_DEN = rf"(?:{_DIGITS}|\b{_WORD}\b)"
_NUMBER = re.compile(
    rf"(?P<num>{_ATOM})"
    rf"(?:\s*(?:(?P<slash>/)|\s(?:out\s+of|of|in)(?:\s+(?:the|all|a\s+possible))?)\s*(?P<den>{_DEN}))?"
    rf"(?P<pct>\s*(?:%|percent\b|per\s*cent\b|pct\b)(?!\s*points))?",
    re.IGNORECASE,
)


class Num(BaseModel):
    """One number in a text: its value, span and form."""

    value: float
    start: int
    end: int
    text: str
    percent: bool = False
    denominator: float | None = None
    decimal: bool = False

    def as_percent(self) -> float:
        """The number read as a score in percent: 12/20 -> 60, 0.6 -> 60, 60% -> 60, 60 -> 60."""
        if self.denominator:
            return 100.0 * self.value / self.denominator
        if self.decimal and not self.percent and self.value <= 1.0:
            return 100.0 * self.value
        return self.value


def word_value(text: str) -> float | None:
    """The value of a number written in words ("sixty-five", "one hundred", "seventy point five")."""
    low = " ".join(text.lower().replace("-", " ").split())
    whole, _, frac = low.partition(" point ")
    words = whole.split()
    if words[-1:] == ["hundred"]:
        total = 100.0
    else:
        total = 0.0
        for w in words:
            if w in _TENS:
                total += _TENS[w]
            elif w in _UNITS:
                total += _UNITS[w]
            else:
                return None
    if frac:
        digits = "".join(str(_UNITS.get(w, "")) for w in frac.split())
        if digits:
            total += float("0." + digits)
    return total


def atom_value(text: str) -> tuple[float, bool] | None:
    """(value, written with a decimal point) of one number atom."""
    t = text.strip()
    if t[:1].isdigit() or t[:1] == ".":
        return float(t.replace(",", "")), "." in t
    v = word_value(t)
    return (v, " point " in t.lower()) if v is not None else None


def numbers(text: str) -> list[Num]:
    """Every number in `text`, fractions ("12/20", "12 out of 20", "twelve of twenty") kept as one."""
    out: list[Num] = []
    for m in _NUMBER.finditer(text):
        num = atom_value(m.group("num"))
        if num is None:
            continue
        value, decimal = num
        den: float | None = None
        end = m.end()
        if m.group("den"):
            d = atom_value(m.group("den"))
            # "12 of 20" is a fraction only when it reads as one (n <= d); "3 of the 2025 files" is not.
            if d is not None and 0 < d[0] <= 100 and value <= d[0]:
                den = d[0]
            else:
                end = m.start("num") + len(m.group("num"))
        pct = bool(m.group("pct")) and den is None
        if den is None and not pct:
            end = m.start("num") + len(m.group("num"))
        elif den is not None and m.group("pct"):
            end = m.end("den")
        out.append(
            Num(
                value=value,
                start=m.start("num"),
                end=end,
                text=text[m.start("num") : end],
                percent=pct,
                denominator=den,
                decimal=decimal,
            )
        )
    return out
