"""Approver keys: an approval is an Ed25519 signature by a key the agent cannot read.

The operator's key store (`keystore_dir()`: `$PEERWATCH_KEYSTORE`, else `$XDG_CONFIG_HOME/peerwatch`, else
`~/.config/peerwatch`) holds `approver.key` (the human's private key, mode 0600, read only by `peerwatch approve`)
and `approvers/<key id>.pub` (the public keys the guard trusts). The guard never needs a private key, so a guarded
process - and the agent behind it - has nothing to sign with. The key store must be outside the agent's reach
(another OS user, or outside its sandbox): a process that can read `approver.key` can approve anything.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ._canonical import canonical_json

if TYPE_CHECKING:
    from ._approval import ApprovalDecision, ApprovalRequest

APPROVER_KEY = "approver.key"
TRUSTED_DIR = "approvers"
HTTP_TOKEN = "approvals-http.token"
HTTP_URL = "approvals-http.url"
_DOMAIN = b"peerwatch-approval-v1\n"


class ApproverKeyError(ValueError):
    """A missing or unusable approver key (one line)."""


def keystore_dir() -> Path:
    """The operator's key store (shared with the audit keys): `$PEERWATCH_KEYSTORE`, else `$XDG_CONFIG_HOME/peerwatch`,
    else ~/.config/peerwatch."""
    from ._keystore import default_keystore

    return default_keystore()


def key_id_of(public: Ed25519PublicKey) -> str:
    """Short id of a public key: the first 16 hex digits of SHA-256 of its raw bytes."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def decision_payload(d: ApprovalDecision) -> bytes:
    """The bytes an approver signs: the call digest and every field of the answer, domain-separated."""
    body = {
        "digest": d.digest,
        "approved": d.approved,
        "approver": d.approver,
        "note": d.note,
        "time": d.time,
        "key_id": d.key_id,
    }
    return _DOMAIN + canonical_json(body)


def _private_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


class ApproverKey:
    """A human approver's signing key."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public = key.public_key()
        self.key_id = key_id_of(self.public)

    @classmethod
    def generate(cls, path: str | Path | None = None, passphrase: str | None = None) -> ApproverKey:
        """Create a key. Without `path`: `approver.key` in the key store, and its public half becomes trusted.

        With a passphrase the key is encrypted at rest, so even a process that can read the file cannot sign.

        Raises:
            ApproverKeyError: the file exists already.
        """
        target = Path(path) if path else keystore_dir() / APPROVER_KEY
        key = cls(Ed25519PrivateKey.generate())
        enc = (
            serialization.BestAvailableEncryption(passphrase.encode())
            if passphrase
            else serialization.NoEncryption()
        )
        pem = key._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
        try:
            _private_write(target, pem)
        except FileExistsError:
            raise ApproverKeyError(f"{target} exists already; remove it first to make a new key") from None
        pub = target.with_suffix(".pub") if path else keystore_dir() / TRUSTED_DIR / f"{key.key_id}.pub"
        pub.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pub.write_bytes(key.public_pem())
        return key

    @classmethod
    def load(cls, path: str | Path | None = None, passphrase: str | None = None) -> ApproverKey:
        """Load a key (default: `approver.key` in the key store).

        Raises:
            ApproverKeyError: missing, not an Ed25519 private key, or encrypted and the passphrase is missing/wrong.
        """
        target = Path(path) if path else keystore_dir() / APPROVER_KEY
        try:
            pem = target.read_bytes()
        except FileNotFoundError:
            raise ApproverKeyError(
                f"no approver key at {target}: create one with `peerwatch approve --keygen`"
            ) from None
        except OSError as exc:
            raise ApproverKeyError(f"{target}: cannot read: {exc.strerror or exc}") from None
        if b"ENCRYPTED" in pem and not passphrase:
            raise ApproverKeyError(f"{target} is encrypted: give its passphrase")
        try:
            key = serialization.load_pem_private_key(pem, password=passphrase.encode() if passphrase else None)
        except (ValueError, TypeError) as exc:
            raise ApproverKeyError(f"{target}: not a usable key: {' '.join(str(exc).split())}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ApproverKeyError(f"{target}: not an Ed25519 private key")
        return cls(key)

    def public_pem(self) -> bytes:
        """The public key (PEM), for the guard's trusted approvers."""
        return self.public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(
        self, req: ApprovalRequest | str, approved: bool, approver: str, note: str = ""
    ) -> ApprovalDecision:
        """A signed decision on the request (or on a bare digest)."""
        from ._approval import ApprovalDecision

        dig = req if isinstance(req, str) else req.digest
        d = ApprovalDecision(digest=dig, approved=approved, approver=approver, note=note, key_id=self.key_id)
        d.signature = base64.b64encode(self._key.sign(decision_payload(d))).decode()
        return d


def load_approver_key(path: str | Path | None, passphrase: Callable[[], str | None]) -> ApproverKey:
    """Load an approver key (default: `approver.key` in the key store), asking `passphrase()` only when it is
    encrypted. Raises ApproverKeyError (one line)."""
    target = Path(path) if path else keystore_dir() / APPROVER_KEY
    encrypted = target.exists() and b"ENCRYPTED" in target.read_bytes()
    return ApproverKey.load(path, passphrase() if encrypted else None)


class TrustedApprovers:
    """The public keys whose signatures the guard accepts as a human's approval."""

    def __init__(self, keys: list[Ed25519PublicKey] | None = None) -> None:
        self.keys = {key_id_of(k): k for k in keys or []}

    @classmethod
    def from_keystore(cls, directory: str | Path | None = None) -> TrustedApprovers:
        """Every `approvers/*.pub` in the key store (none: every external approval is refused)."""
        d = (Path(directory) if directory else keystore_dir()) / TRUSTED_DIR
        return cls.from_files(sorted(d.glob("*.pub")) if d.is_dir() else [])

    @classmethod
    def from_files(cls, paths: list[Path]) -> TrustedApprovers:
        """Public keys from PEM files; a file that is not an Ed25519 public key is skipped (never trusted)."""
        keys = []
        for p in paths:
            try:
                k = serialization.load_pem_public_key(p.read_bytes())
            except (OSError, ValueError):
                continue
            if isinstance(k, Ed25519PublicKey):
                keys.append(k)
        return cls(keys)

    def verify(self, d: ApprovalDecision) -> str | None:
        """None when `d` carries a valid signature by a trusted key; otherwise why not."""
        if not d.signature or not d.key_id:
            return "decision is not signed"
        key = self.keys.get(d.key_id)
        if key is None:
            return f"approver key {d.key_id[:16]!r} is not trusted"
        try:
            key.verify(base64.b64decode(d.signature, validate=True), decision_payload(d))
        except (InvalidSignature, ValueError):
            return f"bad signature for approver key {d.key_id}"
        return None
