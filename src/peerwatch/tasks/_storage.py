"""Log dirs on any filesystem Inspect can write: a local path, a shared mount, or an fsspec URL such as `s3://b/p`.

`pathlib` collapses `s3://bucket/prefix` into `s3:/bucket/prefix` (a local folder named `s3:`), so every path
operation on a log dir goes through here.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any
from urllib.parse import urlparse


class StorageError(ValueError):
    """A log dir that cannot be reached (missing filesystem package, bad credentials, missing bucket...)."""


def is_url(path: str) -> bool:
    """True for an fsspec URL (`s3://...`, `gs://...`, `file://...`), false for a plain local path."""
    scheme = urlparse(path).scheme
    return len(scheme) > 1  # "C:" is a Windows drive, not a scheme


def is_remote(path: str) -> bool:
    """True when the path lives on a filesystem other than this machine's."""
    return is_url(path) and urlparse(path).scheme != "file"


def join(base: str, *parts: str) -> str:
    """`base/part/...` without collapsing a URL's `//`."""
    if is_url(base):
        return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])
    return os.path.join(base, *parts)


def absolute(path: str) -> str:
    """A local path made absolute (a process with another working directory must find it); URLs unchanged."""
    return path if is_url(path) else os.path.abspath(path)


def _fs(path: str) -> tuple[Any, str]:
    import fsspec

    try:
        # As Inspect does: no listing cache, since other processes and machines write into the same log dir.
        fs, root = fsspec.core.url_to_fs(path, use_listings_cache=False, skip_instance_cache=False)
        return fs, str(root)
    except ImportError as exc:  # e.g. s3:// without s3fs
        raise StorageError(f"log dir {path}: {' '.join(str(exc).split())}") from None
    except Exception as exc:
        raise StorageError(f"log dir {path}: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}") from None


def is_dir(path: str) -> bool:
    """Whether the directory (or, on object stores, a prefix holding objects) exists."""
    fs, p = _fs(path)
    try:
        return bool(fs.isdir(p))
    except Exception as exc:  # credentials, endpoint, permissions: one line, not a botocore traceback
        raise StorageError(f"log dir {path}: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}") from None


def names(path: str) -> list[str]:
    """The names of the entries directly in a directory or prefix (empty when it does not exist)."""
    if not is_dir(path):
        return []
    fs, p = _fs(path)
    try:
        return [str(e).rstrip("/").rsplit("/", 1)[-1] for e in fs.ls(p, detail=False)]
    except FileNotFoundError:
        return []


def check_writable(path: str) -> None:
    """Fail before any sample runs when the log dir's storage cannot be reached or written.

    On an object store this means the bucket exists and a probe object can be written and removed; Inspect would
    otherwise only fail when the first log is flushed, after samples have run.
    """
    if not is_remote(path):
        _check_local_writable(path.removeprefix("file://"))
        return
    fs, p = _fs(path)
    probe = f"{p.rstrip('/')}/.peerwatch-write-probe-{os.getpid()}"
    try:
        fs.pipe_file(probe, b"")
        fs.rm_file(probe)
    except Exception as exc:
        raise StorageError(
            f"log dir {path} is not writable ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
        ) from None


def _check_local_writable(path: str) -> None:
    # A file in the way or a read-only parent would otherwise be a traceback from the first makedirs or log write.
    # A dir that does not exist yet is not created here (a run refused later must leave nothing behind): its
    # nearest existing ancestor must be a directory this process can create entries in.
    if os.path.exists(path) and not os.path.isdir(path):
        raise StorageError(f"log dir {path} exists and is not a directory; use another --log-dir")
    if not os.path.isdir(path):
        parent = os.path.dirname(os.path.abspath(path))
        while not os.path.exists(parent):
            parent = os.path.dirname(parent)
        if not os.path.isdir(parent):
            raise StorageError(f"log dir {path}: {parent} is not a directory; use another --log-dir")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise StorageError(f"log dir {path} is not writable (cannot create it in {parent}); use another --log-dir")
        return
    try:
        fd, probe = tempfile.mkstemp(prefix=".peerwatch-write-probe-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise StorageError(f"log dir {path} is not writable ({reason}); use another --log-dir") from None
