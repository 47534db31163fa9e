"""Models a command serves for its run: `local/...` models on loopback, and the LLM judge."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from rich.console import Console

from ._common import console, fail


def serve_local_models(
    stack: contextlib.ExitStack, models: list[str], log_dir: str, note: Console = console
) -> tuple[list[str], bool]:
    """Start a loopback server for each `local/...` model; returns the Inspect model strings to use."""
    from peerwatch.harness import LOCAL_PREFIX, HarnessError, is_local, local_model_server
    from peerwatch.tasks import is_remote

    out, local = [], False
    if is_remote(log_dir):  # the model server writes its log with plain file I/O: keep it on this machine
        log_dir = tempfile.gettempdir()
    for m in models:
        if not is_local(m):
            out.append(m)
            continue
        local = True
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        try:
            out.append(
                stack.enter_context(local_model_server(m[len(LOCAL_PREFIX) :], log=Path(log_dir) / "local-model.log"))
            )
        except HarnessError as exc:
            fail(str(exc))
        note.print(f"serving {m} on loopback as {out[-1]} (server log: {log_dir}/local-model.log)")
    return out, local



def serve_judge(stack, judge, judge_args, models, served, log_dir, note=console):
    """The judge's Inspect model, checked before any sample runs; a `local/...` judge is served for the run (the
    evaluated model's server is reused when it is the same local model)."""
    from peerwatch.tasks import ModelCheckError, check_judge

    if not judge:
        return None
    name = judge
    if judge in models and served[models.index(judge)] != judge:
        name = served[models.index(judge)]
    elif judge.startswith("local/"):
        [name], _ = serve_local_models(stack, [judge], log_dir, note)
    try:
        return check_judge(name, judge_args)
    except ModelCheckError as exc:
        fail(str(exc))

