"""The package layering, checked from the source: who may import whom, through which face, and module size.

Every module under `src/peerwatch` is parsed with `ast` (no import runs), so lazy imports inside functions and
`TYPE_CHECKING` blocks count like top-level ones: a cycle hidden in a function body is still a cycle.
"""

from __future__ import annotations

import ast
import itertools
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "peerwatch"

# Lowest first. A package imports only from packages in lower layers (the root package, which holds `__version__`,
# is below everything). `agents` sits below `oversight` because the red-team suite plays action scripts.
LAYERS: list[set[str]] = [
    {ROOT},
    {"world"},
    {"scenarios"},
    {"detect"},
    {"agents", "analysis"},
    {"oversight"},
    {"harness"},
    {"tasks"},
    {"cli"},
]

PRIVATE_IMPORT_EXCEPTIONS: set[str] = set()

MAX_LINES = 400
# Modules allowed over the limit: none today. A new module over the limit fails.
OVERSIZE_ALLOWED: set[str] = set()

# The packages that may import inspect_ai at all: the Inspect face, the log reader, the model bridge, the CLI.
INSPECT_USERS = {"tasks", "analysis", "harness", "cli"}

# Inspect internals with no public equivalent, each used from one adapter module only (see the module's docstring).
INSPECT_PRIVATE_ALLOWED: dict[str, set[str]] = {
    # `--budget` stops a run with Inspect's own graceful drain (`inspect ctl task drain`); Inspect 0.3.285 exposes it
    # only through its control channel, so the pacer calls the same function in-process.
    "peerwatch.tasks._pace": {"inspect_ai._control.cancel", "inspect_ai._control.eval_state"},
}


@dataclass(frozen=True)
class Import:
    """One imported name as written in a module (`target` is the full dotted name, `line` where it is)."""

    module: str
    path: str
    line: int
    target: str


def _module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _package_of(name: str, src: Path = SRC) -> str | None:
    """The peerwatch package a dotted name belongs to (`cli` for the cli module or package), None outside."""
    parts = name.split(".")
    if parts[0] != ROOT:
        return None
    if len(parts) == 1 or not ((src / ROOT / parts[1]).is_dir() or (src / ROOT / f"{parts[1]}.py").is_file()):
        return ROOT  # `peerwatch` itself, or a name defined in its __init__ (`__version__`)
    return parts[1]


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join([*base, *([node.module] if node.module else [])])


@cache
def imports(src: Path = SRC) -> tuple[Import, ...]:
    """Every import of every module under src/peerwatch, lazy ones included; `from m import a` yields `m.a`."""
    found: list[Import] = []
    for path in sorted((src / ROOT).rglob("*.py")):
        module, rel = _module_name(path, src), str(path.relative_to(src))
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [Import(module, rel, node.lineno, a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, path.name == "__init__.py", node)
                found += [Import(module, rel, node.lineno, f"{base}.{a.name}") for a in node.names]
    return tuple(found)


def package_graph(src: Path = SRC) -> dict[str, dict[str, list[Import]]]:
    """{importing package: {imported package: the imports that make the edge}} (edges within a package left out)."""
    graph: dict[str, dict[str, list[Import]]] = {}
    for imp in imports(src):
        a, b = _package_of(imp.module, src), _package_of(imp.target, src)
        if a is not None and b is not None and a != b:
            graph.setdefault(a, {}).setdefault(b, []).append(imp)
    return graph


def _where(imps: list[Import]) -> str:
    return ", ".join(f"{i.path}:{i.line} ({i.target})" for i in imps[:3])


def _cycle(graph: dict[str, dict[str, list[Import]]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_the_walker_sees_hidden_cycles_and_private_reaches(tmp_path: Path) -> None:
    """The checks below are only as good as the walker: a cycle closed by a lazy import in a function body, behind
    `TYPE_CHECKING`, or through a relative import, and a private name taken from a public face, must all be seen."""
    src = _write(
        tmp_path,
        {
            "peerwatch/__init__.py": "__version__ = '0'\n",
            "peerwatch/low/__init__.py": "from ._impl import thing\n",
            "peerwatch/low/_impl.py": "def thing():\n    from peerwatch.high import top\n    return top\n",
            "peerwatch/high/__init__.py": "from .._impl_free import x\nfrom ..low import thing, _secret\n",
            "peerwatch/mid/__init__.py": "import typing\nif typing.TYPE_CHECKING:\n    from ..low._impl import y\n",
            "peerwatch/cli.py": "from peerwatch import __version__\n",
        },
    )
    graph = package_graph(src)
    assert _cycle(graph) in (["high", "low", "high"], ["low", "high", "low"])
    assert "low" in graph["mid"] and ROOT in graph["cli"]
    assert {i.target for i in private_reaches(src)} == {"peerwatch.low._secret", "peerwatch.low._impl.y"}
    assert _cycle({"a": {"b": []}, "b": {"c": []}}) is None


def test_the_walker_reads_this_source() -> None:
    assert {"scenarios", "detect", "agents", "oversight", "harness", "tasks", "cli"} <= set(package_graph())


def test_every_package_is_in_a_layer() -> None:
    layered = set().union(*LAYERS)
    packages = {p.name for p in (SRC / ROOT).iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    packages |= {p.stem for p in (SRC / ROOT).glob("*.py") if p.stem != "__init__"}
    assert packages <= layered, f"packages without a layer: {sorted(packages - layered)}"


def test_no_cycle_between_packages() -> None:
    graph = package_graph()
    cycle = _cycle(graph)
    if cycle:
        edges = "; ".join(f"{a} -> {b}: {_where(graph[a][b])}" for a, b in itertools.pairwise(cycle))
        pytest.fail(f"import cycle {' -> '.join(cycle)}: {edges}")


def test_packages_import_only_lower_layers() -> None:
    rank = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}
    wrong = [
        f"{src} -> {dst}: {_where(imps)}"
        for src, deps in sorted(package_graph().items())
        for dst, imps in sorted(deps.items())
        if rank[dst] >= rank[src]
    ]
    assert not wrong, "imports against the layering (world < scenarios < ... < cli):\n" + "\n".join(wrong)


def _private_part(target: str) -> str | None:
    """The first private component after the package (`_model` in `peerwatch.scenarios._model.Scenario`)."""
    for part in target.split(".")[2:]:
        if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
            return part
    return None


def private_reaches(src: Path = SRC) -> list[Import]:
    """Imports of another package's `_private` module or name (the root package's `__version__` is public)."""
    found = []
    for i in imports(src):
        a, b = _package_of(i.module, src), _package_of(i.target, src)
        if a not in PRIVATE_IMPORT_EXCEPTIONS and b not in (None, a, ROOT) and _private_part(i.target):
            found.append(i)
    return found


def test_packages_talk_through_their_faces() -> None:
    """No module imports another package's `_private` module or `_private` name; its `__init__` is the face."""
    wrong = [f"{i.path}:{i.line} imports {i.target}" for i in private_reaches()]
    assert not wrong, "private imports across packages (export the name from the package's __init__):\n" + "\n".join(
        wrong
    )


def test_inspect_is_used_through_its_public_api() -> None:
    """`inspect_ai.<pkg>._<module>` is Inspect's machinery and changes without notice; only an adapter may use it."""
    wrong = [
        f"{i.path}:{i.line} imports {i.target}"
        for i in imports()
        if i.target.startswith("inspect_ai.")
        and any(p.startswith("_") and not p.startswith("__") for p in i.target.split(".")[1:])
        and i.target.rsplit(".", 1)[0] not in INSPECT_PRIVATE_ALLOWED.get(i.module, set())
    ]
    assert not wrong, "private Inspect imports:\n" + "\n".join(wrong)


def test_the_core_runs_without_inspect() -> None:
    """world, scenarios, detect, agents and oversight never import Inspect (the oversight layer is usable without it);
    `analysis` reads Inspect logs and `harness` speaks Inspect's message types to agent CLIs."""
    wrong = [
        f"{i.path}:{i.line} imports {i.target}"
        for i in imports()
        if i.target.split(".")[0] == "inspect_ai" and _package_of(i.module) not in INSPECT_USERS
    ]
    assert not wrong, "Inspect imported outside its users:\n" + "\n".join(wrong)


def test_modules_stay_small() -> None:
    over = {
        str(p.relative_to(SRC)): n
        for p in sorted((SRC / ROOT).rglob("*.py"))
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    new = {k: v for k, v in over.items() if k not in OVERSIZE_ALLOWED}
    assert not new, f"modules over {MAX_LINES} lines (split by idea): {new}"
