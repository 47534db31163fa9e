"""The human's side of an approval channel: list pending requests and send signed decisions (`peerwatch approve`)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path

from pydantic import ValidationError

from ._approval import ApprovalRequest, FileChannel
from ._approver_keys import HTTP_TOKEN, HTTP_URL, ApproverKey, keystore_dir


class ReviewError(ValueError):
    """The approvals directory or endpoint cannot be used (one line)."""


class Reviewer:
    """Pending requests of a file channel (a directory) or an HTTP channel (a URL), answered with `key`."""

    def __init__(self, target: str, key: ApproverKey | None, token_file: Path | None = None) -> None:
        self.key = key
        self.url: str | None = None
        if target in ("http", "https"):  # the latest HTTP channel started on this machine
            where = keystore_dir() / HTTP_URL
            try:
                target = where.read_text(encoding="utf-8").strip()
            except OSError:
                raise ReviewError(f"no HTTP approvals channel recorded at {where}") from None
        if target.startswith(("http://", "https://")):
            self.url = target.rstrip("/")
            path = token_file or keystore_dir() / HTTP_TOKEN
            try:
                self.token = path.read_text(encoding="utf-8").strip()
            except OSError:
                raise ReviewError(f"no approvals token at {path} (the guarded run writes it there)") from None
            self._ssl = None
            if self.url.startswith("https://"):
                crt = keystore_dir() / "tls.crt"
                self._ssl = ssl.create_default_context(cafile=str(crt) if crt.exists() else None)
        else:
            d = Path(target)
            if not d.is_dir():
                raise ReviewError(f"approvals directory not found: {target}")
            self.channel = FileChannel(d)

    def _http(self, path: str, body: bytes | None = None) -> object:
        assert self.url is not None
        req = urllib.request.Request(
            f"{self.url}{path}",
            data=body,
            method="POST" if body is not None else "GET",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=10, context=self._ssl) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as exc:
            raise ReviewError(f"{self.url}{path}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ReviewError(f"{self.url}{path}: {' '.join(str(exc).split())}") from None

    def pending(self) -> list[ApprovalRequest]:
        """Requests waiting for a decision; each one's digest is recomputed from what will be shown."""
        if self.url is None:
            return self.channel.pending()
        items = self._http("/requests")
        if items is None:
            return []
        if not isinstance(items, list):
            raise ReviewError(f"{self.url}/requests: expected a list of requests, got {type(items).__name__}")
        out: list[ApprovalRequest] = []
        for item in items:
            if not isinstance(item, dict):
                continue  # not a request: nothing a reviewer could sign
            try:
                req = ApprovalRequest.model_validate({k: v for k, v in item.items() if k != "digest"})
            except ValidationError:
                continue
            out.append(req)
        return out

    def answer(self, req: ApprovalRequest, approved: bool, approver: str) -> None:
        """Sign the decision on exactly the request shown and deliver it."""
        key = self.key or ApproverKey.load()
        if self.url is None:
            self.channel.answer(req, approved, approver, key=key)
            return
        d = key.sign(req, approved, approver)
        self._http("/decisions", d.model_dump_json().encode())
