"""Ed25519-signed checkpoints (tree size + root), kept apart from the log they vouch for."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel


class Checkpoint(BaseModel):
    """A signed statement: the log had `size` records with Merkle root `root` at `time`."""

    log_id: str
    size: int
    root: str  # hex
    time: str
    key_id: str
    signature: str = ""  # base64 Ed25519 over the canonical body

    def body(self) -> bytes:
        """The signed bytes."""
        return f"peerwatch-checkpoint\n{self.log_id}\n{self.size}\n{self.root}\n{self.time}\n{self.key_id}\n".encode()


def key_id(public: Ed25519PublicKey) -> str:
    """Short id of a public key."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()[:16]


class Signer:
    """Holds the orchestrator's Ed25519 key (PEM file, created on first use, mode 0600)."""

    def __init__(self, key_path: str | Path) -> None:
        path = Path(key_path)
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(f"{path}: not an Ed25519 private key")
            self._key = key
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._key = Ed25519PrivateKey.generate()
            pem = self._key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            path.write_bytes(pem)
            path.chmod(0o600)
        self.public = self._key.public_key()
        self.key_id = key_id(self.public)

    def sign(self, log_id: str, size: int, root: bytes) -> Checkpoint:
        """A signed checkpoint of the current tree."""
        cp = Checkpoint(
            log_id=log_id, size=size, root=root.hex(), time=datetime.now(UTC).isoformat(), key_id=self.key_id
        )
        cp.signature = base64.b64encode(self._key.sign(cp.body())).decode()
        return cp

    def public_pem(self) -> bytes:
        """The public key, for verifiers."""
        return self.public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def verify_checkpoint(cp: Checkpoint, public: Ed25519PublicKey) -> bool:
    """Whether the checkpoint's signature is valid for `public`."""
    try:
        public.verify(base64.b64decode(cp.signature), cp.body())
    except (InvalidSignature, ValueError):
        return False
    return True


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """Parse a PEM public key."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


class CheckpointStore:
    """Append-only JSONL file of checkpoints, kept on a different path (ideally a different host) from the log."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def append(self, cp: Checkpoint) -> None:
        """Store one checkpoint (fsynced)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(cp.model_dump_json() + "\n")
            f.flush()
            import os

            os.fsync(f.fileno())

    def all(self) -> list[Checkpoint]:
        """Every stored checkpoint, oldest first."""
        if not self.path.exists():
            return []
        return [Checkpoint.model_validate(json.loads(line)) for line in self.path.read_text().splitlines() if line]

    def latest(self) -> Checkpoint | None:
        """The newest checkpoint, if any."""
        cps = self.all()
        return cps[-1] if cps else None
