"""`peerwatch approve`: review pending approval requests and sign each decision."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ._common import console, fail


def approve(
    target: Annotated[
        str | None,
        typer.Argument(help="Approvals directory (file:DIR), URL, or `http` for the latest HTTP channel (http:PORT)."),
    ] = None,
    approver: Annotated[str, typer.Option(help="Your name, recorded with each decision.")] = "human",
    watch: Annotated[bool, typer.Option(help="Keep waiting for new requests (Ctrl-C to stop).")] = False,
    keygen: Annotated[bool, typer.Option(help="Create your approver key in the key store and trust it.")] = False,
    key: Annotated[Path | None, typer.Option(help="Approver key (default: approver.key in the key store).")] = None,
    token_file: Annotated[Path | None, typer.Option(help="HTTP channel token (default: in the key store).")] = None,
) -> None:
    """Review pending approval requests and approve or deny each exact call with your signature."""
    import time

    from rich.prompt import Confirm

    from peerwatch.oversight import (
        ApproverKey,
        ApproverKeyError,
        Reviewer,
        ReviewError,
        load_approver_key,
        render_request,
    )

    try:
        if keygen:
            k = ApproverKey.generate(key, _passphrase(new=True))
            console.print(f"approver key {k.key_id} created and trusted", highlight=False)
            if target is None:
                return
        if target is None:
            fail("give the approvals directory or URL, e.g. peerwatch approve peerwatch-logs/approvals")
        reviewer = Reviewer(str(target), None, token_file)
        reviewer.key = load_approver_key(key, lambda: _passphrase(new=False))
        seen: set[str] = set()
        while True:
            for req in reviewer.pending():
                if req.digest in seen:
                    continue
                seen.add(req.digest)
                console.print(render_request(req), highlight=False)
                ok = Confirm.ask(f"approve call [{req.digest[:12]}]?", default=False)
                reviewer.answer(req, ok, approver)
            if not watch:
                break
            time.sleep(0.5)
    except (ApproverKeyError, ReviewError) as exc:
        fail(str(exc))
    if not seen:
        console.print("no pending requests")


def _passphrase(new: bool) -> str | None:
    # $PEERWATCH_APPROVER_PASSPHRASE is for the operator's automation; it must never be in an agent's environment.
    import os

    env = os.environ.get("PEERWATCH_APPROVER_PASSPHRASE")
    if env is not None or not sys.stdin.isatty():
        return env or None
    text = typer.prompt(
        "passphrase for the approver key (empty: none)" if new else "approver key passphrase",
        default="", hide_input=True, show_default=False, confirmation_prompt=new,
    )
    return text or None

