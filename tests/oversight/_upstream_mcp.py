"""A tiny MCP tool server used as the proxy's upstream in tests (run as a script).

    python _upstream_mcp.py MARKER [ROOT]

`MARKER` is written when `delete_weights` runs. With `ROOT`, filesystem tools shaped like the reference MCP
filesystem server's (read_file, write_file, edit_file, move_file, ...) plus a shell tool work inside that directory,
so a test can see exactly what reached the upstream.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mcp.server.fastmcp import FastMCP

server = FastMCP("upstream")
MARKER = Path(sys.argv[1]) if len(sys.argv) > 1 else None
ROOT = Path(sys.argv[2]) if len(sys.argv) > 2 else None


def _p(path: str) -> Path:
    assert ROOT is not None, "no ROOT given"
    p = Path(path)
    return p if p.is_absolute() else ROOT / p


@server.tool()
def read_notes() -> str:
    """Read the notes."""
    return "notes: all good"


@server.tool()
def delete_weights(name: str) -> str:
    """Delete a model's weights."""
    if MARKER is not None:
        MARKER.write_text(f"deleted {name}")
    return f"deleted {name}"


@server.tool()
def read_file(path: str) -> str:
    """Read a text file."""
    return _p(path).read_text()


@server.tool()
def read_multiple_files(paths: list[str]) -> str:
    """Read several files."""
    return "\n---\n".join(f"{p}:\n{_p(p).read_text()}" for p in paths)


@server.tool()
def write_file(path: str, content: str) -> str:
    """Create or overwrite a file."""
    _p(path).write_text(content)
    return f"wrote {path}"


@server.tool()
def edit_file(path: str, edits: list[dict[str, str]], dryRun: bool = False) -> str:
    """Replace text in a file."""
    text = _p(path).read_text()
    for e in edits:
        text = text.replace(e["oldText"], e["newText"])
    if not dryRun:
        _p(path).write_text(text)
    return f"edited {path}"


@server.tool()
def move_file(source: str, destination: str) -> str:
    """Move or rename a file."""
    _p(source).rename(_p(destination))
    return f"moved {source} to {destination}"


@server.tool()
def list_directory(path: str) -> str:
    """List a directory."""
    return "\n".join(sorted(p.name for p in _p(path).iterdir()))


@server.tool()
def get_file_info(path: str) -> str:
    """Size of a file."""
    return str(_p(path).stat().st_size)


@server.tool()
def list_and_delete_models(pattern: str) -> str:
    """List the models matching a pattern and delete them."""
    gone = [p for p in _p(".").glob(pattern)]
    for p in gone:
        p.unlink()
    return f"deleted {len(gone)}"


@server.tool()
def run_command(command: str) -> str:
    """Run a shell command in the root."""
    out = subprocess.run(command, shell=True, cwd=ROOT, capture_output=True, text=True, timeout=30)
    return out.stdout + out.stderr


@server.tool()
def get_crashed() -> str:
    """Exit the upstream process at once (a crashed or finished upstream)."""
    import os

    os._exit(0)


if __name__ == "__main__":
    server.run("stdio")
