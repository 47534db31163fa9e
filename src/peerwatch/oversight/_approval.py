"""Human approval bound to the exact call, signed by a key the agent cannot read, with a timeout that denies.

A request's digest covers (actor, tool, canonical arguments, call id, policy version, the rule and reason shown to
the human, a fresh nonce); a decision names that digest and is an Ed25519 signature by a trusted approver key
(`_approver_keys`), so it cannot be forged from the agent's side, replayed on another call - an identical one
included, the nonce differs - or routed to a parallel one. Each decision is consumed once. Channels: a directory of
request and decision files (for `peerwatch approve`), a token-protected HTTP endpoint (`_approval_http`), or an
in-process function (tests, an automated reviewer the operator configured). Anything but a matching, validly signed
approval in time is a denial.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field, ValidationError

from ._approver_keys import ApproverKey, TrustedApprovers
from ._canonical import digest


class ApprovalRequest(BaseModel):
    """What a human is asked to approve."""

    actor: str
    tool: str
    args: dict[str, Any]
    call_id: str
    policy_version: str
    rule: str
    reason: str
    nonce: str = Field(default_factory=lambda: secrets.token_hex(16))
    created: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())

    @property
    def digest(self) -> str:
        """Binding digest of the exact call (and of this one request for it)."""
        return digest(
            {
                "actor": self.actor,
                "tool": self.tool,
                "args": self.args,
                "call_id": self.call_id,
                "policy_version": self.policy_version,
                # What the human is told about the call too: a request file rewritten to show a reassuring rule or
                # reason no longer hashes to the digest the guard waits for.
                "rule": self.rule,
                "reason": self.reason,
                "nonce": self.nonce,
            }
        )


class ApprovalDecision(BaseModel):
    """A human's answer to one request; `signature` is the approver key's Ed25519 signature over it."""

    digest: str
    approved: bool
    approver: str = "human"
    note: str = ""
    time: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())
    key_id: str | None = None
    signature: str | None = None


class ApprovalChannel(Protocol):
    """Delivers a request and waits for the decision on it."""

    def request(self, req: ApprovalRequest, timeout: float) -> ApprovalDecision | None: ...


_consumed: set[str] = set()
_consumed_lock = threading.Lock()


def _deny(req: ApprovalRequest, note: str) -> ApprovalDecision:
    return ApprovalDecision(digest=req.digest, approved=False, approver="peerwatch", note=note)


def decide_with(channel: ApprovalChannel, req: ApprovalRequest, timeout: float) -> ApprovalDecision:
    """Ask `channel`. A timeout, a channel failure, a decision for another call, a decision seen before, or an
    approval not signed by a trusted approver key is a denial."""
    try:
        got = channel.request(req, timeout)
    except Exception as exc:  # an unreachable channel must deny, never allow
        return _deny(req, f"approval channel failed: {type(exc).__name__}: {exc}")
    if got is None:
        return _deny(req, f"no decision within {timeout:g} s")
    if got.digest != req.digest:
        return _deny(req, "decision was for a different call")
    with _consumed_lock:
        if got.digest in _consumed:
            return _deny(req, "decision was used before (replay)")
        _consumed.add(got.digest)
    if not got.approved or getattr(channel, "in_process", False):
        return got  # a refusal needs no proof; an in-process reviewer is the operator's own code
    trusted = getattr(channel, "trusted", None) or TrustedApprovers.from_keystore()
    problem = trusted.verify(got)
    if problem:
        return _deny(req, f"approval refused: {problem}")
    return got


class FunctionChannel:
    """Decides with a function of the request (tests, benchmarks, automated reviewers in the guard's process)."""

    in_process = True

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def request(self, req: ApprovalRequest, timeout: float) -> ApprovalDecision | None:
        """Call the function."""
        approved = self.fn(req)
        return ApprovalDecision(digest=req.digest, approved=bool(approved), approver="function")


class FileChannel:
    """Requests as `<digest>.request.json` in a directory; signed decisions as `<digest>.decision.json`.

    The directory is shared with whoever answers, so anything in it may be the agent's: the request shown to the
    human is re-hashed from its content (a rewritten request gets a digest no call waits for), and a decision
    counts only with a trusted signature. A decision file is deleted once read.
    """

    def __init__(self, directory: str | Path, poll: float = 0.05, trusted: TrustedApprovers | None = None) -> None:
        self.dir = Path(directory)
        self.poll = poll
        self.trusted = trusted

    def request(self, req: ApprovalRequest, timeout: float) -> ApprovalDecision | None:
        """Write the request and wait for its decision file."""
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"{req.digest}.request.json"
        answer = self.dir / f"{req.digest}.decision.json"
        answer.unlink(missing_ok=True)  # nothing may be waiting for a request that did not exist yet
        path.write_text(req.model_dump_json(indent=2) + "\n", encoding="utf-8")
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if answer.exists():
                    try:
                        text = answer.read_text(encoding="utf-8")
                        decision = ApprovalDecision.model_validate_json(text)
                    except (ValidationError, OSError):
                        time.sleep(self.poll)  # partly written: try again
                        continue
                    answer.unlink(missing_ok=True)  # consumed
                    return decision
                time.sleep(self.poll)
            return None
        finally:
            path.unlink(missing_ok=True)
            answer.unlink(missing_ok=True)

    def pending(self) -> list[ApprovalRequest]:
        """Requests waiting for a decision (a file whose content does not hash to its name is skipped)."""
        out = []
        for p in sorted(self.dir.glob("*.request.json")):
            try:
                req = ApprovalRequest.model_validate_json(p.read_text(encoding="utf-8"))
            except (ValidationError, OSError, UnicodeDecodeError):
                continue
            if p.name == f"{req.digest}.request.json":
                out.append(req)
        return out

    def answer(
        self, req: ApprovalRequest | str, approved: bool, approver: str, note: str = "", key: ApproverKey | None = None
    ) -> ApprovalDecision:
        """Sign a decision with the approver key (default: the key store's) and write it atomically."""
        d = (key or ApproverKey.load()).sign(req, approved, approver, note)
        tmp = self.dir / f".{d.digest}.{secrets.token_hex(4)}.tmp"
        tmp.write_text(d.model_dump_json(), encoding="utf-8")
        tmp.replace(self.dir / f"{d.digest}.decision.json")
        return d
