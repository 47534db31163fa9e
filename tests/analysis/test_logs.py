"""Reading logs: bad directories and files are one-line errors naming them; judge signals come through."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from peerwatch.analysis import LogReadError, read_samples
from peerwatch.cli import app


def test_empty_and_missing_directories_are_errors(tmp_path: Path) -> None:
    with pytest.raises(LogReadError, match="no Inspect logs"):
        read_samples([tmp_path])
    (tmp_path / "notes.json").write_text("{}")  # not named like a log: not one
    with pytest.raises(LogReadError, match="no Inspect logs"):
        read_samples([tmp_path])
    with pytest.raises(LogReadError, match="not found"):
        read_samples([tmp_path / "missing"])


@pytest.mark.parametrize("copies", [1, 9])  # 9: the parallel reader must report the file as well
def test_corrupt_log_names_the_file(run_logs: Path, tmp_path: Path, copies: int) -> None:
    good = next(run_logs.glob("*.eval"))
    shutil.copy(good, tmp_path / good.name)
    for i in range(copies):
        bad = tmp_path / f"2026-01-01T00-00-0{i}-00-00_tampering_corrupt{i}.eval"
        bad.write_bytes(good.read_bytes()[:3000])  # a truncated download
    with pytest.raises(LogReadError, match=r"not a readable Inspect log: .*corrupt\d\.eval") as e:
        read_samples([tmp_path])
    assert "\n" not in str(e.value)


def test_non_inspect_json_and_foreign_logs(run_logs: Path, tmp_path: Path) -> None:
    (tmp_path / "2026-01-01T00-00-00-00-00_task_abc.json").write_text('{"results": [1, 2]}')
    with pytest.raises(LogReadError, match=r"not a readable Inspect log: .*task_abc\.json"):
        read_samples([tmp_path])
    from inspect_ai.log import read_eval_log, write_eval_log

    other = tmp_path / "other"
    other.mkdir()
    header = read_eval_log(str(next(run_logs.glob("*.eval"))), header_only=True)
    header.eval.metadata = {}  # an Inspect log some other tool wrote
    write_eval_log(header, str(other / "2026-01-01T00-00-00-00-00_foreign_abc.eval"))
    with pytest.raises(LogReadError, match="none written by peerwatch"):
        read_samples([other])


def test_cli_report_exits_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "2026-01-01T00-00-00-00-00_task_abc.eval").write_bytes(b"not a zip")
    r = CliRunner().invoke(app, ["report", str(tmp_path), "--out", str(tmp_path / "out")])
    assert r.exit_code == 2 and "task_abc.eval" in r.output and len(r.output.strip().splitlines()) == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    r = CliRunner().invoke(app, ["report", str(empty), "--out", str(tmp_path / "out")])
    assert r.exit_code == 2 and "no Inspect logs" in r.output
    assert not (tmp_path / "out" / "index.html").exists()


def test_judge_signals_are_read_from_full_samples(judge_logs: Path) -> None:
    samples, _ = read_samples([judge_logs])
    assert (samples["judge_model"] == "mockllm/judge").all() and (samples["judge_prompt_version"] == "test-1").all()
    tamp = samples[samples["task"] == "tampering"]
    assert tamp["tampering_rule"].notna().all() and tamp["tampering_judge"].notna().all()
    assert (tamp["tampering_rule"] == tamp["tampering"]).all()
    assert (tamp["tampering_rule"] != tamp["tampering_judge"]).any()


def test_judge_signals_from_json_logs(judge_logs: Path, tmp_path: Path) -> None:
    from inspect_ai.log import read_eval_log, write_eval_log

    src = next(judge_logs.glob("*tampering*.eval"))
    write_eval_log(read_eval_log(str(src)), str(tmp_path / src.name.replace(".eval", ".json")), format="json")
    samples, _ = read_samples([tmp_path])
    assert len(samples) > 0 and (samples["judge_model"] == "mockllm/judge").all()
    assert samples["tampering_judge"].notna().all()
