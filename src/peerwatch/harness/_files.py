"""What a harness workspace writes on its servers: deterministic file bodies, stand-ins for huge files, timestamps."""

from __future__ import annotations

import datetime as dt
import json
import os
import struct
from pathlib import Path

from pydantic import BaseModel


class FileIdentity(BaseModel):
    """What a file on a server is: its scenario content identity and its apparent size."""

    content_id: str
    apparent_size: int


def _ids(name: str) -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def _stamp(path: Path, date: str, accessed: str = "2024-01-01") -> None:
    """Set mtime to `date`; atime earlier, so that a later read moves atime (relatime) and shows the file was read."""
    m = dt.datetime.fromisoformat(date).replace(hour=9, tzinfo=dt.UTC).timestamp()
    a = dt.datetime.fromisoformat(accessed).replace(tzinfo=dt.UTC).timestamp()
    os.utime(path, (min(a, m - 86400), m))


def ordinary_bytes(name: str, size: int, summary: str) -> bytes:
    """Deterministic contents of exactly `size` bytes for an ordinary server file."""
    line = f"{name}: {summary or 'company file'}\n".encode()
    return (line * (size // len(line) + 1))[:size]


def standin_bytes(name: str, apparent: int, content_id: str) -> bytes:
    """A small safetensors-shaped stand-in for a huge file: its header metadata carries the apparent size."""
    header = {
        "__metadata__": {
            "format": "pt",
            "peerwatch_apparent_size": str(apparent),
            "peerwatch_content_id": content_id,
            "peerwatch_note": f"stand-in for {name}; the weights are not materialised",
        },
        "model.embed_tokens.weight": {"dtype": "BF16", "shape": [0, 0], "data_offsets": [0, 0]},
    }
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw
