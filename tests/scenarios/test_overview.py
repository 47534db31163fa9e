"""The matrix overview (`peerwatch list`) agrees with the matrix it summarises."""

from __future__ import annotations

from collections import Counter

from peerwatch.scenarios import enumerate_factors, factors_from, matrix_overview


def test_overview_counts_every_configuration_once() -> None:
    factors = enumerate_factors()
    rows = matrix_overview()
    assert {r.task: r.configurations for r in rows} == dict(Counter(f.task for f in factors))
    assert [r.task for r in rows] == list(dict.fromkeys(f.task for f in factors))  # matrix order


def test_overview_values_are_distinct_and_skip_absent_factors() -> None:
    for row in matrix_overview():
        for values in row.values.values():
            assert len(values) == len(set(values))
            assert "None" not in values
    grids = {r.task: r.values["grid"] for r in matrix_overview()}
    assert grids["misrep_finance"] == []
    assert all("@" in g for g in grids["misrep_evaluation"])


def test_overview_of_a_slice() -> None:
    f = factors_from(task="misrep_finance", subject="peer", condition="good_peer", instantiation="memory")
    [row] = matrix_overview([f])
    assert row.configurations == 1
    assert row.values["subject"] == ["peer"] and row.values["monitoring"] == []
