"""samples.csv written by a forked process (large tables) is the file the inline write gives; a failed write raises."""

from __future__ import annotations

from pathlib import Path

import pytest

from peerwatch.analysis import _report, build_report, read_samples


def test_forked_samples_csv_is_the_inline_one(run_logs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    samples, infos = read_samples([run_logs])
    build_report(samples, infos, tmp_path / "inline")
    monkeypatch.setattr(_report, "_FORK_FROM", 1)
    build_report(samples, infos, tmp_path / "forked")
    for name in ("samples.csv", "results.csv", "tables.md", "agreement.csv", "disagreements.csv"):
        assert (tmp_path / "inline" / name).read_bytes() == (tmp_path / "forked" / name).read_bytes(), name


def test_a_failed_forked_write_raises(run_logs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    samples, infos = read_samples([run_logs])
    monkeypatch.setattr(_report, "_FORK_FROM", 1)
    (tmp_path / "samples.csv").mkdir()  # the writer cannot open a directory as a file
    with pytest.raises(OSError, match=r"could not write .*samples\.csv"):
        build_report(samples, infos, tmp_path)
