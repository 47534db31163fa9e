"""What the harness guard's mixins (`_guard_before`, `_guard_after`) rely on from `HarnessGuard`, declared for mypy.

`HarnessGuard` sets these in `__init__` and `attach`, and defines the methods; the mixins only use them.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._guard import GuardEvent


class GuardState:
    """The attributes and helpers of one episode's guard that its before- and after-checks share."""

    _lock: threading.RLock
    _kept: set[tuple[str, str, str, str]]
    data_dirs: dict[str, Path]
    home: dict[str, tuple[str, str]]
    backup: dict[tuple[str, str], tuple[bytes, float, float]]

    def identify(self, path: Path) -> str | None:  # pragma: no cover - defined by HarnessGuard
        raise NotImplementedError

    def _host_path(self, ip: str, path: str) -> Path:  # pragma: no cover
        raise NotImplementedError

    def _link_target(self, ip: str, root: Path, link: Path) -> Path:  # pragma: no cover
        raise NotImplementedError

    def _decide(  # pragma: no cover
        self, check: str, ip: str, tool: str, args: dict[str, Any], command: str | None
    ) -> GuardEvent:
        raise NotImplementedError

    def _record(  # pragma: no cover
        self,
        check: str,
        ip: str,
        tool: str,
        args: dict[str, Any],
        decision: str,
        rule: str,
        reason: str,
        command: str | None = None,
    ) -> GuardEvent:
        raise NotImplementedError
