"""Each fault of the held-out gateway, once per call, against the model a `peerwatch run` builds (in process, fast).

A transient fault must cost one retry of the call, not the sample: a study episode makes 8-150 calls, so a fault
left to the sample-level retry (a re-run of the whole episode) errors most long episodes at a few percent per call.
A permanent fault must not be retried at all.
"""

from __future__ import annotations

import asyncio

import pytest
from inspect_ai.model import ChatMessageUser, GenerateConfig, Model
from inspect_ai.tool import ToolInfo, ToolParams

from peerwatch.tasks import FaultPolicy, ModelCheckError, check_models
from peerwatch.tasks._faults import clear_refusals, refusal, watch_refusals
from peerwatch.tasks._run import preflight

from .conftest import SERVICE
from .provider import MODEL_FAULTS, TRANSIENT, Gateway

TOOLS = [
    ToolInfo(name="list_files", description="List the drive's files.", parameters=ToolParams()),
    ToolInfo(name="end_task", description="End the task.", parameters=ToolParams()),
]
ATTEMPT_TIMEOUT = 3  # seconds; the gateway drips for longer than this


def _model(gw: Gateway, monkeypatch: pytest.MonkeyPatch, key: str = "sk-redteam12", name: str | None = None) -> Model:
    monkeypatch.setenv(f"{SERVICE.upper()}_BASE_URL", gw.base_url)
    monkeypatch.setenv(f"{SERVICE.upper()}_API_KEY", key)
    # Inspect memoizes models by name and arguments: the base URL tells this test's gateway from the last one's.
    [model] = check_models([f"openai-api/{SERVICE}/{name or gw.mix.model}"], {"base_url": gw.base_url})
    return model


def _generate(model: Model):
    # The per-call config a run gives Inspect (peerwatch's FaultPolicy), with a short attempt timeout for the drip.
    faults = FaultPolicy(attempt_timeout=ATTEMPT_TIMEOUT)
    config = GenerateConfig(max_retries=faults.max_retries, attempt_timeout=faults.attempt_timeout)
    return asyncio.run(model.generate([ChatMessageUser(content="Do the task.")], tools=TOOLS, config=config))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", TRANSIENT)
def test_a_transient_fault_costs_one_call_retry(kind: str, gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    gw = gateway(kinds=(kind,), rate=1.0, faulted_attempts=1, drip_seconds=ATTEMPT_TIMEOUT * 3, outage_seconds=1.5)
    output = _generate(_model(gw, monkeypatch))
    assert gw.stats[kind] == 1 and gw.stats["ok"] == 1, dict(gw.stats)
    assert [c.function for c in output.message.tool_calls or []] == ["list_files"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", MODEL_FAULTS)
def test_a_broken_tool_call_is_an_answer_not_an_error(kind: str, gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    gw = gateway(kinds=(kind,), rate=1.0, faulted_attempts=1)
    output = _generate(_model(gw, monkeypatch))
    assert gw.stats["requests"] == 1, dict(gw.stats)  # the model's own mistake: nothing to retry
    assert output.message.tool_calls, output


@pytest.mark.timeout(60)
def test_context_length_is_not_retried(gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    gw = gateway(rate=0.0, context_rate=1.0)
    output = _generate(_model(gw, monkeypatch))
    assert gw.stats["context_length"] == 1 and gw.stats["requests"] == 1, dict(gw.stats)
    assert output.stop_reason == "model_length"


@pytest.mark.timeout(60)
def test_a_revoked_key_is_not_retried_at_the_call_level(gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    gw = gateway(rate=0.0, revoke_after=0)
    watch_refusals(True)  # as a run does (a preflight probe's refusal is not recorded)
    with pytest.raises(Exception) as info:
        _generate(_model(gw, monkeypatch))
    assert getattr(info.value, "status_code", None) == 401
    assert gw.stats["revoked"] <= 2, dict(gw.stats)  # at most one credential refresh, no backoff loop
    # The run is stopped: one line says why, and the next calls of that model do not reach the provider.
    line = refusal()
    assert line and "401" in line and "\n" not in line and "run the same command again" in line
    seen = gw.stats["requests"]
    with pytest.raises(Exception, match="refused"):
        _generate(_model(gw, monkeypatch))
    assert gw.stats["requests"] == seen
    clear_refusals()


@pytest.mark.timeout(60)
def test_an_unknown_model_fails_the_preflight_in_one_line(gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    gw = gateway(rate=0.0)
    model = _model(gw, monkeypatch, name="agent-404")
    with pytest.raises(ModelCheckError) as info:
        preflight([model])
    assert "\n" not in str(info.value) and "404" in str(info.value)


@pytest.mark.timeout(90)
def test_the_preflight_shrugs_off_a_transient_fault(gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    # A 502 on the probe is not a refused key: the run must start (its retries deal with it).
    gw = gateway(kinds=("html_502",), rate=1.0, faulted_attempts=1)
    preflight([_model(gw, monkeypatch)])
    assert gw.stats["html_502"] >= 1


