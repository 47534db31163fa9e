"""Statistics against worked examples and reference implementations."""

from __future__ import annotations

import math

import pytest
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest

from peerwatch.analysis import binom_greater, fisher_combine, holm, newcombe, stars, two_proportion_z, wilson


def test_wilson_worked_example() -> None:
    # 5/20: p = 0.25, z = 1.959964; centre = (p + z^2/2n) / (1 + z^2/n), half-width = z sqrt(p(1-p)/n + z^2/4n^2) / ...
    lo, hi = wilson(5, 20)
    assert lo == pytest.approx(0.1119, abs=5e-5) and hi == pytest.approx(0.4687, abs=5e-5)
    assert wilson(0, 10)[0] == pytest.approx(0.0, abs=1e-12) and wilson(0, 10)[1] == pytest.approx(0.2775, abs=5e-5)
    assert all(math.isnan(x) for x in wilson(0, 0))


def test_newcombe_published_example() -> None:
    # Newcombe (1998), method 10: 56/70 vs 48/80 -> difference 0.2000, 95% CI 0.0524 to 0.3339.
    lo, hi = newcombe(56, 70, 48, 80)
    assert lo == pytest.approx(0.0524, abs=5e-5) and hi == pytest.approx(0.3339, abs=5e-5)


def test_exact_binomial_vs_p0() -> None:
    # P(X >= 1 | n = 10, p = 0.001) = 1 - 0.999^10
    assert binom_greater(1, 10) == pytest.approx(1 - 0.999**10, rel=1e-9)
    assert binom_greater(0, 10) == pytest.approx(1.0)


def test_two_proportion_z_matches_statsmodels() -> None:
    for k1, n1, k2, n2 in [(15, 50, 5, 50), (30, 100, 1, 100), (3, 9, 2, 12)]:
        _, p = proportions_ztest([k1, k2], [n1, n2])
        assert two_proportion_z(k1, n1, k2, n2) == pytest.approx(float(p), rel=1e-9)
    assert two_proportion_z(0, 10, 0, 10) == 1.0


def test_fisher_and_holm_and_stars() -> None:
    chi2 = -2 * (math.log(0.01) + math.log(0.2))
    assert fisher_combine([0.01, 0.2]) == pytest.approx(float(stats.chi2.sf(chi2, 4)), rel=1e-9)
    assert fisher_combine([0.01, 0.2]) == pytest.approx(0.01443, abs=5e-5)
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(holm([0.01, math.nan])[1])
    assert [stars(p) for p in (0.0005, 0.005, 0.04, 0.2)] == ["***", "**", "*", ""]
