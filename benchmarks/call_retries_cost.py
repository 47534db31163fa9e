"""What recording each sample's call retries costs per sample: the cleanup that writes them vs the sample-end scan the
run's live count made before (both a pass over the sample's events), side by side on real samples.

Run: .venv/bin/python benchmarks/call_retries_cost.py LOG_DIR [--samples 200] [--rounds 5]

LOG_DIR holds peerwatch logs (e.g. a `peerwatch demo`'s). Each sample's events are put in a transcript of its own, as
Inspect holds them at the sample's end, then timed: "before" is the old `on_sample_end` count over the logged
sample's events, "after" is `record_call_retries` (tasks/_call_retries.py: the same pass over the transcript's events,
plus the metadata write) with the hook's `note_sample_end`. Prints microseconds per sample and per model turn, and the
load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from types import SimpleNamespace

from inspect_ai.log import list_eval_logs, read_eval_log
from inspect_ai.log._transcript import Transcript, init_transcript

from peerwatch.tasks._call_retries import count_call_retries, note_sample_end, record_call_retries


def _old_scan(events: list) -> int:
    return sum(getattr(e, "retries", None) or 0 for e in events if e.event == "model")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("logs")
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    samples = []
    for info in list_eval_logs(args.logs, recursive=True):
        samples += read_eval_log(info.name).samples or []
        if len(samples) >= args.samples:
            break
    samples = samples[: args.samples]
    turns = sum(sum(e.event == "model" for e in s.events) for s in samples)
    events = sum(len(s.events) for s in samples)
    transcripts = []
    for s in samples:
        t = Transcript()
        t._events.extend(s.events)  # the sample's events, resident, as at its end
        transcripts.append(t)
    count_call_retries(True)

    states = [
        SimpleNamespace(uuid=f"u{i}", metadata={}, model="m", sample_id=s.id, epoch=s.epoch)
        for i, s in enumerate(samples)
    ]
    ends = [SimpleNamespace(sample_id=t.uuid, sample=SimpleNamespace(metadata=t.metadata, error=None)) for t in states]

    async def after() -> float:
        t0 = time.process_time()  # inside the loop: its start-up is not the cleanup's
        for state, end, t in zip(states, ends, transcripts, strict=True):
            init_transcript(t)
            await record_call_retries(state)  # type: ignore[arg-type]
            note_sample_end(end)  # type: ignore[arg-type]
        return time.process_time() - t0

    def before() -> None:
        for s in samples:
            _old_scan(s.events)

    for r in range(args.rounds):
        t0 = time.process_time()
        before()
        spent_before = time.process_time() - t0
        spent_after = asyncio.run(after())
        b, a = spent_before / len(samples) * 1e6, spent_after / len(samples) * 1e6
        print(f"round {r + 1}: before {b:.1f} us/sample, after {a:.1f} us/sample ({a / b:.2f}x); "
              f"after per model turn {a * len(samples) / max(turns, 1):.2f} us")  # fmt: skip
    count_call_retries(False)
    print(f"{len(samples)} samples, {turns} model turns, {events} events")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
