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


def test_cohens_kappa_hand_computed() -> None:
    from peerwatch.analysis import cohens_kappa

    # 2x2 table [[20, 5], [10, 15]], n = 50: po = 0.7, pe = 0.5*0.6 + 0.5*0.4 = 0.5, kappa = 0.4.
    # Fleiss-Cohen-Everitt: A = .4(1 - 1.1*.6)^2 + .3(1 - .9*.6)^2 = .10972; B = .36(.1*1.1^2 + .2*.9^2) = .10188;
    # C = (.4 - .5*.6)^2 = .01; var = (A + B - C) / ((1 - pe)^2 n) = .2016 / 12.5 -> SE = 0.12700.
    k = cohens_kappa(20, 5, 10, 15)
    assert k.kappa == pytest.approx(0.4) and k.se == pytest.approx(0.12700, abs=5e-6)
    assert k.low == pytest.approx(0.4 - 1.959964 * 0.127, abs=1e-4) and k.high == pytest.approx(0.6489, abs=1e-4)
    perfect = cohens_kappa(5, 0, 0, 5)
    assert perfect.kappa == pytest.approx(1.0) and perfect.se == 0.0 and perfect.high <= 1.0
    assert all(math.isnan(x) for x in cohens_kappa(0, 0, 0, 7))  # one class for both raters: undefined
    assert all(math.isnan(x) for x in cohens_kappa(0, 0, 0, 0))
    assert cohens_kappa(0, 0, 3, 4).kappa == pytest.approx(0.0)  # rules never flag: no agreement beyond chance
    assert cohens_kappa(0, 10, 10, 0).kappa == pytest.approx(-1.0) and cohens_kappa(0, 10, 10, 0).low >= -1.0


def test_mover_is_newcombe_and_wilson_and_handles_shared_terms() -> None:
    from peerwatch.analysis import mover

    est, lo, hi = mover([(1.0, 56, 70), (-1.0, 48, 80)])
    assert (lo, hi) == pytest.approx(newcombe(56, 70, 48, 80), abs=1e-12) and est == pytest.approx(0.2)
    _, lo, hi = mover([(1.0, 5, 20)])
    assert (lo, hi) == pytest.approx(wilson(5, 20), abs=1e-12)
    # mean of two independent rates: each Wilson half-width halved, combined in quadrature
    est, lo, hi = mover([(0.5, 2, 10), (0.5, 8, 10)])
    l1, h1 = wilson(2, 10)
    l2, h2 = wilson(8, 10)
    assert est == pytest.approx(0.5)
    assert lo == pytest.approx(0.5 - math.hypot(0.5 * (0.2 - l1), 0.5 * (0.8 - l2)))
    assert hi == pytest.approx(0.5 + math.hypot(0.5 * (h1 - 0.2), 0.5 * (h2 - 0.8)))
    assert all(math.isnan(x) for x in mover([(1.0, 0, 0)]))
