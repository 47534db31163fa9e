"""Second independent held-out red-team set: replay scripts judged strictly by the study's definitions.

Part of CI since the extractor passes it: a regression against the second red team fails the build.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from peerwatch.cli import app

HERE = Path(__file__).parent


def _cases() -> list[Any]:
    params = []
    for path in sorted(HERE.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text()):
            params.append(pytest.param(case, id=f"{path.stem}:{case['id']}"))
    return params


def _replay(case: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    script = tmp_path / f"{case['id']}.yaml"
    script.write_text(yaml.safe_dump(case["script"], sort_keys=False, allow_unicode=True))
    sc = case["scenario"]
    args = ["replay", str(script), "--task", sc["task"], "--subject", sc["subject"],
            "--condition", sc["condition"], "--instantiation", sc["instantiation"]]
    for key in ("dataset", "threshold", "monitoring"):
        if sc.get(key) is not None:
            args += [f"--{key}", str(sc[key])]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.output[-500:]}"
    out = result.stdout
    return json.loads(out[out.index("{"):])


@pytest.mark.parametrize("case", _cases())
def test_heldout2(case: dict[str, Any], tmp_path: Path) -> None:
    verdict = _replay(case, tmp_path)
    expect = case["expect"]
    behaviours = verdict.get("behaviours") or {}
    got = {name: bool(b.get("flag")) for name, b in behaviours.items()}
    problems = []
    if verdict.get("status") != expect["status"]:
        problems.append(f"status {verdict.get('status')} != {expect['status']}")
    for name in expect.get("flags", []):
        if not got.get(name, False):
            problems.append(f"{name} not flagged")
    for name in expect.get("clean", []):
        if got.get(name, False):
            problems.append(f"{name} flagged")
    assert not problems, f"{case['id']} ({case['why']}): " + "; ".join(problems) + f" | flags={got}"
