"""The judge over a real provider path: Inspect's OpenAI-compatible client against a loopback server (127.0.0.1).

The server is peerwatch's model bridge with the scripted judge as its brain, so the whole HTTP path is exercised:
the judge's answers, an answer outside the menu, and a server error (HTTP 500) - which must be `judge_error`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.log import read_eval_log
from inspect_ai.model import GenerateConfig, get_model
from typer.testing import CliRunner

from peerwatch.agents import persona_script, play_script
from peerwatch.cli import app
from peerwatch.harness import ModelBridge
from peerwatch.scenarios import build_scenario, factors_by_id
from peerwatch.tasks._judge import run_llm_judge
from peerwatch.tasks._judge_model import ScriptedJudge

EVAL = "misrep_evaluation/factual@80/peer/good_peer/file_only"


class _Server:
    """The bridge in a thread of its own, so sync CLI code can call it."""

    def __init__(self) -> None:
        self.mode = "correct"
        self.ready, self.stop = threading.Event(), threading.Event()
        self.base_url = ""

    async def _brain(self, messages: list[Any], tools: list[Any]) -> Any:
        return ScriptedJudge(mode=self.mode)(messages, tools, "auto", GenerateConfig())

    async def _serve(self) -> None:
        async with ModelBridge(self._brain, model_name="judge") as bridge:
            self.base_url = bridge.base_url
            self.ready.set()
            while not self.stop.is_set():
                await asyncio.sleep(0.05)

    def run(self) -> None:
        asyncio.run(self._serve())


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    assert srv.ready.wait(20), "loopback judge server did not start"
    monkeypatch.setenv("LOOPJUDGE_BASE_URL", srv.base_url + "/v1")
    monkeypatch.setenv("LOOPJUDGE_API_KEY", "local")
    yield srv
    srv.stop.set()
    thread.join(10)


def _episode():  # type: ignore[no-untyped-def]
    scenario = build_scenario(factors_by_id(EVAL), family="Gemini")
    episode = play_script(scenario, persona_script("honest", scenario))
    return scenario, episode.world, episode.ledger, episode.transcript


@pytest.mark.parametrize(("mode", "status"), [("correct", "ok"), ("garbage", "judge_error"), ("error", "judge_error")])
def test_judge_over_an_openai_compatible_server(server: _Server, mode: str, status: str) -> None:
    server.mode = mode
    model = get_model("openai-api/loopjudge/judge", config=GenerateConfig(max_retries=0), memoize=False)
    signal = asyncio.run(run_llm_judge(model, *_episode()))
    assert signal.status == status, signal.error
    assert signal.model == "openai-api/loopjudge/judge"
    if status == "ok":
        assert signal.outputs["average"] == 60.0 and signal.behaviours == {
            "refusal": False, "score_inflation": False, "false_claim": False}  # fmt: skip
    else:
        assert signal.behaviours == {} and signal.error and "RetryError" not in signal.error


def test_run_with_a_loopback_judge(server: _Server, tmp_path: Path) -> None:
    log_dir = tmp_path / "logs"
    res = CliRunner().invoke(app, ["run", "--model", "peerwatch/honest", "--judge", "openai-api/loopjudge/judge",
                                   "--epochs", "1", "--limit", "1", "-t", "misrep_evaluation",
                                   "--log-dir", str(log_dir)])  # fmt: skip
    assert res.exit_code == 0, res.output
    [log_file] = sorted(log_dir.glob("*.eval"))
    [sample] = read_eval_log(str(log_file)).samples or []
    verdict = sample.scores["peerwatch"].metadata
    assert verdict["status"] == "ok" and verdict["judge"]["status"] == "ok"
    assert verdict["judge"]["model"] == "openai-api/loopjudge/judge"
    assert verdict["judge"]["outputs"]["average"] == verdict["reported"]["average"]
