"""Fixtures of red team 12: the held-out gateway, the real `peerwatch` command, and a tally of what the logs hold.

The CLI runs take tens of seconds each on a shared 2-core machine, so they are opt-in (`PEERWATCH_REDTEAM12=1`);
the in-process checks of the call-level retry classification run in CI (see README.md here).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .provider import FaultMix, Gateway

PEERWATCH = [sys.executable, "-m", "peerwatch.cli"]
SERVICE = "rtgw"  # openai-api/rtgw/<model>: RTGW_BASE_URL and RTGW_API_KEY
OPT_IN = os.environ.get("PEERWATCH_REDTEAM12") == "1"
cli_suite = pytest.mark.skipif(not OPT_IN, reason="red team 12 CLI suite (opt-in: PEERWATCH_REDTEAM12=1)")


@pytest.fixture
def gateway() -> Iterator[Callable[..., Gateway]]:
    """A factory of started gateways (keyword arguments: a FaultMix's fields); all are stopped at the end."""
    started: list[Gateway] = []

    def start(**mix: object) -> Gateway:
        gw = Gateway(FaultMix(**mix)).start()  # type: ignore[arg-type]
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.stop()


def env_for(gw: Gateway, key: str = "sk-redteam12") -> dict[str, str]:
    """The environment a new user would have: the service's base URL and key, no display, this tree first."""
    # PEERWATCH_REDTEAM12_SRC: another tree's src (e.g. an older commit's) to see which attacks it survives.
    src = os.environ.get("PEERWATCH_REDTEAM12_SRC") or str(Path(__file__).resolve().parents[2] / "src")
    return dict(
        os.environ,
        RTGW_BASE_URL=gw.base_url,
        RTGW_API_KEY=key,
        PYTHONPATH=os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        INSPECT_DISPLAY="none",
        NO_COLOR="1",
        COLUMNS="200",
    )


def model_of(gw: Gateway, name: str | None = None) -> str:
    return f"openai-api/{SERVICE}/{name or gw.mix.model}"


def peerwatch(
    gw: Gateway, log_dir: Path | None, *args: str, timeout: float = 420, model: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`peerwatch run -m openai-api/rtgw/<model> ... --log-dir LOG_DIR` as a user types it."""
    cmd = [*PEERWATCH, "run", "-m", model or model_of(gw), *args]
    if log_dir is not None:
        cmd += ["--log-dir", str(log_dir)]
    return subprocess.run(cmd, env=env_for(gw), capture_output=True, text=True, timeout=timeout)


def start_peerwatch(gw: Gateway, log_dir: Path, *args: str) -> subprocess.Popen[str]:
    """The same command in its own process group (so a kill -9 takes every worker with it)."""
    cmd = [*PEERWATCH, "run", "-m", model_of(gw), *args, "--log-dir", str(log_dir)]
    return subprocess.Popen(
        cmd, env=env_for(gw), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, start_new_session=True
    )


@dataclass
class Tally:
    """What every log under a dir holds, per (model, sample id, epoch)."""

    counts: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    errored: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def pairs(self) -> set[tuple[str, int]]:
        return {(sid, epoch) for _, sid, epoch in self.counts}

    @property
    def duplicated(self) -> int:
        return sum(n - 1 for n in self.counts.values() if n > 1)


def tally(log_dir: Path) -> Tally:
    """Count every sample of every log (any status, shard folders included) under `log_dir`."""
    from inspect_ai.log import list_eval_logs, read_eval_log, read_eval_log_samples

    out = Tally()
    if not log_dir.exists():
        return out
    for info in list_eval_logs(str(log_dir), recursive=True):
        header = read_eval_log(info, header_only=True)
        out.statuses[header.status] += 1
        for sample in read_eval_log_samples(info, all_samples_required=False):
            out.counts[(header.eval.model, str(sample.id), int(sample.epoch))] += 1
            if sample.error is not None:
                out.errored.append(f"{sample.id}#{sample.epoch}: {sample.error.message[:160]}")
    return out


def planned(epochs: int, limit: int | None = None, **selection: list[str]) -> set[tuple[str, int]]:
    """The (sample id, epoch) pairs a run of this selection must leave in its log dir, from peerwatch's own plan."""
    from peerwatch.tasks import Selection, planned_factors

    factors = planned_factors(Selection(**selection), limit)
    return {(f.config_id, e) for f in factors for e in range(1, epochs + 1)}


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The error a failed command printed, asserting it is short and not a traceback."""
    text = (result.stderr + result.stdout).strip()
    assert "Traceback" not in text, text[-3000:]
    return text
