"""Protected content re-encoded: bounded, cheap decoding so that a content check sees what an encoding hides.

`decoded_views(data)` returns the layers an attacker can wrap content in - base64 (standard, URL-safe, wrapped, or a
run inside other text such as JSON or a data URI), hex, gzip / zlib / raw deflate / bz2 / xz, tar and zip archives
(each member) - decoded recursively, a few layers deep. Everything is bounded: at most `MAX_DECODED` bytes decoded in
all (streaming decompressors with an output limit, so a compression bomb costs no more than the cap; embedded runs
are bounded by it too), at most `MAX_MEMBERS` archive members, at most `MAX_DEPTH` layers. When a limit is hit the
result says `truncated`: the caller cannot know what is inside and must treat it as protected where a protected
thing may not go (fail closed).

Plain text and ordinary binary files cost one regex scan and a few magic-byte checks; nothing here reads files.
"""

from __future__ import annotations

import base64
import binascii
import bz2
import io
import lzma
import re
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field

MAX_DECODED = 16 * 1024 * 1024  # bytes decoded in all, per inspected file or write
MAX_DEPTH = 4  # layers (tar.gz in base64 is three)
MAX_MEMBERS = 1024  # archive members looked at per archive
MIN_RUN = 48  # shorter runs of the alphabet are ordinary words and ids
# Runs without whitespace: English text never has 48 such characters in a row, so plain text costs one fast scan.
# Wrapped base64 (76-character lines) decodes line by line to consecutive bytes: the runs are joined as well.
_B64_RUN = re.compile(rb"[A-Za-z0-9+/_-]{%d,}={0,2}" % MIN_RUN)
_HEX_ONLY = re.compile(rb"[0-9A-Fa-f]+")
_WS = b" \t\r\n\v\f"
_B64_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-"


@dataclass
class Views:
    """Decoded layers of some content; `truncated` when a limit stopped the decoding (content not fully seen)."""

    layers: list[bytes] = field(default_factory=list)
    truncated: bool = False
    budget: int = MAX_DECODED

    def add(self, data: bytes) -> bool:
        """Keep one decoded layer if the budget allows (False: the budget is spent)."""
        if len(data) > self.budget:
            self.truncated = True
            return False
        self.budget -= len(data)
        self.layers.append(data)
        return True


def decoded_views(data: bytes, max_decoded: int = MAX_DECODED) -> Views:
    """Every layer `data` decodes to (not `data` itself), bounded (see the module docstring)."""
    views = Views(budget=max_decoded)
    _expand(data, views, MAX_DEPTH)
    return views


def _expand(data: bytes, views: Views, depth: int) -> None:
    if depth <= 0:
        if looks_encoded(data):
            views.truncated = True  # one more layer we will not open
        return
    for layer in _one_layer(data, views):
        if views.budget <= 0:
            views.truncated = True
            return
        if views.add(layer):
            _expand(layer, views, depth - 1)


def looks_encoded(data: bytes) -> bool:
    """Whether `data` starts like a compressed stream or an archive (strong magic bytes only)."""
    return data[:2] == b"\x1f\x8b" or data[:3] == b"BZh" or data[:6] == b"\xfd7zXZ\x00" or _is_tar(data) or (
        data[:4] == b"PK\x03\x04"
    )


def _compression(data: bytes) -> str | None:
    if data[:2] == b"\x1f\x8b":
        return "gzip"
    if data[:3] == b"BZh":
        return "bz2"
    if data[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] * 256 + data[1]) % 31 == 0:
        return "zlib"
    return None


def _is_tar(data: bytes) -> bool:
    return len(data) >= 512 and data[257:262] == b"ustar"


def _one_layer(data: bytes, views: Views) -> list[bytes]:
    """What one step of decoding `data` gives (possibly several: archive members, embedded runs)."""
    kind = _compression(data)
    if kind is not None:
        inflated = _decompress(data, kind, views)
        return [inflated] if inflated else []
    if _is_tar(data):
        return _tar_members(data, views)
    if data[:4] == b"PK\x03\x04" or b"PK\x05\x06" in data[-65557:]:
        members = _zip_members(data, views)
        if members:
            return members
    out: list[bytes] = []
    whole = _text_decode(data)
    if whole is not None:
        return [whole]
    for m in _B64_RUN.finditer(data):  # runs inside other text: JSON, data URIs, shell commands
        dec = _text_decode(m.group(0))
        if dec is not None:
            out.append(dec)
    if len(out) > 1:
        out = [b"".join(out), *out[:8]]
    raw = _raw_deflate(data, views) if len(data) >= 16 and not out else None
    return out + ([raw] if raw else [])


def _text_decode(chunk: bytes) -> bytes | None:
    """Hex or base64 of the whole chunk (whitespace ignored), if it is that."""
    s = chunk.translate(None, _WS)
    if len(s) < MIN_RUN or s.translate(None, _B64_CHARS):  # a character no base64 or hex has: not encoded text
        return None
    if _HEX_ONLY.fullmatch(s) and len(s) % 2 == 0:
        try:
            return bytes.fromhex(s.decode("ascii"))
        except ValueError:
            pass
    s = s.rstrip(b"=")
    if len(s) % 4 == 1:
        return None
    pad = b"=" * (-len(s) % 4)
    alt = b"-_" if (b"-" in s or b"_" in s) else b"+/"
    try:
        return base64.b64decode(s + pad, altchars=alt, validate=True)
    except (binascii.Error, ValueError):
        return None


def _decompress(data: bytes, kind: str, views: Views) -> bytes | None:
    limit = views.budget + 1
    try:
        if kind == "gzip":
            out = zlib.decompressobj(wbits=47).decompress(data, limit)
        elif kind == "zlib":
            out = zlib.decompressobj().decompress(data, limit)
        elif kind == "bz2":
            out = bz2.BZ2Decompressor().decompress(data, max_length=limit)
        else:
            out = lzma.LZMADecompressor().decompress(data, max_length=limit)
    except (zlib.error, OSError, lzma.LZMAError, EOFError, ValueError):
        return None
    if len(out) >= limit:
        views.truncated = True
        return None
    return out


def _raw_deflate(data: bytes, views: Views) -> bytes | None:
    """A raw deflate stream (no header: what zip members and some tools write); only a clean, finished one counts."""
    d = zlib.decompressobj(wbits=-15)
    try:
        out = d.decompress(data, views.budget + 1)
    except zlib.error:
        return None
    if len(out) > views.budget:
        views.truncated = True
        return None
    return out if d.eof and len(out) >= MIN_RUN else None


def _tar_members(data: bytes, views: Views) -> list[bytes]:
    out: list[bytes] = []
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as t:
            for i, m in enumerate(t):
                if i >= MAX_MEMBERS:
                    views.truncated = True
                    break
                if not m.isfile():
                    continue
                f = t.extractfile(m)
                if f is not None:
                    out.append(f.read(views.budget + 1))
    except (tarfile.TarError, OSError, EOFError):
        pass
    return out


def _zip_members(data: bytes, views: Views) -> list[bytes]:
    out: list[bytes] = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for i, info in enumerate(z.infolist()):
                if i >= MAX_MEMBERS:
                    views.truncated = True
                    break
                if info.is_dir():
                    continue
                with z.open(info) as f:  # streamed: a member that inflates past the budget is cut there
                    out.append(f.read(views.budget + 1))
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, zlib.error, ValueError):
        pass
    return out
