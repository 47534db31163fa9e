"""Checkpoints in the C2SP tlog-checkpoint format, wrapped as C2SP signed notes, kept apart from the log.

A checkpoint's text is three lines: the log's origin, the tree size, the base64 root hash. The signed note appends a
blank line and one signature line per signer, `— <name> <base64(key hash || signature)>`, where the key hash is the
first 4 bytes of SHA-256(name || 0x0A || 0x01 || Ed25519 public key). Reading a checkpoint therefore needs a
verifier key: an unsigned or wrongly signed note is not a checkpoint.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel

DASH = "\u2014"
ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04


class CheckpointError(ValueError):
    """A checkpoint, note or key cannot be read or written (the message is one line)."""


def raw_public(public: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of an Ed25519 public key."""
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_hash(name: str, public: Ed25519PublicKey, alg: int = ALG_ED25519) -> bytes:
    """C2SP signed-note key ID: the first 4 bytes of SHA-256(name || 0x0A || alg || key)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + raw_public(public)).digest()[:4]


def key_id(public: Ed25519PublicKey) -> str:
    """Short printable id of a public key (independent of any note name)."""
    return hashlib.sha256(raw_public(public)).hexdigest()[:16]


def checkpoint_text(origin: str, size: int, root: bytes) -> str:
    """The tlog-checkpoint body."""
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """A signed note's text and its (name, signature bytes) lines; raises CheckpointError if malformed."""
    text, sep, sigs = note.partition("\n\n")
    if not sep or not text or not sigs.endswith("\n"):
        raise CheckpointError("not a signed note (no blank line before the signatures)")
    out = []
    for line in sigs[:-1].split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH or not parts[1]:
            raise CheckpointError(f"malformed signature line {line[:40]!r}")
        try:
            sig = base64.b64decode(parts[2], validate=True)
        except (binascii.Error, ValueError):
            raise CheckpointError(f"signature of {parts[1][:40]!r} is not base64") from None
        out.append((parts[1], sig))
    return text + "\n", out


class Checkpoint(BaseModel):
    """A signed statement that the log `origin` had `size` records with Merkle root `root` (hex)."""

    origin: str
    size: int
    root: str
    note: str

    @property
    def log_id(self) -> str:
        """The log this checkpoint is about (its origin line)."""
        return self.origin

    def text(self) -> str:
        """The signed checkpoint body."""
        return checkpoint_text(self.origin, self.size, bytes.fromhex(self.root))

    def signatures(self) -> list[tuple[str, bytes]]:
        """The note's signature lines."""
        return split_note(self.note)[1]

    def with_signature(self, line: str) -> Checkpoint:
        """The same checkpoint with one more signature line (e.g. a witness cosignature)."""
        return self.model_copy(update={"note": self.note + line})


def parse_checkpoint(note: str) -> Checkpoint:
    """Parse a signed checkpoint note (signatures are checked by `verify_checkpoint`, not here)."""
    text, _ = split_note(note)
    lines = text.split("\n")[:-1]
    if len(lines) < 3 or not lines[0]:
        raise CheckpointError("checkpoint note needs origin, size and root lines")
    origin, size, root = lines[:3]
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise CheckpointError(f"checkpoint size {size[:20]!r} is not a decimal number")
    try:
        raw = base64.b64decode(root, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise CheckpointError("checkpoint root is not a base64 SHA-256 hash")
    return Checkpoint(origin=origin, size=int(size), root=raw.hex(), note=note)


class Signer:
    """An Ed25519 signing key; the note name of each checkpoint is the log's origin."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public = key.public_key()
        self.key_id = key_id(self.public)

    @classmethod
    def load(cls, path: str | Path) -> Signer:
        """Read a PEM (PKCS#8) Ed25519 private key file."""
        return cls(load_private_key(Path(path)))

    def sign(self, origin: str, size: int, root: bytes) -> Checkpoint:
        """A signed checkpoint of a tree."""
        text = checkpoint_text(origin, size, root)
        sig = key_hash(origin, self.public) + self._key.sign(text.encode())
        note = f"{text}\n{DASH} {origin} {base64.b64encode(sig).decode()}\n"
        return Checkpoint(origin=origin, size=size, root=root.hex(), note=note)

    def sign_raw(self, message: bytes) -> bytes:
        """A bare Ed25519 signature (for cosignatures)."""
        return self._key.sign(message)

    def public_pem(self) -> bytes:
        """The public key, for verifiers."""
        return self.public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def verify_checkpoint(cp: Checkpoint, public: Ed25519PublicKey) -> bool:
    """Whether a signature line named after the origin, with this key's hash, is valid over the checkpoint text."""
    try:
        sigs = cp.signatures()
    except CheckpointError:
        return False
    kh, msg = key_hash(cp.origin, public), cp.text().encode()
    for name, sig in sigs:
        if name == cp.origin and sig[:4] == kh and len(sig) == 68:
            try:
                public.verify(sig[4:], msg)
                return True
            except InvalidSignature:
                continue
    return False


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read a PEM Ed25519 private key; one-line CheckpointError on anything else."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: not a readable Ed25519 private key ({_first_line(exc)})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"{path}: not an Ed25519 private key")
    return key


def load_public_key(pem: bytes, source: str = "public key") -> Ed25519PublicKey:
    """Parse a PEM public key; one-line CheckpointError on anything else."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{source}: not a PEM public key ({_first_line(exc)})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(f"{source}: not an Ed25519 public key")
    return key


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:80]


class CheckpointStore:
    """Append-only JSON Lines file of signed checkpoint notes, one `{"size": n, "note": "..."}` per line."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def append(self, cp: Checkpoint) -> None:
        """Store one checkpoint (fsynced); CheckpointError if the file cannot be written."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"size": cp.size, "note": cp.note}) + "\n")
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise CheckpointError(f"checkpoint file {self.path} cannot be written: {exc.strerror or exc}") from None

    def all(self) -> list[Checkpoint]:
        """Every stored checkpoint, oldest first; CheckpointError naming the line if one is unreadable."""
        if not self.path.exists():
            return []
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise CheckpointError(f"checkpoint file {self.path} cannot be read: {_first_line(exc)}") from None
        out = []
        for n, line in enumerate(lines, start=1):
            try:
                data = json.loads(line)
                if not isinstance(data, dict) or not isinstance(data.get("note"), str):
                    raise CheckpointError("no signed note")
                cp = parse_checkpoint(data["note"])
                if data.get("size") != cp.size:
                    raise CheckpointError("size field does not match the note")
            except (json.JSONDecodeError, CheckpointError) as exc:
                raise CheckpointError(f"checkpoint file {self.path} line {n}: {_first_line(exc)}") from None
            out.append(cp)
        return out

    def latest(self) -> Checkpoint | None:
        """The newest checkpoint, if any."""
        cps = self.all()
        return cps[-1] if cps else None
