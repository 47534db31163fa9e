"""The CLI as a package of small commands: registration, public-face imports, module size, a light start-up."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

import peerwatch.cli
from peerwatch.cli import app

CLI_DIR = Path(peerwatch.cli.__file__).parent
COMMANDS = ["run", "demo", "harness", "serve-model", "replay", "list", "report", "rescore", "approve", "mcp-proxy",
            "audit", "policy"]  # fmt: skip


def test_help_lists_every_command_in_registration_order() -> None:
    r = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert r.exit_code == 0
    lines = [line.strip("│ ").split(" ")[0] for line in r.output.splitlines()]
    listed = [name for name in lines if name in COMMANDS]
    assert listed == COMMANDS


def _imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names]
    return out


def test_cli_imports_only_package_faces() -> None:
    private = [
        f"{p.name}: {m}"
        for p in sorted(CLI_DIR.glob("*.py"))
        for m in _imports(p)
        if m.startswith("peerwatch.") and any(part.startswith("_") for part in m.split(".")[1:])
    ]
    assert private == []


def test_cli_modules_are_small() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in CLI_DIR.glob("*.py")}
    assert max(sizes.values()) <= 400, sizes


def test_main_registers_and_holds_no_logic() -> None:
    tree = ast.parse((CLI_DIR / "main.py").read_text(encoding="utf-8"))
    functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert functions == ["main"]


def test_start_up_imports_no_work() -> None:
    # `peerwatch --help` must stay fast: the commands' work (Inspect, the packages, MCP) is imported when run.
    code = (
        "import sys, peerwatch.cli; "
        "print(sorted(m for m in sys.modules if m.startswith(('inspect_ai', 'mcp', 'pandas', 'numpy')) "
        "or (m.startswith('peerwatch.') and not m.startswith('peerwatch.cli'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_python_dash_m_runs_the_cli() -> None:
    r = subprocess.run([sys.executable, "-m", "peerwatch.cli", "nosuch"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().startswith("error: No such command 'nosuch'")
