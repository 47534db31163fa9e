"""A script is code: bad structure, a misspelt tool or a step the scenario cannot offer stops it with the step named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from peerwatch.agents import ScriptError, ToolAction, check_action_script, load_action_script
from peerwatch.cli import app
from peerwatch.scenarios import build_scenario, factors_from

runner = CliRunner()
FINANCE = ["--task", "misrep_finance", "--subject", "peer", "--condition", "good_peer", "--instantiation", "file_only"]
TRANSFER = ["--task", "exfiltration_transfer", "--subject", "peer", "--condition", "good_peer"]


def _script(tmp_path: Path, steps: object, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(steps) if name.endswith(".json") else _yaml(steps))
    return p


def _yaml(steps: object) -> str:
    import yaml

    return yaml.safe_dump(steps)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "is empty"),
        ("# only a comment\n", "is empty"),
        ("- {tool: list_files, args: [a, b]}", "step 1 (tool 'list_files'): `args` must be a mapping"),
        ("- {tool: list_files, args: just text}", "step 1 (tool 'list_files'): `args` must be a mapping"),
        ("- {tool: list_files}\n- {tool: end_task, say: bye}", "step 2 has both `tool` and `say`"),
        ("- {tool: list_files, arg: {x: 1}}", "step 1 (tool 'list_files'): unexpected key 'arg'"),
        ("- {say: hi, tone: calm}", "step 1: unexpected key 'tone'"),
        ("- {tool: 5}", "step 1: `tool` must be a tool name, got 5"),
        ("- {tool: ''}", "step 1: `tool` must be a tool name"),
        ("- {tool: null}", "step 1: `tool` must be a tool name"),
        ("- {say: 42}", "step 1: `say` must be text, got 42"),
        ("- {tool: list_files, args: {1: x}}", "step 1 (tool 'list_files'): `args`"),
        ("- {args: {a: 1}}", "step 1 needs `tool`"),
        ("- list_files", "step 1 must be a mapping"),
        ("{tool: list_files}", "must be a list of steps"),
    ],
)
def test_structure_errors_are_one_line_and_name_the_step(tmp_path: Path, text: str, needle: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(ScriptError) as info:
        load_action_script(p)
    message = str(info.value)
    assert needle in message and "\n" not in message and message.startswith(str(p))


def test_null_args_mean_no_args(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text("- {tool: list_files, args: null}\n")
    assert load_action_script(p) == [ToolAction(tool="list_files")]


def test_unknown_and_unoffered_tools() -> None:
    scenario = build_scenario(factors_from(task="misrep_finance", subject="peer", condition="good_peer",
                                           instantiation="file_only"))  # fmt: skip
    with pytest.raises(ScriptError, match=r"step 2 \(tool 'list_filez'\): unknown tool; did you mean 'list_files'"):
        check_action_script([ToolAction(tool="list_files"), ToolAction(tool="list_filez")], scenario.tools, "s")
    with pytest.raises(ScriptError, match=r"step 1 \(tool 'transfer_server_files'\): not offered in scenario misrep"):
        check_action_script([ToolAction(tool="transfer_server_files")], scenario.tools, "s", where=scenario.id)
    with pytest.raises(ScriptError, match="needs a client with a shell"):  # only where a shell is offered
        check_action_script([ToolAction(tool="shell", args={"command": "ls"})], None, "s")
    check_action_script([ToolAction(tool="shell", args={"command": "ls"})], scenario.tools, "s", shell=True)


@pytest.mark.parametrize(
    ("steps", "args", "needle"),
    [
        ([{"tool": "list_files"}, {"tool": "veiw_sheet"}], FINANCE, "step 2 (tool 'veiw_sheet'): unknown tool"),
        (
            [{"tool": "list_files"}, {"tool": "transfer_server_files", "args": {"filenames": ["a"]}}],
            FINANCE,
            "step 2 (tool 'transfer_server_files'): not offered in scenario misrep_finance",
        ),
        ([{"tool": "retrieve_memory"}], [*TRANSFER, "--instantiation", "file_only"], "(tool 'retrieve_memory')"),
    ],
)
def test_replay_refuses_a_step_the_scenario_cannot_offer(
    tmp_path: Path, steps: list[dict[str, object]], args: list[str], needle: str
) -> None:
    script = _script(tmp_path, steps)
    result = runner.invoke(app, ["replay", str(script), *args])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0] and str(script) in lines[0], result.output


def test_garbage_argument_values_stay_recorded_tool_errors(tmp_path: Path) -> None:
    script = _script(
        tmp_path,
        [{"tool": "list_server_files", "args": {"ip": 12, "bogus": [1]}}, {"tool": "end_task"}],
        "s.json",
    )
    result = runner.invoke(app, ["replay", str(script), *TRANSFER, "--instantiation", "file_only", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "not_read"


def test_serve_model_checks_the_script_before_serving(tmp_path: Path) -> None:
    typo = _script(tmp_path, [{"tool": "list_server_filess"}])
    result = runner.invoke(app, ["serve-model", "--script", str(typo)])
    assert result.exit_code == 2 and "step 1 (tool 'list_server_filess'): unknown tool" in result.output
    off = _script(tmp_path, [{"tool": "view_sheet", "args": {"sheet_name": "x"}}], "off.yaml")
    config = "exfiltration_transfer/peer/good_peer/memory"
    result = runner.invoke(app, ["serve-model", "--script", str(off), "-c", config])
    assert result.exit_code == 2 and "step 1 (tool 'view_sheet'): not offered" in " ".join(result.output.split())


def test_replay_model_fails_before_samples_on_a_typo(tmp_path: Path) -> None:
    from peerwatch.tasks._run import ModelCheckError, check_models

    typo = _script(tmp_path, [{"tool": "list_files"}, {"tool": "end_tsk"}])
    with pytest.raises(ModelCheckError, match=r"step 2 \(tool 'end_tsk'\): unknown tool; did you mean 'end_task'"):
        check_models(["peerwatch/replay"], {"script": str(typo)})


def test_replay_model_step_not_offered_is_a_sample_error_naming_it(tmp_path: Path) -> None:
    from inspect_ai import eval as inspect_eval

    from peerwatch.scenarios import enumerate_factors
    from peerwatch.tasks import study_task
    from peerwatch.tasks._persona_model import check_replay_scripts
    from peerwatch.tasks._run import check_models

    script = _script(tmp_path, [{"tool": "list_files"}, {"tool": "transfer_server_files"}, {"say": "done"}])
    [model] = check_models(["peerwatch/replay"], {"script": str(script)})
    factors = enumerate_factors(task=["misrep_finance"], subject=["peer"], condition=["good_peer"],
                                instantiation=["file_only"])  # fmt: skip
    with pytest.raises(ScriptError, match=r"step 2 \(tool 'transfer_server_files'\): not offered"):
        check_replay_scripts([model], factors)  # what the harness command runs before any sample
    task = study_task("misrep_finance", factors=factors)
    [log] = inspect_eval(task, model=model, log_dir=str(tmp_path / "logs"), display="none", log_level="error")
    [sample] = log.samples or []
    assert sample.error is not None
    assert "step 2 (tool 'transfer_server_files'): not offered" in sample.error.message
    assert not any(m.role == "tool" for m in sample.messages)  # stopped before it played a single step
