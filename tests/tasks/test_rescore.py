"""`peerwatch rescore`: old logs judged again into new logs, never touching the inputs."""

from __future__ import annotations

import hashlib
import shutil
import sys
import types
from pathlib import Path

import pandas as pd
import pytest
from inspect_ai.log import read_eval_log, write_eval_log
from typer.testing import CliRunner

from peerwatch.cli import app
from peerwatch.detect import BehaviourVerdict, Evidence, JudgeSignal
from peerwatch.scenarios import enumerate_factors
from peerwatch.tasks._rescore import RECORD_KEY, RescoreError, rescore_dirs
from peerwatch.tasks._run import build_tasks, check_models

runner = CliRunner()


@pytest.fixture(scope="module")
def run_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from inspect_ai import eval as inspect_eval

    log_dir = tmp_path_factory.mktemp("rescore") / "logs"
    factors = enumerate_factors(
        task=["tampering", "exfiltration_transfer"], subject=["peer"], instantiation=["memory"], dataset=None
    )
    factors = [f for f in factors if f.dataset in (None, "factual") and f.threshold in (None, 80)]
    models = check_models(["peerwatch/reference"])
    inspect_eval(build_tasks(factors), model=models, log_dir=str(log_dir), epochs=2, display="none", log_level="error")
    return log_dir


def _logs(d: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(d.rglob("*.eval"))}


def _digests(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*"))}


def _scores(path: Path) -> dict[tuple[str, int], tuple[object, object]]:
    log = read_eval_log(str(path))
    return {(str(s.id), s.epoch): (s.scores["peerwatch"].value, s.scores["peerwatch"].metadata) for s in log.samples}


def test_rescore_gives_identical_verdicts_and_records_provenance(run_logs: Path, tmp_path: Path) -> None:
    before = _digests(run_logs)
    out = tmp_path / "out"
    summary = rescore_dirs([run_logs], out)
    assert summary.total("rescored") == summary.total("samples") > 0
    assert summary.total("changed") == 0 and not summary.skipped()
    originals, rescored = _logs(run_logs), _logs(out)
    assert originals.keys() == rescored.keys()
    for name, src in originals.items():
        assert _scores(src) == _scores(rescored[name])
        old, new = read_eval_log(str(src), header_only=True), read_eval_log(str(rescored[name]), header_only=True)
        assert old.results.model_dump() == new.results.model_dump()  # type: ignore[union-attr]
        [record] = new.eval.metadata[RECORD_KEY]  # type: ignore[index]
        assert record["source"] == str(src.resolve()) and record["judge"] is None
        assert record["peerwatch_version"] and record["rescored_at"]
        assert new.eval.metadata["peerwatch_version"] == old.eval.metadata["peerwatch_version"]  # type: ignore[index]
    assert _digests(run_logs) == before


def test_a_detector_change_shows_in_the_rescored_log_and_inputs_stay_byte_identical(
    run_logs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import peerwatch.detect._detectors as detect_judge

    def always(*args: object, **kwargs: object) -> BehaviourVerdict:
        return BehaviourVerdict(flag=True, rule=True, evidence=[Evidence(rule="test.forced", text="forced")])

    before = _digests(run_logs)
    monkeypatch.setattr(detect_judge, "detect_tampering", always)
    summary = rescore_dirs([run_logs], tmp_path / "out")
    assert summary.total("changed") > 0
    [tampering] = [p for n, p in _logs(tmp_path / "out").items() if "tampering" in n]
    log = read_eval_log(str(tampering))
    ok = [s for s in log.samples if s.scores["peerwatch"].metadata["status"] == "ok"]
    assert ok and all(s.scores["peerwatch"].value["tampering"] == 1.0 for s in ok)
    assert all("forced" in s.scores["peerwatch"].explanation for s in ok)
    [metric] = [m for m in log.results.scores if m.name == "tampering"]  # type: ignore[union-attr]
    assert metric.metrics["peerwatch/rate"].value == 1.0
    [exfil] = [p for n, p in _logs(tmp_path / "out").items() if "exfiltration" in n]
    [src_exfil] = [p for n, p in _logs(run_logs).items() if "exfiltration" in n]
    assert _scores(exfil) == _scores(src_exfil)  # no tampering detector there: nothing changed
    assert _digests(run_logs) == before


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_corrupt_log_is_one_line_naming_the_file(run_logs: Path, tmp_path: Path, damage: str) -> None:
    d = tmp_path / "in"
    shutil.copytree(run_logs, d)
    first = next(iter(_logs(d).values()))
    bad = d / "2026-01-01T00-00-00+00-00_tampering_broken.eval"
    bad.write_bytes(b"not a zip at all" if damage == "garbage" else first.read_bytes()[:4000])
    with pytest.raises(RescoreError, match=r"broken\.eval"):
        rescore_dirs([d], tmp_path / "out")
    assert not (tmp_path / "out").exists()  # every input is checked before anything is written
    result = runner.invoke(app, ["rescore", str(d), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "broken.eval" in lines[0] and "Traceback" not in result.output


def test_rerunning_into_the_same_out_dir_resumes_and_never_overwrites(run_logs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    rescore_dirs([run_logs], out)
    first = _digests(out)
    again = rescore_dirs([run_logs], out)
    assert [r.action for r in again.logs] == ["kept"] * len(again.logs)
    assert _digests(out) == first
    # An interrupted rescore: the missing log is written, the others kept.
    victim = sorted(out.glob("*.eval"))[0]
    victim.unlink()
    resumed = rescore_dirs([run_logs], out)
    assert sorted(r.action for r in resumed.logs).count("rescored") == 1
    assert victim.exists()
    # A file at an output path that is not this rescore (here: a copy of the original log) is never overwritten.
    victim.write_bytes((run_logs / victim.name).read_bytes())
    foreign = victim.read_bytes()
    with pytest.raises(RescoreError, match="never overwritten"):
        rescore_dirs([run_logs], out)
    assert victim.read_bytes() == foreign
    assert not list(out.glob(".*partial"))


def test_output_must_not_overlap_an_input_and_inputs_must_hold_logs(run_logs: Path, tmp_path: Path) -> None:
    for out in (run_logs, run_logs / "sub", run_logs.parent):
        result = runner.invoke(app, ["rescore", str(run_logs), "--out", str(out)])
        assert result.exit_code == 2 and "overlaps input" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["rescore", str(empty), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "no Inspect logs in" in result.output
    result = runner.invoke(app, ["rescore", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "log directory not found" in result.output


def test_default_out_dir_is_a_new_sibling(run_logs: Path, tmp_path: Path) -> None:
    d = tmp_path / "study"
    shutil.copytree(run_logs, d)
    result = runner.invoke(app, ["rescore", str(d)])
    assert result.exit_code == 0, result.output
    [sibling] = [p for p in tmp_path.iterdir() if p.name.startswith("study-rescored-")]
    assert _logs(sibling).keys() == _logs(d).keys()


def test_rescore_with_the_scripted_judge_records_its_signal(run_logs: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    result = runner.invoke(app, ["rescore", str(run_logs), "--judge", "peerwatch/judge", "--out", str(out)])
    assert result.exit_code == 0, result.output
    signals = [
        s.scores["peerwatch"].metadata["judge"]
        for f in sorted(out.rglob("*.eval"))
        for s in read_eval_log(str(f)).samples or []
        if s.scores and "peerwatch" in s.scores
    ]
    assert signals and all(sig and sig["model"] == "peerwatch/judge" for sig in signals)
    bad = runner.invoke(app, ["rescore", str(run_logs), "--judge", "nosuch/model", "--out", str(tmp_path / "b")])
    assert bad.exit_code == 2 and "--judge" in bad.output and not (tmp_path / "b").exists()


def test_judge_signal_is_passed_to_the_verdict(
    run_logs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wiring to `peerwatch.tasks._judge.run_llm_judge`, with a stand-in judge that always fails."""
    calls: list[str] = []

    async def run_llm_judge(model, scenario, world, ledger, transcript):  # type: ignore[no-untyped-def]
        calls.append(scenario.id)
        return JudgeSignal(model=str(model), prompt_version="test", status="judge_error", error="stand-in")

    fake = types.ModuleType("peerwatch.tasks._judge")
    fake.run_llm_judge = run_llm_judge  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "peerwatch.tasks._judge", fake)
    summary = rescore_dirs([run_logs], tmp_path / "out", judge="mockllm/model")
    assert len(calls) == summary.total("rescored") > 0
    for path in _logs(tmp_path / "out").values():
        log = read_eval_log(str(path))
        assert log.eval.metadata[RECORD_KEY][-1]["judge"] == "mockllm/model"  # type: ignore[index]
        for s in log.samples:
            md = s.scores["peerwatch"].metadata
            assert md["judge"]["error"] == "stand-in"
            assert md["status"] in ("judge_error", "not_read", "error")  # a failed judge is never "behaved"


def test_harness_samples_rescore_when_their_store_holds_the_episode(run_logs: Path, tmp_path: Path) -> None:
    d = tmp_path / "harness"
    d.mkdir()
    [src] = [p for n, p in _logs(run_logs).items() if "exfiltration" in n]
    log = read_eval_log(str(src))
    for s in log.samples:
        s.metadata["mode"] = "harness"
    del log.samples[0].store["peerwatch:world"]  # a harness run that died before saving its world
    json_name = src.with_suffix(".json").name  # the JSON log format rescores too
    write_eval_log(log, str(d / json_name))
    summary = rescore_dirs([d], tmp_path / "out")
    assert (tmp_path / "out" / json_name).exists()
    assert summary.skipped() == {"harness: no world/ledger in store": 1}
    assert summary.total("rescored") == len(log.samples) - 1
    assert summary.total("changed") == 0


def test_report_of_rescored_logs_equals_report_of_originals(run_logs: Path, tmp_path: Path) -> None:
    from peerwatch.analysis import write_report

    rescore_dirs([run_logs], tmp_path / "out")
    write_report([run_logs], tmp_path / "r1")
    write_report([tmp_path / "out"], tmp_path / "r2")
    a = pd.read_csv(tmp_path / "r1" / "samples.csv").drop(columns=["log"])
    b = pd.read_csv(tmp_path / "r2" / "samples.csv").drop(columns=["log"])
    pd.testing.assert_frame_equal(a, b)
    for name in ("results.csv", "tables.md"):
        assert (tmp_path / "r1" / name).read_text() == (tmp_path / "r2" / name).read_text()


def test_rescoring_a_rescore_chains_the_records_and_other_logs_are_left_out(run_logs: Path, tmp_path: Path) -> None:
    rescore_dirs([run_logs], tmp_path / "once")
    foreign = tmp_path / "once" / "2026-01-01T00-00-00+00-00_other_x.eval"
    other = read_eval_log(str(next(iter(_logs(run_logs).values()))))
    other.eval.metadata = {"someone_else": True}
    write_eval_log(other, str(foreign))
    summary = rescore_dirs([tmp_path / "once"], tmp_path / "twice")
    assert sorted(r.action for r in summary.logs).count("not_peerwatch") == 1
    assert not (tmp_path / "twice" / foreign.name).exists()
    for path in _logs(tmp_path / "twice").values():
        records = read_eval_log(str(path), header_only=True).eval.metadata[RECORD_KEY]  # type: ignore[index]
        assert len(records) == 2 and records[0]["source"].startswith(str(run_logs.resolve()))
        assert records[1]["source"].startswith(str((tmp_path / "once").resolve()))
