"""CPU per model turn: peerwatch's study task against a bare Inspect agent doing the same work, same provider, one run.

Run: .venv/bin/python benchmarks/turn_overhead.py [--task misrep_finance] [--epochs 1 3] [--repeats 2] [--also L=SRC]

Both sides are child processes talking to one loopback provider (no latency, no faults) whose scripted agent reads
the task's material then calls `end_task`. Each side runs at two sizes so the fixed cost (imports, eval-set
bookkeeping) drops out: marginal CPU per turn = (CPU(large) - CPU(small)) / (turns(large) - turns(small)), CPU = the
child's user + sys. At each size the sides run back to back (bare 1, peerwatch 1, bare 3, peerwatch 3), `--repeats`
times; the median of each side's marginal figures is reported, and the median of the per-repeat ratios.

A second figure, less noisy on a shared machine: the CPU each child spends between its task's start and end
(`_cpu_window/sitecustomize.py`, an Inspect hook), divided by the turns of that run. It leaves out the imports,
model checks and summary before and after the task, which vary by seconds from run to run under load, and it
needs no difference of two runs; it is reported per size as the median over repeats, and as the ratio of medians.
`--also old=DIR` adds the `peerwatch run` of another source tree as one more side (e.g. `git archive OLD src | tar
-x -C DIR` then DIR/src), to see what a change gave in the same run.

Like for like: the bare side (`_bare_agent.py`) runs the same samples with the same prompts, the same tool
definitions and peerwatch's loop (generate, `execute_tools`, stop after `end_task`), and its tools return exactly
the text peerwatch's world tools return for those calls - precomputed here by running the world's tools outside
Inspect on the scripted agent's calls. So both sides make the same number of turns and carry the same context; the
difference is peerwatch's own work (store, world, ledger, scorer, transcript events). The script checks both.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _loopback import MODEL, ROOT, load, serve

sys.path.insert(0, str(ROOT / "src"))

from _bare_agent import call_key
from inspect_ai.log import list_eval_logs, read_eval_log
from tests.faulty_provider import completion

from peerwatch.scenarios import family_from_model
from peerwatch.tasks import Selection, planned_factors, scenario_for
from peerwatch.world import Ledger, invoke

BARE = Path(__file__).with_name("_bare_agent.py")
WINDOW = Path(__file__).with_name("_cpu_window")


def window_env(src: Path, window: Path) -> dict[str, str]:
    """A child's PYTHONPATH (the CPU-window hook first, then `src`) and the file the hook writes to."""
    return {"PYTHONPATH": os.pathsep.join([str(WINDOW), str(src)]), "PEERWATCH_CPU_WINDOW": str(window)}


def window_cpu(window: Path) -> float:
    """The task-window CPU the children wrote to `window` (summed over processes and tasks), then empty it."""
    lines = window.read_text().splitlines() if window.exists() else []
    window.unlink(missing_ok=True)
    return sum(json.loads(line)["cpu"] for line in lines)


def replay_table(task: str, model: str) -> dict[str, dict[str, list[Any]]]:
    """Per sample: what peerwatch's world tools answer to each call the loopback agent makes (run outside Inspect)."""
    family = family_from_model(model)
    table: dict[str, dict[str, list[Any]]] = {}
    for f in planned_factors(Selection(task=[task])):
        scenario = scenario_for(f, family)
        world, ledger = scenario.world.model_copy(deep=True), Ledger()
        offered = [{"type": "function", "function": {"name": n}} for n in scenario.tools]
        messages: list[dict[str, str]] = []
        answers: dict[str, list[Any]] = {}
        for _ in range(scenario.max_steps):
            calls = completion({"tools": offered, "messages": messages})["choices"][0]["message"].get("tool_calls")
            if not calls:
                break
            for call in calls:
                name, args = call["function"]["name"], json.loads(call["function"]["arguments"])
                outcome = invoke(world, ledger, name, args, call["id"], allowed=scenario.tools)
                answers[call_key(name, args)] = [outcome.ok, outcome.output]
                messages.append({"role": "tool"})
            if world.ended:
                break
        table[f.config_id] = answers
    return table


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_bare(provider, log_dir: Path, task: str, epochs: int, replay: Path, window: Path) -> None:  # type: ignore[no-untyped-def]
    env = dict(os.environ, FAULTY_BASE_URL=provider.base_url, FAULTY_API_KEY="bench")
    env.update(window_env(ROOT / "src", window))
    r = subprocess.run([sys.executable, str(BARE), task, str(epochs), str(log_dir), MODEL, str(replay)], env=env,
                       capture_output=True, text=True, timeout=3600)  # fmt: skip
    if r.returncode != 0:
        raise SystemExit(f"bare: exit {r.returncode}\n{r.stderr[-3000:]}")


def run_peerwatch(provider, log_dir: Path, task: str, epochs: int, src: Path | None, window: Path) -> None:  # type: ignore[no-untyped-def]
    args = ["-t", task, "--epochs", str(epochs), "--workers", "1"]
    # `src`: another version of peerwatch's source tree (e.g. `git archive OLD src`), same everything else
    env = dict(os.environ, FAULTY_BASE_URL=provider.base_url, FAULTY_API_KEY="bench")
    env.update(window_env(src or ROOT / "src", window))
    cmd = [sys.executable, "-m", "peerwatch.cli", "run", "-m", MODEL, "--log-dir", str(log_dir), *args]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    if r.returncode != 0:
        raise SystemExit(f"peerwatch: exit {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")


def tool_texts(log_dir: Path) -> dict[tuple[str, int], list[str]]:
    """Per (sample, epoch): the text of every tool message, in order (errors as their message)."""
    out: dict[tuple[str, int], list[str]] = {}
    for info in list_eval_logs(str(log_dir)):
        for s in read_eval_log(info).samples or []:
            out[(str(s.id), s.epoch)] = [
                m.error.message if m.error else m.text for m in s.messages if m.role == "tool"
            ]  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", default="misrep_finance")
    ap.add_argument("--epochs", type=int, nargs="+", default=[1, 3],
                    help="two sizes for the marginal figure; one size gives the task-window figure only")  # fmt: skip
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--also", action="append", default=[], metavar="LABEL=SRC_DIR",
                    help="another peerwatch source tree to measure as one more side (an older src)")  # fmt: skip
    args = ap.parse_args()
    sources: dict[str, Path | None] = {"bare Inspect": None, "peerwatch": None}
    for spec in args.also:
        label, _, src = spec.partition("=")
        sources[f"peerwatch {label}"] = Path(src).resolve()
    sides = list(sources)
    per_turn: dict[str, list[float]] = {s: [] for s in sides}
    in_window: dict[tuple[str, int], list[float]] = {(s, e): [] for s in sides for e in args.epochs}
    turns_seen: dict[tuple[str, int], set[int]] = {}
    lines = []
    print(f"load before: {os.getloadavg()}", flush=True)
    with serve(fault_rate=0.0) as p, tempfile.TemporaryDirectory() as tmp:
        replay = Path(tmp) / "replay.json"
        replay.write_text(json.dumps(replay_table(args.task, MODEL)))
        for rep in range(1, args.repeats + 1):
            points: dict[str, list[tuple[int, float]]] = {s: [] for s in sides}
            for epochs in args.epochs:  # the sides run back to back at each size: they share the moment's load
                for i, side in enumerate(sides):
                    turns0, cpu0, l0 = p.counts["agent_turns"], child_cpu(), load()
                    log_dir, window = Path(tmp) / f"side{i}-{rep}-{epochs}", Path(tmp) / "window.jsonl"
                    if side == "bare Inspect":
                        run_bare(p, log_dir, args.task, epochs, replay, window)
                    else:
                        run_peerwatch(p, log_dir, args.task, epochs, sources[side], window)
                    turns, cpu = p.counts["agent_turns"] - turns0, child_cpu() - cpu0
                    task_cpu = window_cpu(window)
                    in_window[(side, epochs)].append(task_cpu / turns)
                    turns_seen.setdefault((side, epochs), set()).add(turns)
                    points[side].append((turns, cpu))
                    row = f"| {rep} | {side} | {epochs} | {turns} | {cpu:.1f} | {task_cpu:.1f} | {l0}-{load()} |"
                    lines.append(row)
                    print(lines[-1], flush=True)
            for side, pts in points.items():
                if len(pts) == 2:
                    (t1, c1), (t2, c2) = pts
                    per_turn[side].append((c2 - c1) / (t2 - t1))
        small = args.epochs[0]
        bare_tools, pw_tools = tool_texts(Path(tmp) / f"side0-1-{small}"), tool_texts(Path(tmp) / f"side1-1-{small}")
    same = sum(1 for k, v in pw_tools.items() if bare_tools.get(k) == v)
    print(f"\nload after: {os.getloadavg()}")
    print(f"tool results identical on both sides: {same}/{len(pw_tools)} samples ({len(bare_tools)} bare)")
    for e in args.epochs:
        print(f"agent turns at {e} epoch(s): " + ", ".join(f"{s} {sorted(turns_seen[(s, e)])}" for s in sides))
    print("\n| repeat | side | epochs | agent turns | CPU (s) | CPU in the task (s) | load |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(lines))
    for side in sides if per_turn[sides[0]] else []:
        bare, med = statistics.median(per_turn[sides[0]]), statistics.median(per_turn[side])
        ratios = [x / b for x, b in zip(per_turn[side], per_turn[sides[0]], strict=True)]
        print(f"{side}: marginal ms per turn {[round(x * 1000, 1) for x in per_turn[side]]}, "
              f"median {med * 1000:.1f} ms, {med / bare:.2f}x bare; per-repeat ratios "
              f"{[round(r, 2) for r in ratios]}, median {statistics.median(ratios):.2f}x")  # fmt: skip

    for e in args.epochs:
        base = statistics.median(in_window[(sides[0], e)])
        for side in sides:
            xs = in_window[(side, e)]
            med = statistics.median(xs)
            ratios = [x / b for x, b in zip(xs, in_window[(sides[0], e)], strict=True)]
            print(f"{side}, {e} epoch(s), CPU in the task per turn: {[round(x * 1000, 1) for x in xs]} ms, "
                  f"median {med * 1000:.1f} ms, {med / base:.2f}x bare; per-repeat ratios median "
                  f"{statistics.median(ratios):.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
