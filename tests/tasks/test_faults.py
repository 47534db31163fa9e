"""Runs that lose nothing: provider faults retried, slices of one log dir, permanent errors failing fast.

Everything talks to a misbehaving OpenAI-compatible server on 127.0.0.1 (tests/faulty_provider.py) through
Inspect's real `openai-api` provider and the real `peerwatch` command.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from inspect_ai.log import list_eval_logs, read_eval_log

from tests.faulty_provider import FaultyProvider

PEERWATCH = [sys.executable, "-m", "peerwatch.cli"]


def _run(provider: FaultyProvider, log_dir: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, FAULTY_BASE_URL=provider.base_url, FAULTY_API_KEY="test")
    cmd = [*PEERWATCH, "run", "-m", "openai-api/faulty/faulty", "--timeout", "2", "--log-dir", str(log_dir), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


def _samples(log_dir: Path) -> list[tuple[str, int, bool]]:
    out = []
    for info in list_eval_logs(str(log_dir)):
        log = read_eval_log(info)
        out += [(str(s.id), s.epoch, s.error is not None) for s in log.samples or []]
    return out


@pytest.mark.parametrize(
    "provider", [{"fault_rate": 0.25, "seed": 3, "hang_seconds": 5, "latency": 0.01, "jitter": 0.02}], indirect=True
)
def test_faults_of_every_kind_cost_no_sample(provider: FaultyProvider, tmp_path: Path) -> None:
    r = _run(
        provider, tmp_path / "logs", "-t", "tampering", "--condition", "good_peer", "--limit", "3", "--epochs", "2"
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    samples = _samples(tmp_path / "logs")
    keys = [(i, e) for i, e, _ in samples]
    assert len(samples) == 6 and len(set(keys)) == 6  # the planned set, nothing duplicated
    assert not [s for s in samples if s[2]]  # no errored sample
    faults = sum(provider.counts[f] for f in ("http_500", "http_503", "http_429", "malformed_json", "reset", "hang"))
    assert faults >= 3, provider.counts  # the run really went through faults
    assert "provider faults retried" in r.stdout


@pytest.mark.parametrize("provider", [{"fault_rate": 0.0}], indirect=True)
def test_a_second_slice_into_the_same_log_dir_runs_and_a_rerun_is_a_no_op(
    provider: FaultyProvider, tmp_path: Path
) -> None:
    logs = tmp_path / "logs"
    base = ["-t", "misrep_finance", "--subject", "peer", "--instantiation", "file_only", "--epochs", "1"]
    assert _run(provider, logs, *base, "--condition", "good_peer").returncode == 0
    assert _run(provider, logs, *base, "--condition", "bad_peer").returncode == 0
    conditions = sorted(i.split("/")[2] for i, _, _ in _samples(logs))
    assert conditions == ["bad_peer", "good_peer"]
    turns = provider.counts["agent_turns"]
    assert _run(provider, logs, *base, "--condition", "bad_peer").returncode == 0
    assert provider.counts["agent_turns"] == turns  # nothing re-ran (only the preflight ping was sent)
    # A different epoch count is a different task, not "done" - and not a second run of the finished epoch either
    # (red team 12): a one-line error naming the epochs the dir holds, nothing run.
    r = _run(provider, logs, *base, "--condition", "bad_peer", "--epochs", "2")
    assert r.returncode == 2 and "--epochs 1" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert provider.counts["agent_turns"] == turns and len(_samples(logs)) == 2


def test_foreign_logs_in_the_log_dir_are_a_one_line_error(tmp_path: Path) -> None:
    from inspect_ai import Task, eval
    from inspect_ai.dataset import Sample

    eval(
        Task(dataset=[Sample(input="hi")], name="foreign"), model="mockllm/model", log_dir=str(tmp_path), display="none"
    )
    r = subprocess.run(
        [*PEERWATCH, "run", "-m", "peerwatch/honest", "-t", "tampering", "--limit", "1", "--log-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and "not a peerwatch log" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_a_refused_key_fails_before_any_sample(tmp_path: Path) -> None:
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Refuse(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = b'{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}'
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = dict(os.environ, FAULTY_BASE_URL=f"http://127.0.0.1:{server.server_port}/v1", FAULTY_API_KEY="bad")
        r = subprocess.run(
            [*PEERWATCH, "run", "-m", "openai-api/faulty/faulty", "-t", "tampering", "--limit", "1",
             "--log-dir", str(tmp_path / "logs")],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        server.shutdown()
    assert r.returncode == 2 and "HTTP 401" in r.stderr, r.stderr
    assert not list((tmp_path / "logs").glob("*.eval"))
