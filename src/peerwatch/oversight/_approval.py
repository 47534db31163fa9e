"""Human approval bound to the exact call, with a timeout that denies.

A request's digest covers (tool, canonical arguments, call id, policy version, actor); a decision names that
digest, so it cannot be replayed on another call or routed to a parallel one. Channels: a directory of request and
decision files (for `peerwatch approve` in a terminal, or any process), a small loopback HTTP endpoint, or a
function (tests, an automated reviewer). Anything but an explicit, matching approval in time is a denial.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field, ValidationError

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
    created: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())

    @property
    def digest(self) -> str:
        """Binding digest of the exact call."""
        return digest(
            {
                "actor": self.actor,
                "tool": self.tool,
                "args": self.args,
                "call_id": self.call_id,
                "policy_version": self.policy_version,
            }
        )


class ApprovalDecision(BaseModel):
    """A human's answer to one request."""

    digest: str
    approved: bool
    approver: str = "human"
    note: str = ""
    time: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())


class ApprovalChannel(Protocol):
    """Delivers a request and waits for the decision on it."""

    def request(self, req: ApprovalRequest, timeout: float) -> ApprovalDecision | None: ...


def decide_with(channel: ApprovalChannel, req: ApprovalRequest, timeout: float) -> ApprovalDecision:
    """Ask `channel`; a timeout, a channel failure or a decision for another call is a denial."""
    try:
        got = channel.request(req, timeout)
    except Exception as exc:  # an unreachable channel must deny, never allow
        return ApprovalDecision(
            digest=req.digest,
            approved=False,
            approver="peerwatch",
            note=f"approval channel failed: {type(exc).__name__}: {exc}",
        )
    if got is None:
        return ApprovalDecision(
            digest=req.digest, approved=False, approver="peerwatch", note=f"no decision within {timeout:g} s"
        )
    if got.digest != req.digest:
        return ApprovalDecision(
            digest=req.digest, approved=False, approver="peerwatch", note="decision was for a different call"
        )
    return got


class FunctionChannel:
    """Decides with a function of the request (tests, benchmarks, automated reviewers)."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def request(self, req: ApprovalRequest, timeout: float) -> ApprovalDecision | None:
        """Call the function."""
        approved = self.fn(req)
        return ApprovalDecision(digest=req.digest, approved=bool(approved), approver="function")


class FileChannel:
    """Requests as `<digest>.request.json` in a directory; decisions as `<digest>.decision.json`."""

    def __init__(self, directory: str | Path, poll: float = 0.05) -> None:
        self.dir = Path(directory)
        self.poll = poll

    def request(self, req: ApprovalRequest, timeout: float) -> ApprovalDecision | None:
        """Write the request and wait for its decision file."""
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"{req.digest}.request.json"
        path.write_text(req.model_dump_json(indent=2) + "\n", encoding="utf-8")
        answer = self.dir / f"{req.digest}.decision.json"
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if answer.exists():
                    try:
                        return ApprovalDecision.model_validate_json(answer.read_text(encoding="utf-8"))
                    except (ValidationError, OSError):
                        time.sleep(self.poll)  # partly written: try again
                        continue
                time.sleep(self.poll)
            return None
        finally:
            path.unlink(missing_ok=True)

    def pending(self) -> list[ApprovalRequest]:
        """Requests waiting for a decision."""
        out = []
        for p in sorted(self.dir.glob("*.request.json")):
            try:
                out.append(ApprovalRequest.model_validate_json(p.read_text(encoding="utf-8")))
            except (ValidationError, OSError):
                continue
        return out

    def answer(self, req_digest: str, approved: bool, approver: str, note: str = "") -> None:
        """Write a decision (atomically)."""
        d = ApprovalDecision(digest=req_digest, approved=approved, approver=approver, note=note)
        tmp = self.dir / f".{req_digest}.tmp"
        tmp.write_text(d.model_dump_json(), encoding="utf-8")
        tmp.replace(self.dir / f"{req_digest}.decision.json")


class HttpChannel:
    """A loopback HTTP endpoint: GET /requests lists pending requests, POST /decisions answers one.

    Body of POST /decisions: {"digest": "...", "approved": true, "approver": "name"}.
    """

    def __init__(self, port: int = 0) -> None:
        self._pending: dict[str, ApprovalRequest] = {}
        self._answers: dict[str, ApprovalDecision] = {}
        self._cond = threading.Condition()
        channel = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, code: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.rstrip("/") != "/requests":
                    return self._send(404, {"error": "not found"})
                with channel._cond:
                    reqs = [{**r.model_dump(), "digest": d} for d, r in channel._pending.items()]
                return self._send(200, reqs)

            def do_POST(self) -> None:
                if self.path.rstrip("/") != "/decisions":
                    return self._send(404, {"error": "not found"})
                try:
                    n = int(self.headers.get("Content-Length", "0"))
                    decision = ApprovalDecision.model_validate_json(self.rfile.read(n))
                except (ValueError, ValidationError) as exc:
                    return self._send(400, {"error": " ".join(str(exc).split())[:200]})
                with channel._cond:
                    if decision.digest not in channel._pending:
                        return self._send(404, {"error": "no pending request with that digest"})
                    channel._answers[decision.digest] = decision
                    channel._cond.notify_all()
                return self._send(200, {"ok": True})

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """Base URL of the endpoint."""
        return f"http://127.0.0.1:{self.port}"

    def request(self, req: ApprovalRequest, timeout: float) -> ApprovalDecision | None:
        """Publish the request and wait for a POSTed decision."""
        d = req.digest
        with self._cond:
            self._pending[d] = req
            try:
                self._cond.wait_for(lambda: d in self._answers, timeout=timeout)
                return self._answers.pop(d, None)
            finally:
                self._pending.pop(d, None)

    def close(self) -> None:
        """Stop the server."""
        self._server.shutdown()
        self._server.server_close()
