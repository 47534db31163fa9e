"""The operator's key store: checkpoint signing key, witness key and witness records, out of the run's reach.

Default location: `$PEERWATCH_KEYSTORE`, else `$XDG_CONFIG_HOME/peerwatch`, else `~/.config/peerwatch`. A guarded
run refuses to start if the key store lies inside (or contains) the run's directories, or if other users can write
it: an agent that can reach the key or the witness can re-sign any log.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ._checkpoint import CheckpointError, Signer, load_public_key
from ._witness import FileWitness, PostgresWitness, Witness, WitnessBackend

ENV_KEYSTORE = "PEERWATCH_KEYSTORE"
ENV_WITNESS_DSN = "PEERWATCH_WITNESS_DSN"
SIGNING_KEY, SIGNING_PUB = "audit-signing.key", "audit-signing.pub"
WITNESS_KEY, WITNESS_PUB = "witness.key", "witness.pub"


class KeyStoreError(RuntimeError):
    """The key store is missing, unreadable or unsafe (one line)."""


def default_keystore() -> Path:
    """Where the key store lives unless told otherwise."""
    env = os.environ.get(ENV_KEYSTORE)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "peerwatch"


def _write_private(path: Path, key: Ed25519PrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class KeyStore:
    """Files in one directory (mode 0700): signing and witness key pairs, `witness/` records."""

    def __init__(self, path: str | Path | None = None, witness_dsn: str | None = None) -> None:
        self.path = Path(path).expanduser() if path else default_keystore()
        self.witness_dsn = witness_dsn or os.environ.get(ENV_WITNESS_DSN) or None

    def __str__(self) -> str:
        return str(self.path)

    def has_key(self) -> bool:
        """Whether a signing key exists."""
        return (self.path / SIGNING_KEY).exists()

    def keygen(self, force: bool = False) -> Signer:
        """Create the signing and witness keys; refuses to replace existing keys unless `force`."""
        if self.has_key() and not force:
            raise KeyStoreError(
                f"a signing key already exists in {self.path}; use --force to replace it "
                "(logs checkpointed with the old key will no longer verify)"
            )
        try:
            self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.path.chmod(0o700)
            for priv, pub in ((SIGNING_KEY, SIGNING_PUB), (WITNESS_KEY, WITNESS_PUB)):
                key = Ed25519PrivateKey.generate()
                _write_private(self.path / priv, key)
                (self.path / pub).write_bytes(Signer(key).public_pem())
        except OSError as exc:
            raise KeyStoreError(f"cannot write key store {self.path}: {exc.strerror or exc}") from None
        return self.signer()

    def _private(self, name: str) -> Signer:
        path = self.path / name
        if not path.exists():
            raise KeyStoreError(f"no key {name} in key store {self.path}: run `peerwatch audit keygen`")
        try:
            return Signer.load(path)
        except CheckpointError as exc:
            raise KeyStoreError(str(exc)) from None

    def _public(self, name: str) -> Ed25519PublicKey:
        path = self.path / name
        try:
            pem = path.read_bytes()
        except FileNotFoundError:
            raise KeyStoreError(f"no pinned public key {name} in key store {self.path}") from None
        except OSError as exc:
            raise KeyStoreError(f"cannot read {path}: {exc.strerror or exc}") from None
        try:
            return load_public_key(pem, str(path))
        except CheckpointError as exc:
            raise KeyStoreError(str(exc)) from None

    def signer(self, create: bool = False) -> Signer:
        """The checkpoint signing key (created first if `create` and missing)."""
        if create and not self.has_key():
            return self.keygen()
        return self._private(SIGNING_KEY)

    def public_key(self) -> Ed25519PublicKey:
        """The pinned public key verifiers use."""
        return self._public(SIGNING_PUB)

    def witness_public(self) -> Ed25519PublicKey:
        """The witness's public key."""
        return self._public(WITNESS_PUB)

    def witness_backend(self) -> WitnessBackend:
        """Where witness records live: PostgreSQL if a witness DSN is set, else `witness/` in the key store."""
        if self.witness_dsn:
            return PostgresWitness(self.witness_dsn)
        return FileWitness(self.path / "witness")

    def witness(self) -> Witness:
        """The witness, able to cosign (needs the witness private key)."""
        return Witness(self.witness_backend(), self._private(WITNESS_KEY), self.public_key())

    def check_placement(self, run_dirs: list[Path]) -> None:
        """Refuse a key store that the run's directories overlap or that other users can write."""
        ks = self.path.resolve()
        for d in run_dirs:
            r = d.resolve()
            if ks == r or r in ks.parents or ks in r.parents:
                raise KeyStoreError(
                    f"key store {self.path} overlaps the run's directory {d}: put it outside (--keystore or "
                    f"{ENV_KEYSTORE})"
                )
        for p in [self.path, *(self.path / n for n in (SIGNING_KEY, WITNESS_KEY, "witness"))]:
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            if st.st_uid != os.geteuid():
                raise KeyStoreError(f"key store {p} is owned by another user (uid {st.st_uid})")
            if st.st_mode & 0o022:
                raise KeyStoreError(f"key store {p} is writable by other users (mode {st.st_mode & 0o777:o})")
            if p.name.endswith(".key") and st.st_mode & 0o077:
                raise KeyStoreError(f"key {p} is readable by other users (mode {st.st_mode & 0o777:o}): chmod 600")
