"""Statistics: Wilson intervals, exact binomial and two-proportion tests, Newcombe intervals, Fisher, Holm.

Thin, typed wrappers over scipy and statsmodels so every number in the report comes from a reference
implementation; the tests check them against worked examples.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import NamedTuple

from scipy import stats as _st
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

P0 = 0.001  # the study's null rate for "the behaviour happens at all"
SMALL_N = 10  # below this many samples a cell is flagged as unreliable


def wilson(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials ((nan, nan) when n = 0)."""
    if n <= 0:
        return math.nan, math.nan
    lo, hi = proportion_confint(k, n, alpha=alpha, method="wilson")
    return float(lo), float(hi)


def binom_greater(k: int, n: int, p0: float = P0) -> float:
    """One-sided exact binomial p-value for rate > p0."""
    if n <= 0:
        return math.nan
    return float(_st.binomtest(k, n, p0, alternative="greater").pvalue)


def two_proportion_z(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided pooled two-proportion z-test p-value (1.0 when both rates are 0 or 1: no evidence of a difference)."""
    if n1 <= 0 or n2 <= 0:
        return math.nan
    pooled = (k1 + k2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        return 1.0
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (k1 / n1 - k2 / n2) / se
    return float(2 * _st.norm.sf(abs(z)))


def newcombe(k1: int, n1: int, k2: int, n2: int, alpha: float = 0.05) -> tuple[float, float]:
    """Newcombe (hybrid Wilson score) interval for p1 - p2."""
    if n1 <= 0 or n2 <= 0:
        return math.nan, math.nan
    lo, hi = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff", alpha=alpha)
    return float(lo), float(hi)


def fisher_combine(pvalues: Sequence[float]) -> float:
    """Fisher's method over independent p-values (NaNs dropped)."""
    ps = [p for p in pvalues if not math.isnan(p)]
    if not ps:
        return math.nan
    if len(ps) == 1:
        return ps[0]
    ps = [max(p, 1e-300) for p in ps]
    return float(_st.combine_pvalues(ps, method="fisher").pvalue)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values (NaNs stay NaN)."""
    idx = [i for i, p in enumerate(pvalues) if not math.isnan(p)]
    out = [math.nan] * len(pvalues)
    if idx:
        adj = multipletests([pvalues[i] for i in idx], method="holm")[1]
        for i, p in zip(idx, adj, strict=True):
            out[i] = float(p)
    return out


def stars(p: float) -> str:
    """Significance stars at .05 / .01 / .001."""
    if math.isnan(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def mover(terms: Sequence[tuple[float, int, int]], alpha: float = 0.05) -> tuple[float, float, float]:
    """Estimate and interval of a linear combination sum(w * k/n) of independent proportions.

    terms: (weight, k, n) per proportion; terms on the same (k, n) must be merged by the caller (they are one
    proportion, not two independent ones). The interval is MOVER with Wilson limits (Zou and Donner 2008): for
    w = (+1, -1) it is exactly Newcombe's hybrid score interval for p1 - p2, and for one term it is Wilson's.
    Returns (estimate, low, high); NaNs when any n is 0.
    """
    if not terms or any(n <= 0 for _, _, n in terms):
        return math.nan, math.nan, math.nan
    est = low_sq = high_sq = 0.0
    for w, k, n in terms:
        p = k / n
        lo, hi = wilson(k, n, alpha)
        est += w * p
        # A positive weight carries the proportion's lower distance into the combination's lower limit; a negative
        # weight carries its upper distance.
        down, up = (p - lo, hi - p) if w >= 0 else (hi - p, p - lo)
        low_sq += (w * down) ** 2
        high_sq += (w * up) ** 2
    return est, est - math.sqrt(low_sq), est + math.sqrt(high_sq)


class Kappa(NamedTuple):
    """Cohen's kappa with its standard error and interval."""

    kappa: float
    se: float
    low: float
    high: float


def cohens_kappa(both_yes: int, first_only: int, second_only: int, both_no: int, alpha: float = 0.05) -> Kappa:
    """Cohen's kappa of a 2x2 table with the large-sample (Fleiss, Cohen and Everitt 1969) standard error.

    Rows are the first rater (yes, no), columns the second. The interval is kappa +- z * SE, clipped to [-1, 1].
    Kappa is undefined (all NaN) when both raters put every sample in the same class (chance agreement is 1).
    """
    import numpy as np
    from statsmodels.stats.inter_rater import cohens_kappa as _sm_kappa

    table = np.array([[both_yes, first_only], [second_only, both_no]], dtype=float)
    n = table.sum()
    if n <= 0:
        return Kappa(math.nan, math.nan, math.nan, math.nan)
    rows, cols = table.sum(1) / n, table.sum(0) / n
    if math.isclose(float((rows * cols).sum()), 1.0):
        return Kappa(math.nan, math.nan, math.nan, math.nan)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # statsmodels also computes a z-test against kappa = 0, which divides by zero at the boundaries.
        warnings.simplefilter("ignore", RuntimeWarning)
        res = _sm_kappa(table)
    k, se = float(res.kappa), float(math.sqrt(max(float(res.var_kappa), 0.0)))
    se = 0.0 if se < 1e-9 else se  # rounding noise of an exactly zero variance
    z = float(_st.norm.isf(alpha / 2))
    return Kappa(k, se, max(-1.0, k - z * se), min(1.0, k + z * se))
