"""`peerwatch audit ...`: key generation, verification, and reading an oversight audit log."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from ._common import console, err, fail
from ._options import KeystoreOpt

audit_app = typer.Typer(help="Inspect and verify an oversight audit log.", no_args_is_help=True)

StoreArg = Annotated[str, typer.Argument(help="Audit store: SQLite path or postgresql:// DSN.")]


def _open_log(store: str):
    from peerwatch.oversight import AuditLog, StoreError, open_store

    try:
        return AuditLog(open_store(store, create=False))
    except StoreError as exc:
        fail(str(exc))


@audit_app.command("keygen")
def audit_keygen(
    keystore: KeystoreOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace existing keys (old checkpoints stop verifying).")
    ] = False,
) -> None:
    """Create the checkpoint signing key and the witness key in the operator's key store (mode 0600)."""
    from peerwatch.oversight import KeyStore, KeyStoreError

    ks = KeyStore(keystore)
    try:
        signer = ks.keygen(force=force)
    except KeyStoreError as exc:
        fail(str(exc))
    console.print(f"signing key {signer.key_id} in {ks.path} (public: {ks.path}/audit-signing.pub)", soft_wrap=True)


@audit_app.command("verify")
def audit_verify(
    store: StoreArg,
    keystore: KeystoreOpt = None,
    public_key: Annotated[str | None, typer.Option(help="Log's PEM public key (third party; default: pinned).")] = None,
    witness: Annotated[
        str | None, typer.Option(help="Witness record (JSON) or cosigned checkpoint note (default: key store).")
    ] = None,
    witness_key: Annotated[str | None, typer.Option(help="Witness's PEM public key, to check its cosignature.")] = None,
    checkpoints: Annotated[str | None, typer.Option(help="Checkpoint file (default: the one beside the log).")] = None,
    allow_uncovered: Annotated[
        bool, typer.Option("--allow-uncovered", help="A live log: records past the last checkpoint are not an error.")
    ] = False,
) -> None:
    """Verify chain, signed checkpoints and the witnessed checkpoint. Exit 1 naming the reason and first bad record."""
    from peerwatch.oversight import VerifyInputError, verify_store

    try:
        result, name = verify_store(
            store, keystore, public_key, witness, witness_key, checkpoints, allow_uncovered=allow_uncovered
        )
    except VerifyInputError as exc:
        fail(str(exc))
    if not result.ok:
        where = f" at record {result.first_bad}" if result.first_bad is not None else ""
        err.print(f"[bold red]FAILED[/]{where}: {result.reason}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    console.print(
        f"[green]OK[/] {name}: {result.records} records, root {result.root[:16]}..., "
        f"checkpoint of {result.covered} records signed and witnessed",
        highlight=False,
        soft_wrap=True,
    )


@audit_app.command("show")
def audit_show(
    store: StoreArg,
    last: Annotated[int, typer.Option(help="Show the last N records.")] = 20,
) -> None:
    """Show the newest records."""
    log = _open_log(store)
    records = log.records()[-last:]
    table = Table(title=f"audit log {log.store.display}")
    for col in ("seq", "time", "actor", "tool", "decision", "rule"):
        table.add_column(col)
    for r in records:
        table.add_row(str(r.seq), r.time[:19], r.actor, r.tool, r.decision, r.rule or "")
    console.print(table)


@audit_app.command("export")
def audit_export(store: StoreArg) -> None:
    """Write every record as JSON Lines to stdout."""
    log = _open_log(store)
    for _, _, body in log.store.records():
        sys.stdout.write(body + "\n")

