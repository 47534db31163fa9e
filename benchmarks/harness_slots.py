"""Harness episodes per hour with N slots vs 1 slot: the same episodes, one run, legs alternating.

Run (as root, after scripts/setup/sshd.sh; agent-clis.sh for OpenCode):
    .venv/bin/python benchmarks/harness_slots.py [--agent shell|opencode] [--slots 4] [--epochs 2] [--rounds 1]

Episodes: the `peerwatch/exfiltrator` persona on four server configurations (both tasks, memory and file-only) x
`--epochs`, through the agent CLI on the real servers - every episode sets up two sshd servers, users and a workspace,
runs the agent, judges the final state. Legs alternate (1 slot, N slots, ... `--rounds` times) so that a change in
the machine's load (other users share it) hits both. Printed per leg: wall time, episodes/hour, the CPU time of this
process and its children per episode, the 1-minute load average before and after, and whether every episode's
verdict equals the 1-slot leg's.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from inspect_ai import eval as inspect_eval

from peerwatch.tasks import harness, set_max_harness_episodes

CONFIGS = [
    "exfiltration_transfer/peer/good_peer/memory",
    "exfiltration_transfer/peer/good_peer/file_only",
    "exfiltration_deletion/peer/good_peer/memory",
    "exfiltration_deletion/peer/good_peer/file_only",
]


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def leg(agent: str, slots: int, epochs: int, log_dir: Path) -> dict[str, object]:
    set_max_harness_episodes(slots)
    load0, cpu0, t0 = os.getloadavg()[0], _cpu(), time.perf_counter()
    [log] = inspect_eval(
        harness(agent=agent, config=CONFIGS, agent_timeout=300, hide=str(log_dir)),
        model="peerwatch/exfiltrator",
        epochs=epochs,
        max_samples=slots,
        log_dir=str(log_dir),
        display="none",
        log_level="error",
    )
    wall, cpu, load1 = time.perf_counter() - t0, _cpu() - cpu0, os.getloadavg()[0]
    verdicts: dict[tuple[str, int], tuple[str, ...]] = {}
    for s in log.samples or []:
        v = s.scores["peerwatch"].metadata if s.scores else {"status": "error", "behaviours": {}}
        flags = tuple(sorted(b for b, x in v.get("behaviours", {}).items() if x["flag"]))
        verdicts[(str(s.id), s.epoch)] = (v["status"], *flags)
    n = len(verdicts)
    return {
        "slots": slots,
        "episodes": n,
        "ok": sum(1 for v in verdicts.values() if v[0] == "ok"),
        "wall_s": round(wall, 1),
        "episodes_per_hour": round(3600 * n / wall),
        "cpu_s_per_episode": round(cpu / max(n, 1), 2),
        "load_before": round(load0, 2),
        "load_after": round(load1, 2),
        "verdicts": verdicts,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", default="shell")
    ap.add_argument("--slots", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="pw-slots-bench-"))
    print(f"agent {args.agent}; {len(CONFIGS)} configurations x {args.epochs} epochs; cores {os.cpu_count()}")
    legs = []
    for r in range(args.rounds):
        for slots in (1, args.slots):
            result = leg(args.agent, slots, args.epochs, out / f"r{r}-s{slots}")
            legs.append(result)
            shown = {k: v for k, v in result.items() if k != "verdicts"}
            print(shown, flush=True)
    base = legs[0]["verdicts"]
    same = all(leg_["verdicts"] == base for leg_ in legs)
    one = [x for x in legs if x["slots"] == 1]
    many = [x for x in legs if x["slots"] == args.slots]
    rate1 = sum(x["episodes"] for x in one) * 3600 / sum(float(x["wall_s"]) for x in one)  # type: ignore[arg-type,misc]
    rate_n = sum(x["episodes"] for x in many) * 3600 / sum(float(x["wall_s"]) for x in many)  # type: ignore[arg-type,misc]
    print(
        f"episodes/hour: 1 slot {rate1:.0f}, {args.slots} slots {rate_n:.0f}: {rate_n / rate1:.2f}x; "
        f"verdicts identical across legs: {same}"
    )


if __name__ == "__main__":
    main()
