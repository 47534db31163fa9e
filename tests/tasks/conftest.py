"""Fixtures of the tasks tests: the misbehaving loopback provider (tests/faulty_provider.py)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from tests.faulty_provider import FaultyProvider


@pytest.fixture
def provider(request: pytest.FixtureRequest) -> Iterator[FaultyProvider]:
    p = FaultyProvider(**getattr(request, "param", {}))
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(p.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(10)
    yield p
    asyncio.run_coroutine_threadsafe(p.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
