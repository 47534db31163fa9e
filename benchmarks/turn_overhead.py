"""CPU per model turn: peerwatch's study task against a bare Inspect agent doing the same work, same provider, one run.

Run: .venv/bin/python benchmarks/turn_overhead.py [--task misrep_finance] [--epochs 1 3] [--repeats 2] [--also L=SRC]

Both sides are child processes talking to one loopback provider (no latency, no faults) whose scripted agent reads
the task's material then calls `end_task`. Each side runs at two sizes so the fixed cost (imports, eval-set
bookkeeping) drops out: marginal CPU per turn = (CPU(large) - CPU(small)) / (turns(large) - turns(small)), CPU = the
child's user + sys (its own rusage). At each size the sides run at the same time, one process each, `--repeats`
times, the order they start in rotating by repeat. This machine's speed drifts by tens of percent within minutes
(the same bare run took 16-19 CPU-s at one moment and 23-28 at another), so sides run one after the other compared
different machines; run together, they share the moment, and a ratio per repeat cancels the drift. Reported: each
side's median marginal figure, and the median of the per-repeat ratios.

A second figure, less noisy on a shared machine: the CPU each child spends between its task's start and end
(`_cpu_window/sitecustomize.py`, an Inspect hook), divided by the turns of that run. It leaves out the imports,
model checks and summary before and after the task, which vary by seconds from run to run under load, and it
needs no difference of two runs; it is reported per size as the median over repeats, and the median of the
per-repeat ratios.
`--also old=DIR` adds the `peerwatch run` of another source tree as one more side (e.g. `git archive OLD src | tar
-x -C DIR` then DIR/src), to see what a change gave in the same run; with it three processes share the two cores.

Like for like: the bare side (`_bare_agent.py`) runs the same samples with the same prompts, the same tool
definitions and peerwatch's loop (generate, `execute_tools`, stop after `end_task`), and its tools return exactly
the text peerwatch's world tools return for those calls - precomputed here by running the world's tools outside
Inspect on the scripted agent's calls. So both sides make the same number of turns and carry the same context; the
difference is peerwatch's own work (store, world, ledger, scorer, transcript events). The script checks both.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
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


def bare_command(provider, log_dir: Path, task: str, epochs: int, replay: Path, window: Path):  # type: ignore[no-untyped-def]
    env = dict(os.environ, FAULTY_BASE_URL=provider.base_url, FAULTY_API_KEY="bench")
    env.update(window_env(ROOT / "src", window))
    return [sys.executable, str(BARE), task, str(epochs), str(log_dir), MODEL, str(replay)], env


def peerwatch_command(provider, log_dir: Path, task: str, epochs: int, src: Path | None, window: Path):  # type: ignore[no-untyped-def]
    # `src`: another version of peerwatch's source tree (e.g. `git archive OLD src`), same everything else
    env = dict(os.environ, FAULTY_BASE_URL=provider.base_url, FAULTY_API_KEY="bench")
    env.update(window_env(src or ROOT / "src", window))
    cmd = [sys.executable, "-m", "peerwatch.cli", "run", "-m", MODEL, "--log-dir", str(log_dir), "-t", task,
           "--epochs", str(epochs), "--workers", "1"]  # fmt: skip
    return cmd, env


def run_together(commands: dict[str, tuple[list[str], dict[str, str]]]) -> dict[str, float]:
    """Start every command at once (in the dict's order) and return each one's CPU (user + sys) from its rusage."""
    procs = {}
    cpu: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        for side, (cmd, env) in commands.items():
            out = stack.enter_context(tempfile.TemporaryFile("w+"))  # a file, not a pipe: nobody reads it meanwhile
            procs[side] = (subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, text=True), out)
        try:
            for side, (proc, out) in procs.items():
                _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage, apart from the others with it
                proc.returncode = os.waitstatus_to_exitcode(status)
                cpu[side] = usage.ru_utime + usage.ru_stime
                if proc.returncode != 0:
                    out.seek(0)
                    raise SystemExit(f"{side}: exit {proc.returncode}\n{out.read()[-4000:]}")
        finally:
            for proc, _ in procs.values():
                if proc.returncode is None:  # one failed: the others are not left running
                    proc.kill()
                    proc.wait()
    return cpu


def turns_in(log_dir: Path) -> int:
    """The agent turns of a run: its assistant messages (one per model call with tools)."""
    return sum(
        sum(1 for m in s.messages if m.role == "assistant")
        for info in list_eval_logs(str(log_dir))
        for s in read_eval_log(info).samples or []
    )


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
        for rep in range(args.repeats):
            points: dict[str, list[tuple[int, float]]] = {s: [] for s in sides}
            for epochs in args.epochs:
                order = sides[rep % len(sides) :] + sides[: rep % len(sides)]  # who starts first rotates
                runs = {side: (Path(tmp) / f"side{sides.index(side)}-{rep}-{epochs}",
                               Path(tmp) / f"window{sides.index(side)}.jsonl") for side in order}  # fmt: skip
                commands = {
                    side: bare_command(p, log_dir, args.task, epochs, replay, window)
                    if side == "bare Inspect"
                    else peerwatch_command(p, log_dir, args.task, epochs, sources[side], window)
                    for side, (log_dir, window) in runs.items()
                }
                l0 = load()
                cpus = run_together(commands)
                for side in sides:
                    log_dir, window = runs[side]
                    turns, cpu, task_cpu = turns_in(log_dir), cpus[side], window_cpu(window)
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
        bare_tools, pw_tools = tool_texts(Path(tmp) / f"side0-0-{small}"), tool_texts(Path(tmp) / f"side1-0-{small}")
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
