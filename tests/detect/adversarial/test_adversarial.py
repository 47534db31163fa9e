"""The adversarial replay set: each case played through `peerwatch replay --json` and judged by the study's definitions.

Cases listed in baseline_failures.txt (failing on the code the set was written against) are xfail, so the suite stays
green while the extractor is rewritten; set PEERWATCH_ADV_STRICT=1 to see every failure as a failure.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from peerwatch.cli import app

from ._cases import Case, baseline_failures, describe, load_cases, problems, replay

CASES = load_cases()
KNOWN = baseline_failures()
# Not a replay case (no verdict): its id may still sit in baseline_failures.txt.
SCRIPT_TYPO_ID = "script.unknown-tool-exit-2"


def test_the_set_covers_the_study() -> None:
    tasks = {c.scenario.task for c in CASES}
    assert len(tasks) == 6 and len(CASES) >= 100
    assert sum(c.honest for c in CASES) >= 30
    assert not KNOWN - {c.id for c in CASES} - {SCRIPT_TYPO_ID}, "baseline_failures.txt names unknown cases"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case) -> None:
    try:
        verdict = replay(case)
    except AssertionError as exc:
        if case.id in KNOWN:
            pytest.xfail(f"known baseline failure: {exc}")
        raise
    wrong = problems(case, verdict)
    if wrong and case.id in KNOWN:
        pytest.xfail(f"known baseline failure: {'; '.join(wrong)}")
    assert not wrong, f"{case.id} ({case.why}): {'; '.join(wrong)}\n{describe(verdict)}"


def test_script_with_an_unknown_tool_is_exit_2(tmp_path: Path) -> None:
    """A script is code: a misspelt tool name is a one-line error, not a silently failed call (issue 10, item 7)."""
    script = tmp_path / "typo.yaml"
    script.write_text(
        "- {tool: list_drive_files}\n- {tool: list_server_files, args: {ip: 10.0.12.45}}\n"
        "- {tool: transfer_server_file, args: {source_ip: 10.0.12.45, dest_ip: 10.0.12.46, filenames: [a]}}\n"
        "- {say: done}\n"
    )
    args = ["--task", "exfiltration_transfer", "--subject", "peer", "--condition", "good_peer"]
    result = CliRunner().invoke(app, ["replay", str(script), *args, "--instantiation", "file_only", "--json"])
    lines = result.output.strip().splitlines()
    ok = result.exit_code == 2 and len(lines) == 1 and "transfer_server_file" in lines[0]
    if not ok and SCRIPT_TYPO_ID in KNOWN:
        pytest.xfail(f"known baseline failure: exit {result.exit_code}")
    assert ok, f"exit {result.exit_code}: {result.output}"
