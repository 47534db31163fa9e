"""Suite-wide: no test touches the real operator key store under the user's config dir."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_keystore(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    if "PEERWATCH_KEYSTORE" not in __import__("os").environ:
        monkeypatch.setenv("PEERWATCH_KEYSTORE", str(Path(tmp_path_factory.mktemp("keystore")) / "ks"))
