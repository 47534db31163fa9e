"""Harness slices into one log dir: the same rule as `peerwatch run` (tests/tasks/test_slices.py), planned from the
harness logs there. Planned only (no episode runs; harness logs are made from a simulated run's header)."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai.log import list_eval_logs, read_eval_log, write_eval_log
from inspect_ai.model import get_model
from typer.testing import CliRunner

from peerwatch.cli import app
from peerwatch.tasks import PlanError
from peerwatch.tasks._harness_plan import plan_harness

GOOD, NEUTRAL, BAD = (f"exfiltration_transfer/peer/{c}/memory" for c in ("good_peer", "neutral_peer", "bad_peer"))
MODEL = "peerwatch/honest"


@pytest.fixture(scope="module")
def header(tmp_path_factory: pytest.TempPathFactory):
    logs = tmp_path_factory.mktemp("simulated")
    args = ["run", "-m", MODEL, "-t", "exfiltration_transfer", "--limit", "1", "--epochs", "1", "--workers", "1"]
    r = CliRunner().invoke(app, [*args, "--log-dir", str(logs)])
    assert r.exit_code == 0, r.output
    [info] = list_eval_logs(str(logs))
    return read_eval_log(info, header_only=True)


def _own(log_dir: Path, configs: list[str]) -> dict:
    return {"agent": "shell", "config": configs, "agent_timeout": 600, "instruction_file": None, "keep": False,
            "family": None, "hide": [str(log_dir.resolve())]}  # fmt: skip


def _held(header, log_dir: Path, configs: list[str], status: str = "success", epochs: int = 1, n: int = 0) -> None:
    ev = header.eval.model_copy(deep=True)
    ev.task, ev.task_registry_name, ev.task_args_passed = "harness", "peerwatch/harness", _own(log_dir, configs)
    ev.dataset.sample_ids, ev.config.epochs, ev.model = list(configs), epochs, MODEL
    ev.task_id, ev.eval_id, ev.run_id = f"task{n}", f"eval{n}", f"run{n}"  # each log a task of its own
    log = header.model_copy(update={"eval": ev, "status": status})
    write_eval_log(log, str(log_dir / f"2026-01-0{n + 1}T00-00-00-00-00_harness_{n}.eval"))


def _configs(tasks) -> list[list[str]]:
    return sorted([str(s.id) for s in t.dataset] for t in tasks)


def test_a_harness_union_runs_only_the_rest_and_again_nothing(header, tmp_path: Path) -> None:
    models = [get_model(MODEL)]
    tasks, notes = plan_harness(str(tmp_path), _own(tmp_path, [GOOD, NEUTRAL]), [GOOD, NEUTRAL], models, 1)
    assert _configs(tasks) == [[GOOD, NEUTRAL]] and not notes  # an empty dir: the plan as one task
    _held(header, tmp_path, [GOOD])
    tasks, notes = plan_harness(str(tmp_path), _own(tmp_path, [GOOD, NEUTRAL]), [GOOD, NEUTRAL], models, 1)
    assert _configs(tasks) == [[GOOD], [NEUTRAL]] and not notes  # the earlier slice as it was, and the rest
    _held(header, tmp_path, [NEUTRAL], n=1)  # the union's new task, once it ran
    tasks, _ = plan_harness(str(tmp_path), _own(tmp_path, [GOOD, NEUTRAL]), [GOOD, NEUTRAL], models, 1)
    assert _configs(tasks) == [[GOOD], [NEUTRAL]]  # both done: no new task, the same command is a no-op


def test_a_partial_harness_overlap_keeps_its_part_and_names_an_unfinished_one(header, tmp_path: Path) -> None:
    models = [get_model(MODEL)]
    _held(header, tmp_path, [GOOD, NEUTRAL], status="started")
    tasks, notes = plan_harness(str(tmp_path), _own(tmp_path, [NEUTRAL, BAD]), [NEUTRAL, BAD], models, 1)
    assert _configs(tasks) == [[BAD]]
    [note] = notes
    assert "unfinished" in note and f"-c {GOOD} -c {NEUTRAL}" in note


def test_other_harness_epochs_for_held_configurations_are_one_line(header, tmp_path: Path) -> None:
    _held(header, tmp_path, [GOOD])
    with pytest.raises(PlanError, match="--epochs 1, not 2"):
        plan_harness(str(tmp_path), _own(tmp_path, [GOOD, BAD]), [GOOD, BAD], [get_model(MODEL)], 2)
    other_agent = {**_own(tmp_path, [GOOD]), "agent": "opencode"}  # another agent's episodes are other samples
    tasks, _ = plan_harness(str(tmp_path), other_agent, [GOOD], [get_model(MODEL)], 2)
    assert _configs(tasks) == [[GOOD]]
