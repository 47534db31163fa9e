"""Links from the report into a running `inspect view` (one per sample)."""

from __future__ import annotations

import os
from urllib.parse import quote, unquote, urlparse

VIEW_PORT = 7575


def local_path(path: str) -> str:
    """A file:// URI (as Inspect lists logs) as a plain path; other strings unchanged."""
    return unquote(urlparse(path).path) if path.startswith("file://") else path


VIEW_BASE = f"http://127.0.0.1:{VIEW_PORT}/"


def view_url(log: str, log_dir: str, sample_id: object, epoch: int) -> str:
    """The `inspect view --log-dir LOG_DIR` address of one sample (the log named relative to the directory).

    Relative to VIEW_BASE, which the report page sets as its `<base href>` (so a thousand links stay short).
    """
    log_path = local_path(str(log))
    rel = os.path.relpath(log_path, local_path(log_dir)) if log_dir else os.path.basename(log_path)
    if rel.startswith(".."):
        rel = os.path.basename(log_path)
    return (
        f"http://127.0.0.1:{VIEW_PORT}/#/logs/{quote(rel)}/samples/sample/{quote(str(sample_id), safe='')}/{int(epoch)}"
    )
