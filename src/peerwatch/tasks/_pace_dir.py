"""Where one run's shared pacing files live, and how a killed run's are found and removed.

The worker processes of a run on one machine keep their timetables and spend in files of one directory
(`PaceOptions.shared`, see `_pace` and `_timetable`). A run killed with kill -9 cannot remove it, so every run
directory sits under one per-user root and holds an `owner` file each live process of the run keeps a shared flock
on; the next run's start removes every directory nobody holds.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

_OWNER = "owner"  # in a run's shared dir: every process of the run holds a shared flock on it while it lives
_STAGING_AGE = 60.0  # seconds: a dir still being set up (no owner yet) older than this was left by a killed run


def hold(directory: Path | str) -> int:
    """Take this process's shared hold on a run directory (kept until the returned fd is closed)."""
    fd = os.open(Path(directory) / _OWNER, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def _pace_root() -> Path | None:
    # One dir per user under the temp dir, so a killed run's leftovers are found by the next run (not another
    # user's); None (no sweeping) when something else already sits there.
    root = Path(tempfile.gettempdir()) / f"peerwatch-pace-{os.getuid()}"
    with suppress(FileExistsError):
        root.mkdir(mode=0o700)
    info = root.lstat()
    if root.is_symlink() or not root.is_dir() or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return root


def _sweep(root: Path) -> None:
    """Remove the run dirs no live process holds: their run was killed (kill -9) before it could remove them."""
    for entry in root.iterdir():
        try:
            if entry.name.startswith("."):  # being set up: only an old one is a leftover
                if time.time() - entry.lstat().st_mtime > _STAGING_AGE:
                    shutil.rmtree(entry, ignore_errors=True)
                continue
            fd = os.open(entry / _OWNER, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # only when no process of its run is alive
            shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            pass  # a live run (the parent, or a worker that outlived a killed parent)
        finally:
            os.close(fd)


@contextmanager
def shared_pace_dir() -> Iterator[str]:
    """The directory of one run's shared pacing files (`PaceOptions.shared`), removed after the run.

    A run killed with kill -9 cannot remove its own: each run dir holds an `owner` file that every process of the
    run keeps a shared flock on (this one here, the workers in `configure`), and the next run's start removes every
    dir nobody holds - never one whose workers still run. A dir is set up under a dot-name and renamed once held,
    so no sweep sees it unheld.
    """
    root = _pace_root()
    if root is None:
        with tempfile.TemporaryDirectory(prefix="peerwatch-pace-") as plain:
            yield plain
        return
    _sweep(root)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".run-"))
    fd = hold(staging)
    path = root / staging.name[1:]
    try:
        staging.rename(path)
        yield str(path)
    finally:
        shutil.rmtree(path if path.exists() else staging, ignore_errors=True)
        os.close(fd)
