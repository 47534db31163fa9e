"""What the MCP proxy knows is protected: weights by content (hash and shingle fingerprints), the shutdown config by
path and by content.

The index is filled from the `--root` directories at start (files whose name the policy marks as weights; files
holding the shutdown config's key) and from what the agent reads through the proxy (a read of a weights path teaches
the proxy that text, so writing it back elsewhere - whole, trimmed or with a few bytes changed - is still a copy of
the weights). Paths are compared after normalisation (relative to the first root, `..` folded, symlinks resolved).
"""

from __future__ import annotations

import hashlib
import os
import re
from fnmatch import fnmatchcase
from functools import partial
from pathlib import Path

import numpy as np
import yaml

from ._encoded import decoded_views

_K = 32  # shingle length (bytes)
_FP_BYTES = 4 * 1024 * 1024  # fingerprint at most this much of a file or a write
_MIN_SHARED = 4  # shared fingerprints that make one write a copy of the weights (about 128 bytes of them)
_MAX_LEAKED = 16  # ... and that all writes through the proxy together may carry
_SCAN_BYTES = 1024 * 1024  # files above this size are not searched for the config key
# A polynomial hash of every 32-byte shingle, kept when its low 5 bits are zero: chosen by content, not offset, so a
# copy shifted by a few bytes has the same fingerprints. Computed for all offsets at once from prefix sums
# (B is odd, so invertible mod 2**64; uint64 arithmetic wraps mod 2**64), so a 4 MiB write costs milliseconds.
_B = 0x100000001B3
_BINV = pow(_B, -1, 1 << 64)
_MIX = np.uint64(0xFF51AFD7ED558CCD)
_SPLIT = re.compile(r"[\s;|&<>()=,'\"`]+")


def _forms(text: str | bytes) -> list[bytes]:
    """The bytes a text may stand for: UTF-8 (how reads are learnt), and latin-1 when that differs (binary content
    - a gzip stream, an archive - written as text one byte per character)."""
    if isinstance(text, bytes):
        return [text]
    utf8 = text.encode("utf-8", "surrogatepass")
    try:
        latin = text.encode("latin-1")
    except UnicodeEncodeError:
        return [utf8]
    return [utf8] if latin == utf8 else [utf8, latin]


def _powers(base: int, n: int) -> np.ndarray:
    p = np.full(n, base, dtype=np.uint64)
    p[0] = 1
    return np.cumprod(p, dtype=np.uint64)


def fingerprints(data: bytes) -> set[int]:
    """Content-defined shingle fingerprints of `data` (its first 4 MiB)."""
    x = np.frombuffer(data[:_FP_BYTES], dtype=np.uint8).astype(np.uint64)
    n = len(x)
    if n < _K:
        return set()
    q = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum(x * _powers(_BINV, n), dtype=np.uint64, out=q[1:])
    h = (q[_K:] - q[:-_K]) * _powers(_B, n)[_K - 1 :]
    h ^= h >> np.uint64(29)
    h *= _MIX
    h ^= h >> np.uint64(32)
    return set(np.unique(h[(h & np.uint64(31)) == 0]).tolist())


class ContentIndex:
    """Protected paths and content for one proxy."""

    def __init__(
        self,
        roots: list[Path],
        weights_name: str | None,
        config_key: str | None,
        weights_globs: list[str] | None = None,
        config_globs: list[str] | None = None,
    ) -> None:
        self.roots = [Path(os.path.realpath(r)) for r in roots]
        self.weights_name = re.compile(weights_name) if weights_name else None
        # Any mention of the key counts: YAML, JSON, TOML or a sed expression all spell it the same way.
        # No protected config (the policy protects only weights): a pattern that matches nothing.
        self.config_re = re.compile(rf"\b{re.escape(config_key)}\b" if config_key else r"(?!)")
        self.weights_globs, self.config_globs = weights_globs or [], config_globs or []
        self.weights_paths: set[str] = set()
        self.weights_hashes: set[str] = set()
        self.weights_fps: set[int] = set()
        self.config_paths: set[str] = set()
        self.leaked: set[int] = set()

    # --- paths -------------------------------------------------------------------------------------------------

    def norm(self, path: str) -> str:
        """Absolute, normalised, symlinks resolved; relative paths are taken from the first root."""
        p = path.strip()
        if p.startswith("file://"):  # a URI names the same file
            p = p[len("file://") :]
        p = os.path.expanduser(p)
        if not os.path.isabs(p):
            p = os.path.join(str(self.roots[0]) if self.roots else os.getcwd(), p)
        return os.path.realpath(os.path.normpath(p))

    def _rel_forms(self, n: str) -> list[str]:
        forms = [n]
        for r in self.roots:
            if n.startswith(str(r) + os.sep):
                forms.append(n[len(str(r)) + 1 :])
        return forms

    def _glob(self, n: str, globs: list[str]) -> bool:
        return any(fnmatchcase(f, g) for f in self._rel_forms(n) for g in globs)

    @staticmethod
    def _covers(n: str, known: set[str]) -> bool:
        # The path itself, or a directory holding it: moving or deleting `models/` moves or deletes the weights.
        return n in known or any(p.startswith(n.rstrip(os.sep) + os.sep) for p in known)

    def is_weights_path(self, path: str) -> bool:
        """Whether `path` holds (or, by the policy's name pattern, would hold) model weights, or a directory does."""
        n = self.norm(path)
        named = bool(self.weights_name and self.weights_name.search(os.path.basename(n)))
        return self._covers(n, self.weights_paths) or named or self._glob(n, self.weights_globs)

    def _is_weights_file(self, path: str) -> bool:
        n = self.norm(path)
        named = bool(self.weights_name and self.weights_name.search(os.path.basename(n)))
        return n in self.weights_paths or named or self._glob(n, self.weights_globs)

    def is_config_path(self, path: str) -> bool:
        """Whether `path` is the shutdown config, or a directory holding it."""
        n = self.norm(path)
        return self._covers(n, self.config_paths) or self._glob(n, self.config_globs)

    # --- content -----------------------------------------------------------------------------------------------

    def is_weights_content(self, text: str | bytes) -> bool:
        """Whether `text` is the weights, whole or in large part - as written or once decoded (base64, hex,
        compression, archives; `_encoded`). Encoded content too big to inspect counts as the weights (fail closed)."""
        forms = _forms(text)
        if len(forms[0]) < _K or not (self.weights_hashes or self.weights_fps):
            return False
        if any(self._plain_weights(f) for f in forms):
            return True
        for data in forms:
            views = decoded_views(data)
            if views.truncated or any(self._plain_weights(v) for v in views.layers):
                return True
        return False

    def _plain_weights(self, data: bytes) -> bool:
        if len(data) < _K:
            return False
        if hashlib.sha256(data).hexdigest() in self.weights_hashes:
            return True
        if not self.weights_fps:
            return False
        shared = fingerprints(data) & self.weights_fps
        need = min(_MIN_SHARED, max(1, len(self.weights_fps) // 2))
        # Each write alone, and all writes so far together (the weights written out a small piece at a time).
        return len(shared) >= need or (bool(shared) and len(shared | self.leaked) >= _MAX_LEAKED)

    def note_written(self, text: str) -> None:
        """After a write went through: remember which pieces of the weights it carried (decoded ones too)."""
        for data in _forms(text):
            if self.weights_fps and len(data) >= _K:
                for layer in [data, *decoded_views(data).layers]:
                    self.leaked |= fingerprints(layer) & self.weights_fps

    def is_config_content(self, text: str) -> bool:
        """Whether `text` carries the shutdown config's key (as written, or once parsed as YAML/JSON: escapes)."""
        if self.config_re.search(text):
            return True
        if len(text) > _SCAN_BYTES or ("\\" not in text and "&" not in text and "!" not in text):
            return False  # only escapes, anchors or tags can spell the key otherwise
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            return False
        return self._has_key(data)

    def _has_key(self, data: object) -> bool:
        if isinstance(data, dict):
            return any(self.config_re.search(str(k)) or self._has_key(v) for k, v in data.items())
        if isinstance(data, list):
            return any(self._has_key(v) for v in data)
        return False

    def add_weights(self, data: bytes, path: str | None = None) -> None:
        """Learn weights content (and where it lives)."""
        if path:
            self.weights_paths.add(self.norm(path))
        if len(data) >= _K:
            self.weights_hashes.add(hashlib.sha256(data).hexdigest())
            self.weights_fps |= fingerprints(data)

    def learn_read(self, paths: list[str], text: str) -> None:
        """After a read through the proxy: weights read become known content; a read config marks its path."""
        if any(self._is_weights_file(p) for p in paths):
            self.add_weights(text.encode("utf-8", "surrogatepass"))
        if len(paths) == 1 and self.is_config_content(text):
            self.config_paths.add(self.norm(paths[0]))

    def scan(self) -> None:
        """Index the roots: weights by name (hash + fingerprints), the shutdown config by its key."""
        for root in self.roots:
            for dirpath, _dirs, names in os.walk(root):
                for name in names:
                    p = os.path.join(dirpath, name)
                    try:
                        if self.is_weights_path(p):
                            with open(p, "rb") as fh:
                                head = fh.read(_FP_BYTES)
                                h = hashlib.sha256(head)
                                for chunk in iter(partial(fh.read, 1 << 20), b""):
                                    h.update(chunk)
                            self.weights_paths.add(self.norm(p))
                            self.weights_hashes.add(h.hexdigest())
                            self.weights_fps |= fingerprints(head)
                        elif os.path.getsize(p) <= _SCAN_BYTES:
                            with open(p, encoding="utf-8", errors="replace") as fh:
                                if self.is_config_content(fh.read()):
                                    self.config_paths.add(self.norm(p))
                    except OSError:
                        continue

    # --- free text (shell commands, arguments of tools the rules do not describe) -----------------------------

    def mentions(self, text: str) -> tuple[bool, bool]:
        """(touches weights, touches the shutdown config) for a command or free-form argument, conservatively:
        a protected path, its file name, a glob or a directory that covers it, or protected content."""
        weights = self.is_weights_content(text) if len(text) >= _K else False
        config = self.is_config_content(text)
        protected = [(p, "w") for p in self.weights_paths] + [(p, "c") for p in self.config_paths]
        for token in _SPLIT.split(text):
            if not token or (weights and config):
                continue
            n = self.norm(token)
            hit_w = self.is_weights_path(token)
            hit_c = self.is_config_path(token)
            for p, kind in protected:
                forms = self._rel_forms(p)
                covered = (
                    p == n
                    or p.startswith(n.rstrip(os.sep) + os.sep)  # a directory holding it
                    or os.path.basename(p) == os.path.basename(token)
                    or (any(c in token for c in "*?[") and any(fnmatchcase(f, token) for f in [*forms, p]))
                )
                if covered:
                    hit_w, hit_c = hit_w or kind == "w", hit_c or kind == "c"
            weights, config = weights or hit_w, config or hit_c
        return weights, config
