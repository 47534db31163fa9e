"""`peerwatch run` against the red team's own loopback provider (tests/redteam13/provider.py), as a new user runs it:
`openai-api/loop/<model>` with LOOP_BASE_URL / LOOP_API_KEY. Every fault kind of its mix is on; the run must end
with 0 errored samples, nothing duplicated, and the call retries in the summary.

Seen before the fix: with `--rpm` the summary said "0 call retries" after ~25 retried 5xx, hangs and broken bodies
(Inspect's own retries are not in `ModelEvent.retries`; only the SDK's hidden ones are). The long variants
(more samples, --workers 2) run with PEERWATCH_REDTEAM13=1.
"""

from __future__ import annotations

import json
import os
import re
import time

import pytest

from tests.redteam13 import attack

LONG = os.environ.get("PEERWATCH_REDTEAM13") == "1"
CASES = [("1", "2", "1"), ("2", "5", "2"), ("4", "5", "2")] if LONG else [("1", "2", "1")]
TRANSPORT = ("fate:5xx", "fate:hang", "fate:cut_json", "fate:html_200", "fate:sse_200", "fate:reset_mid_body")


@pytest.mark.timeout(900)
@pytest.mark.parametrize(("limit", "epochs", "workers"), CASES)
def test_run_through_every_fault(tmp_path, limit, epochs, workers):
    stats = tmp_path / "stats.json"
    prov, port = attack.start_provider(stats, "--seed", "13", "--fault-rate", "0.25", "--rpm", "240", "--hang", "10")
    try:
        env = attack.env_for(port)
        logs = str(tmp_path / "logs")
        args = ["run", "-m", "openai-api/loop/loop-1", "-t", "tampering", "--limit", limit, "--epochs", epochs,
                "--timeout", "3", "--rpm", "200", "--workers", workers, "--log-dir", logs]  # fmt: skip
        res = attack.peerwatch(args, env)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
        time.sleep(1.5)  # the provider rewrites its stats every second
        injected = json.loads(stats.read_text())
        summary = next(ln for ln in res.stdout.splitlines() if ln.startswith("samples:"))
        counted = int(re.search(r"([\d,]+) call retr", summary).group(1).replace(",", ""))
        transport = sum(injected.get(k, 0) for k in TRANSPORT)
        assert "errored: 0" in summary, summary
        assert transport > 0, injected
        assert 0 < counted <= transport + injected.get("fate:429", 0), (summary, injected)
        rows = attack.report_rows(logs, tmp_path / "report", env)
        configs = {r["config_id"] for r in rows}
        assert len(configs) == int(limit)
        planned = {("openai-api/loop/loop-1", c, e) for c in configs for e in range(1, int(epochs) + 1)}
        assert attack.check_exact(rows, planned) == []
        raw = attack.raw_samples(logs)
        assert all(n == 1 for k, n in raw.items() if k[3] == "ok"), raw
    finally:
        prov.kill()
