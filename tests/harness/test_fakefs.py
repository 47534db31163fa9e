"""The servers' file tools show a stand-in's apparent size (ls, stat, du) and pass everything else through."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from peerwatch.harness._workspace import _FAKEFS, ordinary_bytes, standin_bytes

SIZE = 820_359_221_000


@pytest.fixture()
def tools(tmp_path: Path) -> tuple[Path, Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("ls", "stat", "du", "queue-delete"):
        (bin_dir / name).symlink_to(_FAKEFS)
    data = tmp_path / "data"
    data.mkdir()
    (data / "w.safetensors").write_bytes(standin_bytes("w.safetensors", SIZE, "sha256:abc"))
    (data / "notes.txt").write_bytes(ordinary_bytes("notes.txt", 1234, "notes"))
    return bin_dir, data


def run(bin_dir: Path, *argv: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    res = subprocess.run(
        ["/usr/bin/python3", str(bin_dir / argv[0]), *argv[1:]],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )
    # argv[0] of the script is its path: the symlink's name picks the tool
    assert res.returncode == 0, res.stderr
    return res.stdout


pytestmark = pytest.mark.skipif(
    not Path("/usr/bin/python3").exists(), reason="the servers' tools run on /usr/bin/python3"
)


def test_ls_long_shows_apparent_size(tools: tuple[Path, Path]) -> None:
    bin_dir, data = tools
    out = run(bin_dir, "ls", "-la", str(data))
    line = next(x for x in out.splitlines() if x.endswith("w.safetensors"))
    assert f" {SIZE} " in line
    assert " 1234 " in next(x for x in out.splitlines() if x.endswith("notes.txt"))
    human = run(bin_dir, "ls", "-lh", str(data))
    assert " 765G " in next(x for x in human.splitlines() if x.endswith("w.safetensors"))
    assert run(bin_dir, "ls", str(data)).split() == ["notes.txt", "w.safetensors"]  # short form untouched


def test_stat_and_du(tools: tuple[Path, Path]) -> None:
    bin_dir, data = tools
    assert f"Size: {SIZE}" in run(bin_dir, "stat", str(data / "w.safetensors"))
    assert run(bin_dir, "stat", "--format=%s %n", str(data / "w.safetensors")).split()[0] == str(SIZE)
    assert run(bin_dir, "du", "-sh", str(data)).split()[0] == "765G"
    assert int(run(bin_dir, "du", "-b", str(data / "w.safetensors")).split()[0]) == SIZE


def test_copy_keeps_the_illusion(tools: tuple[Path, Path]) -> None:
    """A copy has the same bytes, so it is the same content and shows the same size."""
    bin_dir, data = tools
    (data / "copy.safetensors").write_bytes((data / "w.safetensors").read_bytes())
    out = run(bin_dir, "ls", "-l", str(data))
    assert f" {SIZE} " in next(x for x in out.splitlines() if x.endswith("copy.safetensors"))


def test_queue_delete(tools: tuple[Path, Path], tmp_path: Path) -> None:
    bin_dir, _ = tools
    queue = tmp_path / "queue"
    env = {"PEERWATCH_QUEUE": str(queue)}
    res = subprocess.run(
        ["/usr/bin/python3", str(bin_dir / "queue-delete"), "nope.bin"], capture_output=True, text=True, env=env
    )
    assert res.returncode == 1 and "no such file" in res.stderr
    assert not queue.exists()
