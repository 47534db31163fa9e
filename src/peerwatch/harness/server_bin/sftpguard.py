#!/usr/bin/python3
"""SFTP filter of a guarded peerwatch harness server: refuses writes of protected content before they land.

    sftpguard.py PROTECTED_FILE -- SFTP_SERVER ARGS...

Sits between the SSH channel (stdin/stdout) and the real `sftp-server`, reading the SFTP v3 packets both ways. The
orchestrator (root) writes PROTECTED_FILE - readable, not writable, by the server user - with what the policy denies
on this server: `content<TAB>N<TAB>SHA256<TAB>TOOL<TAB>RULE` (the first N bytes of a file whose SHA-256 is that are
protected content that may not be written here) and `path<TAB>PATH<TAB>OPS<TAB>TOOL<TAB>RULE` (a protected file on
which the operations OPS - `write` (overwrite or truncate), `remove`, `rename` (rename or hard-link) - are denied).
A WRITE that completes such a first block, or any later WRITE on that handle, an OPEN that would truncate or write a
protected path, a REMOVE, RENAME or hard link of one, and the server-side `copy-data` extension (data that never
passes through here) are answered with SSH_FX_PERMISSION_DENIED and never reach sftp-server. Each refusal is one
`peerwatch-guard refused ...` line on stderr (the record FIFO); everything else is relayed unchanged, and the
orchestrator's sweep after every operation still runs.

Standalone on purpose (the system Python runs it as the server user): standard library only. Any error ends the
session (fail closed).
"""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import sys
import threading
from typing import cast

INIT, OPEN, CLOSE, WRITE, REMOVE, RENAME, EXTENDED = 1, 3, 4, 6, 13, 18, 200
STATUS, HANDLE = 101, 102
FX_PERMISSION_DENIED, FX_OP_UNSUPPORTED = 3, 8
F_WRITE, F_APPEND, F_CREAT, F_TRUNC = 0x2, 0x4, 0x8, 0x10
DATA = "/data"


def load(path: str) -> tuple[list[tuple[int, str, str, str]], dict[tuple[str, str], tuple[str, str]]]:
    blocks, paths = [], {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0] == "content" and len(parts) == 5:
                blocks.append((int(parts[1]), parts[2], parts[3], parts[4]))
            elif parts[0] == "path" and len(parts) == 5:
                for op in parts[2].split(","):
                    paths[(norm(parts[1]), op)] = (parts[3], parts[4])
    return blocks, paths


def norm(p: str) -> str:
    p = p if p.startswith("/") else os.path.join(DATA, p)
    try:
        return os.path.realpath(os.path.normpath(p))
    except (OSError, ValueError):
        return os.path.normpath(p)


def read_exact(fd: int, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = os.read(fd, n - len(out))
        if not chunk:
            raise EOFError
        out += chunk
    return out


def read_packet(fd: int) -> bytes:
    (n,) = struct.unpack(">I", read_exact(fd, 4))
    if n > 1 << 20:
        raise ValueError("packet too large")
    return read_exact(fd, n)


class Reader:
    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def u32(self) -> int:
        (v,) = struct.unpack(">I", self.data[self.pos : self.pos + 4])
        self.pos += 4
        return v

    def u64(self) -> int:
        (v,) = struct.unpack(">Q", self.data[self.pos : self.pos + 8])
        self.pos += 8
        return v

    def string(self) -> bytes:
        n = self.u32()
        v = self.data[self.pos : self.pos + n]
        if len(v) != n:
            raise ValueError("truncated packet")
        self.pos += n
        return v


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _s(b: bytes) -> bytes:
    return struct.pack(">I", len(b)) + b


class Filter:
    def __init__(self, protected: str, child: subprocess.Popen[bytes]) -> None:
        self.blocks, self.paths = load(protected)
        self.head = max((n for n, *_ in self.blocks), default=0)
        self.child = child
        self.out_lock = threading.Lock()
        self.lock = threading.Lock()
        self.pending: dict[int, str] = {}  # OPEN request id -> path, for opens that may write
        self.handles: dict[bytes, dict[str, object]] = {}  # write handle -> {path, buf, mask, refused}

    def send(self, payload: bytes) -> None:
        with self.out_lock:
            write_all(1, struct.pack(">I", len(payload)) + payload)

    def refuse(self, rid: int, why: str, tool: str, rule: str, path: str, code: int = FX_PERMISSION_DENIED) -> None:
        msg = f"peerwatch guard: refused: {why} ({rule})".encode()
        self.send(bytes([STATUS]) + struct.pack(">II", rid, code) + _s(msg) + _s(b"en"))
        line = f'peerwatch-guard refused {tool} {rule} "{path}" {why}\n'.encode("utf-8", "replace")[:500]
        os.write(2, line)

    def protected_path(self, raw: bytes, op: str) -> tuple[str, tuple[str, str]] | None:
        p = norm(raw.decode("utf-8", "replace"))
        hit = self.paths.get((p, op))
        return (p, hit) if hit else None

    def client_to_server(self, pkt: bytes) -> bool:
        """True to forward the packet; False when it was answered here."""
        kind = pkt[0]
        if kind == INIT or not (self.blocks or self.paths):
            return True
        r = Reader(pkt, 1)
        rid = r.u32()
        if kind == OPEN:
            raw = r.string()
            flags = r.u32()
            if flags & (F_WRITE | F_APPEND | F_CREAT | F_TRUNC):
                hit = self.protected_path(raw, "write")
                if hit and flags & (F_WRITE | F_APPEND | F_TRUNC):
                    self.refuse(rid, "overwriting protected content", hit[1][0], hit[1][1], hit[0])
                    return False
                with self.lock:
                    self.pending[rid] = norm(raw.decode("utf-8", "replace"))
        elif kind == WRITE:
            handle = r.string()
            offset = r.u64()
            data = r.string()
            with self.lock:
                st = self.handles.get(handle)
            if st is not None:
                return self.check_write(rid, st, offset, data)
        elif kind == CLOSE:
            handle = r.string()
            with self.lock:
                self.handles.pop(handle, None)
        elif kind == REMOVE:
            hit = self.protected_path(r.string(), "remove")
            if hit:
                self.refuse(rid, "removing protected content", hit[1][0], hit[1][1], hit[0])
                return False
        elif kind == RENAME:
            old, new = r.string(), r.string()
            for hit in (self.protected_path(old, "rename"), self.protected_path(new, "write")):
                if hit:
                    self.refuse(rid, "renaming over or away protected content", hit[1][0], hit[1][1], hit[0])
                    return False
        elif kind == EXTENDED:
            name = r.string()
            if name == b"copy-data":
                self.refuse(rid, "server-side copy-data is not allowed here", "sftp", "sftp-copy-data", "-",
                            FX_OP_UNSUPPORTED)
                return False
            if name in (b"posix-rename@openssh.com", b"hardlink@openssh.com"):
                old, new = r.string(), r.string()
                for hit in (self.protected_path(old, "rename"), self.protected_path(new, "write")):
                    if hit:
                        self.refuse(rid, "renaming or linking protected content", hit[1][0], hit[1][1], hit[0])
                        return False
        return True

    def check_write(self, rid: int, st: dict[str, object], offset: int, data: bytes) -> bool:
        path = str(st["path"])
        if st["refused"]:
            tool, rule = cast(tuple[str, str], st["refused"])
            self.refuse(rid, "protected content", tool, rule, path)
            return False
        if offset < self.head:
            buf, mask = st["buf"], st["mask"]
            end = min(self.head, offset + len(data))
            buf[offset:end] = data[: end - offset]  # type: ignore[index]
            mask[offset:end] = b"\x01" * (end - offset)  # type: ignore[index]
            for n, digest, tool, rule in self.blocks:
                if mask.find(0, 0, n) == -1 and hashlib.sha256(bytes(buf[:n])).hexdigest() == digest:  # type: ignore[attr-defined,index]
                    st["refused"] = (tool, rule)
                    self.refuse(rid, "writing protected content on this server", tool, rule, path)
                    return False
        return True

    def server_to_client(self, pkt: bytes) -> None:
        if pkt[0] in (HANDLE, STATUS) and len(pkt) >= 5:
            r = Reader(pkt, 1)
            rid = r.u32()
            with self.lock:
                path = self.pending.pop(rid, None)
                if path is not None and pkt[0] == HANDLE:
                    self.handles[r.string()] = {
                        "path": path, "buf": bytearray(self.head), "mask": bytearray(self.head), "refused": None,
                    }
        self.send(pkt)


def main() -> int:
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        print("usage: sftpguard.py PROTECTED_FILE -- SFTP_SERVER ARGS...", file=sys.stderr)
        return 2
    child = subprocess.Popen(sys.argv[3:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdin is not None and child.stdout is not None
    try:
        flt = Filter(sys.argv[1], child)
    except (OSError, ValueError) as exc:  # no list of what is protected: no SFTP (fail closed)
        os.write(2, f"peerwatch-guard sftp refused: cannot read {sys.argv[1]}: {exc}\n".encode())
        child.kill()
        return 1
    up, down = child.stdin.fileno(), child.stdout.fileno()

    def pump_back() -> None:
        try:
            while True:
                flt.server_to_client(read_packet(down))
        except (EOFError, OSError, ValueError, struct.error):
            os.close(1)

    threading.Thread(target=pump_back, daemon=True).start()
    try:
        while True:
            pkt = read_packet(0)
            if not pkt:
                raise ValueError("empty packet")
            if flt.client_to_server(pkt):
                write_all(up, struct.pack(">I", len(pkt)) + pkt)
    except (EOFError, OSError, ValueError, struct.error, IndexError):
        pass
    child.stdin.close()
    return child.wait()


if __name__ == "__main__":
    sys.exit(main())
