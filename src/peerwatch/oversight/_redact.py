"""Keep DSN secrets out of anything printed, stored or used as a name."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit, urlunsplit

_KV_SECRET = re.compile(r"(password|sslpassword|passfile)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_URL_SECRET = re.compile(r"(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@", re.IGNORECASE)


def is_dsn(location: str) -> bool:
    """Whether a store location is a PostgreSQL DSN."""
    return location.startswith(("postgresql://", "postgres://"))


def redact_dsn(location: str) -> str:
    """The location with any password removed (URL user:password@, password= parameters); paths unchanged."""
    if not is_dsn(location):
        return location
    try:
        parts = urlsplit(location)
        netloc = parts.netloc.rpartition("@")
        user = netloc[0].partition(":")[0]
        host = netloc[2]
        query = _KV_SECRET.sub(r"\1=***", parts.query.replace("&", " ")).replace(" ", "&")
        safe = urlunsplit((parts.scheme, f"{user}@{host}" if user else host, parts.path, query, ""))
    except ValueError:
        safe = _URL_SECRET.sub(r"\1***@", location)
    return _KV_SECRET.sub(r"\1=***", safe)


def secrets_of(location: str) -> list[str]:
    """The secret substrings of a DSN (to scrub them from driver error messages)."""
    if not is_dsn(location):
        return []
    out = [m.group(2).strip("'") for m in _KV_SECRET.finditer(location)]
    try:
        pw = urlsplit(location).password
    except ValueError:
        pw = None
    return [s for s in [*out, pw or ""] if s]


def redact_error(exc: BaseException, location: str) -> str:
    """One line of a driver error with the DSN's secrets removed."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    for secret in secrets_of(location):
        text = text.replace(secret, "***")
    return _URL_SECRET.sub(r"\1***@", _KV_SECRET.sub(r"\1=***", text))


def log_file_name(log_id: str) -> str:
    """A file name for a log id: readable tail plus a hash, never any path separator."""
    tail = re.sub(r"[^A-Za-z0-9._-]", "_", log_id.rsplit("/", 1)[-1])[:40]
    return f"{tail}-{hashlib.sha256(log_id.encode()).hexdigest()[:16]}"
