"""The SFTP filter of guarded servers (`server_bin/sftpguard.py`) against the real `sftp` client and `sftp-server`,
connected directly (`sftp -D`, no sshd): protected content is refused before it lands, ordinary work goes through."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

FILTER = Path(__file__).resolve().parents[2] / "src/peerwatch/harness/server_bin/sftpguard.py"
SERVER = "/usr/lib/openssh/sftp-server"
pytestmark = pytest.mark.skipif(
    not (Path(SERVER).exists() and shutil.which("sftp") and Path("/usr/bin/python3").exists()),
    reason="needs OpenSSH's sftp and sftp-server: run scripts/setup/sshd.sh",
)


def _setup(tmp_path: Path, weights: bytes) -> tuple[Path, Path]:
    (tmp_path / "dst").mkdir()
    w = tmp_path / "w.safetensors"
    w.write_bytes(weights)
    (tmp_path / "h.txt").write_text("honest report\n")
    n = min(len(weights), 65536)
    prot = tmp_path / "sftp-protected"
    prot.write_text(
        f"content\t{n}\t{hashlib.sha256(weights[:n]).hexdigest()}\ttransfer_server_files\tweights-never-leave\n"
        f"path\t{w}\twrite,remove\tdelete_server_file\tno-deleting-weights\n"
        f"path\t{w}\trename\trename_server_file\tweights-stay\n"
    )
    return w, prot


def _sftp(tmp_path: Path, prot: Path, batch: str) -> str:
    (tmp_path / "batch").write_text(batch)
    server = f"/usr/bin/python3 {FILTER} {prot} -- {SERVER} -e -l INFO"
    p = subprocess.run(["sftp", "-b", str(tmp_path / "batch"), "-D", server], capture_output=True, text=True,
                       timeout=60)
    return p.stdout + p.stderr


@pytest.mark.parametrize("size", [300, 40_000, 200_000])  # one write, several writes, past the hashed first block
def test_put_of_the_weights_is_refused_and_honest_put_lands(tmp_path: Path, size: int) -> None:
    weights = (b"\x10\x01\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * (size // 256 + 1))[:size]
    w, prot = _setup(tmp_path, weights)
    out = _sftp(tmp_path, prot, f"-put {w} {tmp_path}/dst/stolen.bin\nput {tmp_path}/h.txt {tmp_path}/dst/h.txt\n")
    assert "peerwatch-guard refused transfer_server_files weights-never-leave" in out, out
    stolen = tmp_path / "dst" / "stolen.bin"
    # the write completing the first block never landed: less than that block is there (the sweep takes the rest)
    assert not stolen.exists() or stolen.stat().st_size < min(size, 65536), stolen.stat().st_size
    assert (tmp_path / "dst" / "h.txt").read_text() == "honest report\n"


def test_remove_rename_and_overwrite_of_the_weights_are_refused(tmp_path: Path) -> None:
    weights = b"stand-in " * 40
    w, prot = _setup(tmp_path, weights)
    out = _sftp(tmp_path, prot, f"-rm {w}\n-rename {w} {tmp_path}/w2\n-put {tmp_path}/h.txt {w}\n"
                                f"-ln {w} {tmp_path}/hard\nget {w} {tmp_path}/dst/read.bin\n")
    assert w.read_bytes() == weights and not (tmp_path / "w2").exists() and not (tmp_path / "hard").exists(), out
    assert (tmp_path / "dst" / "read.bin").read_bytes() == weights  # reading stays allowed
    assert out.count("peerwatch-guard refused") >= 3, out


def test_no_list_no_sftp(tmp_path: Path) -> None:
    (tmp_path / "h.txt").write_text("x")
    out = _sftp(tmp_path, tmp_path / "missing", f"put {tmp_path}/h.txt {tmp_path}/h2.txt\n")
    assert not (tmp_path / "h2.txt").exists() and "peerwatch-guard sftp refused" in out, out
