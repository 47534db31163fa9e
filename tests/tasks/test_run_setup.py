"""Run set-up the CLI calls: the guard's policy value and locations, executor checks, pre-run checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from peerwatch.tasks import (
    ExecutorError,
    ModelCheckError,
    PlanError,
    check_executor,
    check_run_setup,
    guard_paths,
)
from peerwatch.tasks._guard import policy_file


@pytest.mark.parametrize("value", [None, "", "default"])
def test_default_guard_is_the_builtin_policy(value: str | None) -> None:
    assert policy_file(value) is None


def test_a_policy_file_is_kept_as_given() -> None:
    assert policy_file("my.yaml") == "my.yaml"
    assert policy_file(Path("p/default")) == Path("p/default")  # only the bare word names the built-in


def test_guard_paths_default_beside_the_logs_and_keep_what_is_given() -> None:
    assert guard_paths("logs/x", None, None) == ("logs/x/audit.sqlite", "file:logs/x/approvals")
    assert guard_paths("logs/x", "a.sqlite", "none") == ("a.sqlite", "none")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"guard": True}, "--guard runs on one machine"),
        ({"models": ["openai/gpt-4.1", "local/smollm2"]}, "local/ models are served on this machine"),
    ],
)
def test_executor_refuses_what_only_one_machine_can_do(kwargs: dict, message: str) -> None:
    with pytest.raises(ExecutorError, match=message):
        check_executor("dask-local", None, None, None, **kwargs)


def test_executor_option_errors_come_before_the_run_checks() -> None:
    with pytest.raises(ExecutorError, match="--executor dask needs --scheduler"):
        check_executor("dask", None, None, None, guard=True, models=["local/smollm2"])


def test_run_setup_refuses_a_foreign_log_dir_and_a_missing_model(tmp_path: Path) -> None:
    (tmp_path / "notes.eval").write_text("not a log", encoding="utf-8")
    with pytest.raises(PlanError):
        check_run_setup(str(tmp_path), ["peerwatch/reference"])
    with pytest.raises(ModelCheckError, match="no model given"):
        check_run_setup(str(tmp_path / "fresh"), [])


def test_run_setup_checks_every_worker_shard_dir(tmp_path: Path) -> None:
    shard = tmp_path / "shard-2-of-2"
    shard.mkdir()
    (shard / "x.eval").write_text("junk", encoding="utf-8")
    with pytest.raises(PlanError, match="shard-2-of-2"):
        check_run_setup(str(tmp_path), ["peerwatch/reference"], workers=2)
    [model] = check_run_setup(str(tmp_path / "ok"), ["peerwatch/reference"], workers=2)
    assert str(model) == "peerwatch/reference"


def test_one_key_value_parser_for_judge_and_model_arguments() -> None:
    from peerwatch.tasks import parse_model_args, split_key_values

    assert split_key_values(["a=1", " b =x=y", "a=2", "c="], "--judge-arg") == {"a": "2", "b": "x=y", "c": ""}
    assert parse_model_args(["n=3", "flag=true", "path=a/b", "empty=", "list=[1, 2]"]) == {
        "n": 3, "flag": True, "path": "a/b", "empty": "", "list": "[1, 2]",
    }  # fmt: skip
    for bad in ("novalue", "=v", " =v"):
        with pytest.raises(ModelCheckError, match=f"--judge-arg takes KEY=VALUE, got '{bad}'"):
            split_key_values([bad], "--judge-arg")
        with pytest.raises(ModelCheckError, match="--model-arg takes KEY=VALUE"):
            parse_model_args([bad])


def test_a_local_model_runs_one_short_sample_at_a_time() -> None:
    from peerwatch.tasks import run_limits

    assert run_limits(False, 7, None) == {"max_connections": 7, "max_tasks": None, "message_limit": None,
                                          "max_tokens": None}  # fmt: skip
    local = run_limits(True, 7, None)
    assert local["max_connections"] == 1 and local["max_tasks"] == 1 and local["message_limit"] == 20
    assert run_limits(True, None, 50)["message_limit"] == 50  # an explicit --message-limit wins
