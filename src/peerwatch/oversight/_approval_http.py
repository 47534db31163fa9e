"""The HTTP approval channel (bearer token, loopback or TLS) and channel specs (`file:DIR`, `http:PORT`, ...).

GET /requests lists pending requests, POST /decisions answers one with a signed `ApprovalDecision`. Both need
`Authorization: Bearer <token>`: the token is made per channel and written to the operator's key store
(`approvals-http.token`, mode 0600; the channel's URL beside it in `approvals-http.url`) - never printed where the
agent reads (an MCP proxy's stderr goes to its client) and never put in the agent's environment. The token keeps
the agent from reading or flooding the queue; the signature is what makes an approval (`decide_with` checks it).
"""

from __future__ import annotations

import errno
import hmac
import ipaddress
import json
import os
import secrets
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ._approval import ApprovalChannel, ApprovalDecision, ApprovalRequest, FileChannel, FunctionChannel
from ._approver_keys import HTTP_TOKEN, HTTP_URL, TrustedApprovers, keystore_dir

_MAX_BODY = 64 * 1024


class ApprovalChannelError(ValueError):
    """An approval channel that cannot be set up (one line)."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def write_token(token: str, path: Path | None = None) -> Path:
    """Write the channel's token for the human (mode 0600, replacing an older one)."""
    target = path or keystore_dir() / HTTP_TOKEN
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    tmp.replace(target)
    return target


class HttpChannel:
    """A token-protected HTTP endpoint for approvals; loopback only unless `tls=(certfile, keyfile)` is given."""

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        token: str | None = None,
        trusted: TrustedApprovers | None = None,
        tls: tuple[str, str] | None = None,
    ) -> None:
        if not _is_loopback(host) and tls is None:
            raise ApprovalChannelError(f"approvals over HTTP bind to loopback only; {host} needs TLS (https:)")
        self.token = token or secrets.token_urlsafe(32)
        self.trusted = trusted
        self._pending: dict[str, ApprovalRequest] = {}
        self._answers: dict[str, ApprovalDecision] = {}
        self._cond = threading.Condition()
        handler = _handler(self)
        try:
            self._server = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ApprovalChannelError(f"approvals port {port} on {host} is in use") from None
            raise ApprovalChannelError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        self.scheme = "http"
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            try:
                ctx.load_cert_chain(*tls)
            except (OSError, ssl.SSLError) as exc:
                self._server.server_close()
                raise ApprovalChannelError(f"TLS certificate {tls[0]} / key {tls[1]} unusable: {exc}") from None
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self.host, self.port = host, self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """Base URL of the endpoint."""
        return f"{self.scheme}://{self.host}:{self.port}"

    def authorised(self, header: str | None) -> bool:
        """Whether an Authorization header carries this channel's token (constant-time compare)."""
        want = f"Bearer {self.token}".encode()
        return header is not None and hmac.compare_digest(header.encode(), want)

    def request(self, req: ApprovalRequest, timeout: float) -> ApprovalDecision | None:
        """Publish the request and wait for a POSTed decision (consumed once)."""
        d = req.digest
        with self._cond:
            self._pending[d] = req
            try:
                self._cond.wait_for(lambda: d in self._answers, timeout=timeout)
                return self._answers.pop(d, None)
            finally:
                self._pending.pop(d, None)
                self._answers.pop(d, None)

    def close(self) -> None:
        """Stop the server."""
        self._server.shutdown()
        self._server.server_close()


def _handler(channel: HttpChannel) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet: the agent may read our stderr
            pass

        def _send(self, code: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _auth(self) -> bool:
            if channel.authorised(self.headers.get("Authorization")):
                return True
            self._send(401, {"error": "missing or wrong bearer token"})
            return False

        def do_GET(self) -> None:
            if not self._auth():
                return
            if self.path.rstrip("/") != "/requests":
                return self._send(404, {"error": "not found"})
            with channel._cond:
                reqs = [{**r.model_dump(), "digest": d} for d, r in channel._pending.items()]
            return self._send(200, reqs)

        def do_POST(self) -> None:
            if not self._auth():
                return
            if self.path.rstrip("/") != "/decisions":
                return self._send(404, {"error": "not found"})
            try:
                n = int(self.headers.get("Content-Length", "0"))
                if not 0 <= n <= _MAX_BODY:
                    return self._send(413, {"error": "body too large"})
                decision = ApprovalDecision.model_validate_json(self.rfile.read(n))
            except (ValueError, ValidationError) as exc:
                return self._send(400, {"error": " ".join(str(exc).split())[:200]})
            with channel._cond:
                if decision.digest not in channel._pending or decision.digest in channel._answers:
                    return self._send(404, {"error": "no pending request with that digest"})
                channel._answers[decision.digest] = decision
                channel._cond.notify_all()
            return self._send(200, {"ok": True})

    return Handler


def channel_from_spec(spec: str) -> ApprovalChannel | None:
    """`file:DIR`, `http:PORT`, `http:HOST:PORT` (loopback), `https:HOST:PORT` (TLS with `tls.crt`/`tls.key` from
    the key store), `approve-all` (an automated reviewer, for benchmarks) or `none` (every request denied).

    Raises:
        ApprovalChannelError: a spec that cannot be used (one line).
    """
    kind, _, rest = spec.partition(":")
    if kind == "file":
        return FileChannel(rest or "peerwatch-approvals")
    if kind in ("http", "https"):
        host, _, port_text = rest.rpartition(":")
        try:
            port = int(port_text or "0")
            if not 0 <= port <= 65535:
                raise ValueError
        except ValueError:
            raise ApprovalChannelError(f"bad approvals spec '{spec}': the port must be a number 0-65535") from None
        tls = None
        if kind == "https":
            ks = keystore_dir()
            tls = (str(ks / "tls.crt"), str(ks / "tls.key"))
        channel = HttpChannel(port, host=host or "127.0.0.1", tls=tls)
        token_path = write_token(channel.token)
        # Where to answer, for `peerwatch approve http` (the port may have been chosen by the system).
        token_path.with_name(HTTP_URL).write_text(channel.url + "\n", encoding="utf-8")
        return channel
    if kind == "approve-all":
        return FunctionChannel(lambda req: True)
    if kind == "none":
        return None
    raise ApprovalChannelError(f"unknown approval channel '{spec}'; use file:DIR, http:PORT, https:HOST:PORT, "
                               "approve-all or none")
