"""A guarded run's audit session: log + signer + witness from the operator's key store, failing closed."""

from __future__ import annotations

from pathlib import Path

from ._audit import AuditLog
from ._checkpoint import CheckpointError
from ._keystore import KeyStore
from ._store import StoreError, open_store
from ._witness import WitnessError


class AuditSession:
    """One guarded run's audit log, signer and witness; the first store or checkpoint fault stops the world.

    Use it from any adapter (Inspect approver, MCP proxy, `guarded()`): open it before the first call (it refuses a
    key store the run can reach), call `stop` on a store fault, and `finish` at the end (the final witnessed
    checkpoint, so nothing is left uncovered); a non-None result of `finish` means the run must exit non-zero.
    """

    def __init__(self, audit: str, keystore: KeyStore, run_dirs: list[Path]) -> None:
        keystore.check_placement(run_dirs)
        signer = keystore.signer(create=True)
        self.log = AuditLog(open_store(audit), signer=signer, witness=keystore.witness(), group_commit=True)
        self.fault: str | None = None
        self.finished = False

    def stop(self, reason: str) -> None:
        """Remember the first fault; every later call is refused and the run exits non-zero."""
        self.fault = self.fault or reason

    def checkpoint(self) -> None:
        """Sign, witness and publish a checkpoint; a failure is a fault."""
        try:
            self.log.checkpoint()
        except (StoreError, CheckpointError, WitnessError, OSError) as exc:
            self.stop(" ".join(str(exc).split()))

    def finish(self) -> str | None:
        """Checkpoint the end of the run (nothing left uncovered); returns the fault, if any."""
        if not self.finished and self.fault is None:
            self.checkpoint()
        self.finished = True
        return self.fault
