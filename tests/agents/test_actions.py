"""Action scripts: parsing, clear errors, and playing them through the tool layer."""

from __future__ import annotations

from pathlib import Path

import pytest

from peerwatch.agents import SayAction, ScriptError, ToolAction, load_action_script


def test_yaml_and_json_scripts_load(tmp_path: Path) -> None:
    y = tmp_path / "s.yaml"
    y.write_text("- tool: list_files\n- tool: view_sheet\n  args: {sheet_name: Evaluation data}\n- say: done\n")
    j = tmp_path / "s.json"
    j.write_text('[{"tool": "list_files"}, {"say": "done"}]')
    assert load_action_script(y) == [
        ToolAction(tool="list_files"),
        ToolAction(tool="view_sheet", args={"sheet_name": "Evaluation data"}),
        SayAction(say="done"),
    ]
    assert load_action_script(j)[-1] == SayAction(say="done")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("tool: x", "must be a list"),
        ("- 3", "step 1 must be a mapping"),
        ("- {tool: a, say: b}", "both"),
        ("- {args: {}}", "needs `tool`"),
        ("- {tool: a, args: [1]}", "step 1"),
        ("- [unclosed", "not valid YAML"),
    ],
)
def test_malformed_scripts_give_one_line_errors(tmp_path: Path, text: str, needle: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(ScriptError) as info:
        load_action_script(p)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="cannot read"):
        load_action_script(tmp_path / "nope.yaml")
