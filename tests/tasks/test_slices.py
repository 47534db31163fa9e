"""Slices into one log dir: a plan that overlaps tasks already there runs only what none of them holds and merges.

The union of slices run before, the same union again (a no-op), a slice killed mid-run then the union, a plan that
only partly overlaps an earlier slice, several earlier slices, shards and workers over a union, other epochs. After
each, the logs hold every planned (model, configuration, epoch) exactly once.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from inspect_ai.log import list_eval_logs, read_eval_log, read_eval_log_sample_summaries, write_eval_log
from typer.testing import CliRunner

from peerwatch.cli import app
from peerwatch.tasks import Selection, planned_factors

runner = CliRunner()
MODEL = "peerwatch/reference"
# Three configurations per condition (one per dataset): small slices that still differ.
BASE = ["-t", "tampering", "--subject", "peer", "--instantiation", "file_only"]


def _cond(*conditions: str) -> list[str]:
    return [a for c in conditions for a in ("--condition", c)]


def _run(log_dir: Path, *conditions: str, epochs: int = 1, workers: int = 1, extra: tuple[str, ...] = ()):
    args = ["run", "-m", MODEL, *BASE, *_cond(*conditions), "--epochs", str(epochs), "--workers", str(workers)]
    return runner.invoke(app, [*args, *extra, "--log-dir", str(log_dir)])


def _planned(*conditions: str, epochs: int = 1) -> Counter:
    sel = Selection(task=["tampering"], subject=["peer"], instantiation=["file_only"], condition=list(conditions))
    return Counter((MODEL, f.config_id, e) for f in planned_factors(sel) for e in range(1, epochs + 1))


def _tally(log_dir: Path) -> Counter:
    """Every (model, configuration, epoch) the logs under `log_dir` hold, counted once per log holding it."""
    out: Counter = Counter()
    for info in list_eval_logs(str(log_dir), recursive=True):
        model = read_eval_log(info, header_only=True).eval.model
        out.update((model, str(s.id), s.epoch) for s in read_eval_log_sample_summaries(info))
    return out


def _files(log_dir: Path) -> dict[Path, float]:
    return {p: p.stat().st_mtime for p in log_dir.rglob("*.eval")}


def _kill(log_dir: Path, keep: int) -> None:
    """Make the newest log look like a run killed mid-way: `started`, only its first `keep` samples written."""
    info = max(list_eval_logs(str(log_dir), recursive=True), key=lambda i: i.mtime or 0)
    log = read_eval_log(info)
    log = log.model_copy(update={"status": "started", "results": None, "stats": log.stats,
                                 "samples": (log.samples or [])[:keep], "reductions": None})  # fmt: skip
    write_eval_log(log, info.name.removeprefix("file://"))
    with zipfile.ZipFile(info.name.removeprefix("file://")) as z:
        assert sum(n.startswith("samples/") for n in z.namelist()) == keep


def _ok(result) -> str:
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_the_union_after_a_slice_runs_only_the_rest_then_again_nothing(tmp_path: Path) -> None:
    _ok(_run(tmp_path, "good_peer"))
    out = _ok(_run(tmp_path, "good_peer", "neutral_peer"))
    assert _tally(tmp_path) == _planned("good_peer", "neutral_peer")  # every sample once
    assert "hold 3 of the 6 planned" in out and "3 samples are new" in out, out
    assert "samples: 3 run now" in out, out
    files = _files(tmp_path)
    again = _ok(_run(tmp_path, "good_peer", "neutral_peer"))  # the same plan: every task is done
    assert _files(tmp_path) == files, "the same union again wrote logs"
    assert "samples: 0 run now" in again and "6 of 6 planned" in again, again
    assert "hold 6 of the 6 planned (model, configuration) pairs (6 samples)" in again and "0 samples are new" in again
    _ok(_run(tmp_path, "good_peer"))  # the first slice again: done too
    _ok(_run(tmp_path, "neutral_peer"))  # a slice of the union: held by the union's task
    assert _files(tmp_path) == files and _tally(tmp_path) == _planned("good_peer", "neutral_peer")


def test_a_killed_slice_is_completed_by_the_union_nothing_lost_nothing_twice(tmp_path: Path) -> None:
    _ok(_run(tmp_path, "good_peer"))
    _kill(tmp_path, keep=1)
    assert sum(_tally(tmp_path).values()) == 1
    out = _ok(_run(tmp_path, "good_peer", "neutral_peer"))
    assert _tally(tmp_path) == _planned("good_peer", "neutral_peer")
    assert "samples: 5 run now" in out, out  # the killed slice's two missing samples and the three new ones
    files = _files(tmp_path)
    _ok(_run(tmp_path, "good_peer", "neutral_peer"))
    assert _files(tmp_path) == files


def test_a_partial_overlap_runs_only_what_no_earlier_task_holds(tmp_path: Path) -> None:
    _ok(_run(tmp_path, "good_peer", "neutral_peer"))  # A + B
    out = _ok(_run(tmp_path, "neutral_peer", "bad_peer"))  # B + C: B is held by the earlier task
    assert _tally(tmp_path) == _planned("good_peer", "neutral_peer", "bad_peer")
    assert "samples: 3 run now" in out and "unfinished" not in out, out


def test_an_unfinished_partial_overlap_is_named_with_the_command_that_completes_it(tmp_path: Path) -> None:
    _ok(_run(tmp_path, "good_peer", "neutral_peer"))  # A + B, then killed
    _kill(tmp_path, keep=2)
    r = _run(tmp_path, "neutral_peer", "bad_peer")  # B + C: A's samples must not run here
    out = _ok(r)
    held = _planned("good_peer", "neutral_peer", "bad_peer")
    assert sum(_tally(tmp_path).values()) == 2 + 3 and not [k for k, n in _tally(tmp_path).items() if n > 1]
    assert all(k[1].split("/")[3] == "bad_peer" or k in held for k in _tally(tmp_path))
    assert "unfinished" in out and "--condition good_peer --condition neutral_peer" in out, out
    _ok(_run(tmp_path, "good_peer", "neutral_peer"))  # the command the line gave
    assert _tally(tmp_path) == held


def test_several_earlier_slices_then_a_union_of_all(tmp_path: Path) -> None:
    _ok(_run(tmp_path, "good_peer"))
    _ok(_run(tmp_path, "neutral_peer"))
    out = _ok(_run(tmp_path, "good_peer", "neutral_peer", "bad_peer"))
    assert _tally(tmp_path) == _planned("good_peer", "neutral_peer", "bad_peer") and "samples: 3 run now" in out
    files = _files(tmp_path)
    _ok(_run(tmp_path, "good_peer", "neutral_peer", "bad_peer"))
    assert _files(tmp_path) == files


def test_shards_of_a_union_partition_the_same_remaining_plan(tmp_path: Path) -> None:
    _ok(_run(tmp_path, "good_peer"))
    for i in (1, 2):  # two machines, one shard each, of the union
        _ok(_run(tmp_path, "good_peer", "neutral_peer", extra=("--shard", f"{i}/2")))
    assert _tally(tmp_path) == _planned("good_peer", "neutral_peer")
    files = _files(tmp_path)
    for i in (1, 2):
        _ok(_run(tmp_path, "good_peer", "neutral_peer", extra=("--shard", f"{i}/2")))
    assert _files(tmp_path) == files


def test_workers_over_a_union_after_a_sliced_worker_run(tmp_path: Path) -> None:
    _ok(_run(tmp_path, "good_peer", workers=2))
    out = _ok(_run(tmp_path, "good_peer", "neutral_peer", "bad_peer", workers=2))
    assert _tally(tmp_path) == _planned("good_peer", "neutral_peer", "bad_peer")
    assert "samples: 6 run now" in out, out
    files = _files(tmp_path)
    _ok(_run(tmp_path, "good_peer", "neutral_peer", "bad_peer", workers=2))
    assert _files(tmp_path) == files


def test_other_epochs_for_configurations_already_run_is_one_line(tmp_path: Path) -> None:
    _ok(_run(tmp_path, "good_peer"))
    files = _files(tmp_path)
    r = _run(tmp_path, "good_peer", "neutral_peer", epochs=2)
    assert r.exit_code == 2 and "--epochs 1" in r.output and len(r.output.strip().splitlines()) == 1, r.output
    assert _files(tmp_path) == files


def test_a_second_slice_summary_counts_this_run_and_labels_the_dir_total(tmp_path: Path) -> None:
    _ok(_run(tmp_path, "good_peer", workers=2))
    out = _ok(_run(tmp_path, "neutral_peer", workers=2))
    assert "samples: 3 run now, 3 of 3 planned" in out, out
    assert "log dir: 6 samples" in out, out


@pytest.mark.parametrize("conditions", [("good_peer",), ("good_peer", "neutral_peer")])
def test_two_models_where_one_ran_a_slice_before(tmp_path: Path, conditions: tuple[str, ...]) -> None:
    _ok(_run(tmp_path, "good_peer"))
    args = ["run", "-m", MODEL, "-m", "peerwatch/honest", *BASE, *_cond(*conditions), "--epochs", "1"]
    _ok(runner.invoke(app, [*args, "--workers", "1", "--log-dir", str(tmp_path)]))
    both = _planned(*conditions)
    both += Counter(("peerwatch/honest", c, e) for _, c, e in _planned(*conditions))
    assert _tally(tmp_path) == both  # the reference model's earlier slice is not run again, honest runs it all


@pytest.mark.timeout(600)
@pytest.mark.parametrize("provider", [{"fault_rate": 0.0, "latency": 0.15, "jitter": 0.1}], indirect=True)
def test_a_slice_killed_with_9_then_the_union_gives_the_planned_set(provider, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.kill_between_flushes import kill_between_flushes

    env = dict(os.environ, FAULTY_BASE_URL=provider.base_url, FAULTY_API_KEY="test")
    model = "openai-api/faulty/faulty"

    def cmd(*conditions: str) -> list[str]:
        return [sys.executable, "-m", "peerwatch.cli", "run", "-m", model, *BASE, *_cond(*conditions),
                "--epochs", "3", "--timeout", "5", "--workers", "1", "--max-connections", "2", "--log-buffer", "2",
                "--log-dir", str(tmp_path)]  # fmt: skip

    proc = subprocess.Popen(cmd("good_peer"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    kill = kill_between_flushes(proc, tmp_path, 9, at_least=2)
    assert not kill.finished_before and 1 <= len(kill.written) < 9, kill
    union = subprocess.run(cmd("good_peer", "neutral_peer"), env=env, capture_output=True, text=True, timeout=500)
    assert union.returncode == 0, union.stdout[-2000:] + union.stderr[-2000:]
    got = _tally(tmp_path)
    want = _planned("good_peer", "neutral_peer", epochs=3)
    assert sorted((c, e) for _, c, e in got.elements()) == sorted((c, e) for _, c, e in want.elements())  # once each
    out = " ".join(union.stdout.split())
    run_now = int(re.search(r"samples: (\d+) run now, 18 of 18 planned", out).group(1))  # type: ignore[union-attr]
    assert 9 <= run_now <= 18 - len(kill.written), (run_now, len(kill.written))  # what the logs held was kept


def test_a_limited_slice_then_the_whole_selection(tmp_path: Path) -> None:
    _ok(_run(tmp_path, "good_peer", extra=("--limit", "2")))
    out = _ok(_run(tmp_path, "good_peer", "neutral_peer"))
    assert _tally(tmp_path) == _planned("good_peer", "neutral_peer") and "samples: 4 run now" in out, out


def test_an_unfinished_slice_outside_this_runs_eval_sets_is_named_and_its_command_completes_it(tmp_path: Path) -> None:
    _ok(_run(tmp_path, "good_peer"))  # in the log dir itself, then killed
    _kill(tmp_path, keep=1)
    out = _ok(_run(tmp_path, "good_peer", "neutral_peer", workers=2))  # two shard dirs: not the killed slice's
    assert "unfinished" in out, out
    assert sum(_tally(tmp_path).values()) == 1 + 3 and max(_tally(tmp_path).values()) == 1
    command = re.search(r"To complete it: peerwatch (run .*?) --log-dir", out).group(1)  # type: ignore[union-attr]
    _ok(runner.invoke(app, [*command.split(), "--log-dir", str(tmp_path)]))
    assert _tally(tmp_path) == _planned("good_peer", "neutral_peer")


def test_another_message_limit_for_a_slice_it_would_resume_is_one_line(tmp_path: Path) -> None:
    _ok(_run(tmp_path, "good_peer", extra=("--message-limit", "40")))
    files = _files(tmp_path)
    for conditions in (("good_peer",), ("good_peer", "neutral_peer")):  # the same slice, and a union holding it
        r = _run(tmp_path, *conditions)
        assert r.exit_code == 2 and "--message-limit 40, not none" in r.output, r.output
        assert len(r.output.strip().splitlines()) == 1, r.output  # before the plan is printed: one line
    assert _files(tmp_path) == files
    _ok(_run(tmp_path, "good_peer", "neutral_peer", extra=("--message-limit", "40")))
    assert _tally(tmp_path) == _planned("good_peer", "neutral_peer")


def test_another_judge_for_a_slice_it_would_resume_is_one_line(tmp_path: Path) -> None:
    _ok(_run(tmp_path, "good_peer", extra=("--judge", "peerwatch/judge")))
    files = _files(tmp_path)
    r = _run(tmp_path, "good_peer", "neutral_peer")
    assert r.exit_code == 2 and "--judge peerwatch/judge, not (none)" in r.output, r.output
    assert len(r.output.strip().splitlines()) == 1 and _files(tmp_path) == files, r.output
    _ok(_run(tmp_path, "good_peer", "neutral_peer", extra=("--judge", "peerwatch/judge")))
    assert _tally(tmp_path) == _planned("good_peer", "neutral_peer")
