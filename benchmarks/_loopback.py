"""Shared by the benchmarks: the loopback provider in a thread, and `peerwatch run` against it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faulty_provider import FaultyProvider  # noqa: E402

MODEL = "openai-api/faulty/faulty"


@contextmanager
def serve(**kwargs: Any) -> Iterator[FaultyProvider]:
    """A FaultyProvider on 127.0.0.1, served from a thread of this process."""
    provider = FaultyProvider(**kwargs)
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(provider.start())
        started.set()
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    assert started.wait(10)
    try:
        yield provider
    finally:
        asyncio.run_coroutine_threadsafe(provider.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)


def peerwatch(
    provider: FaultyProvider, log_dir: Path, *args: str, timeout: float = 1800, **popen: Any
) -> subprocess.CompletedProcess[str]:
    """`peerwatch run -m MODEL ...` against the provider, in a child process."""
    env = dict(os.environ, FAULTY_BASE_URL=provider.base_url, FAULTY_API_KEY="bench")
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "peerwatch.cli", "run", "-m", MODEL, "--log-dir", str(log_dir), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, **popen)


def load() -> str:
    """The 1-minute load average, for the record."""
    return f"{os.getloadavg()[0]:.1f}"


def clock() -> float:
    """Wall seconds (monotonic)."""
    return time.monotonic()
