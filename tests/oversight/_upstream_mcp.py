"""A tiny MCP tool server used as the proxy's upstream in tests (run as a script)."""

from __future__ import annotations

import sys
from pathlib import Path

from mcp.server.fastmcp import FastMCP

server = FastMCP("upstream")
MARKER = Path(sys.argv[1]) if len(sys.argv) > 1 else None


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


if __name__ == "__main__":
    server.run("stdio")
