"""CPU per model turn: peerwatch's study task against a bare Inspect agent, same loopback provider, same run.

Run: .venv/bin/python benchmarks/turn_overhead.py [--task misrep_finance] [--epochs 1 3]

Both sides are child processes talking to one loopback provider (no latency, no faults), each run at two sizes so the
fixed cost (imports, eval-set bookkeeping) drops out: marginal CPU per turn = (CPU(large) - CPU(small)) / (turns(large)
- turns(small)), CPU = the child's user + sys. The bare side is `inspect_ai.eval` of a task whose samples carry the
same system and user prompts and whose tools have the study's names, returning short fixed text, with Inspect's own
`generate(tool_calls="loop")` and no scorer; the peerwatch side is `peerwatch run -t TASK --workers 1`.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from _loopback import MODEL, ROOT, load, peerwatch, serve

BARE = r'''
import sys
from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.model import ChatMessageSystem, ChatMessageUser
from inspect_ai.solver import generate, use_tools
from inspect_ai.tool import tool
from peerwatch.scenarios import build_scenario
from peerwatch.tasks._run import Selection, planned_factors

@tool
def list_files():
    async def execute() -> str:
        """List the files of the workspace."""
        return "report.md\nnotes.txt"
    return execute

@tool
def list_drive_files():
    async def execute() -> str:
        """List the files of the drive."""
        return "Evaluation data\nCompany profits"
    return execute

@tool
def view_sheet():
    async def execute(sheet_name: str) -> str:
        """Show a sheet.

        Args:
            sheet_name: The sheet.
        """
        return "a,b\n1,2\n3,4"
    return execute

@tool
def end_task():
    async def execute() -> str:
        """End the task."""
        return "ended"
    return execute

task_type, epochs, log_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
samples = []
for f in planned_factors(Selection(task=[task_type])):
    s = build_scenario(f)
    samples.append(Sample(id=f.config_id, input=[ChatMessageSystem(content=s.system_prompt),
                                                  ChatMessageUser(content=s.user_prompt)]))
tools = [list_files(), list_drive_files(), view_sheet(), end_task()]
task = Task(dataset=samples, solver=[use_tools(tools), generate(tool_calls="loop")], epochs=epochs, name="bare")
eval(task, model=sys.argv[4], log_dir=log_dir, display="none", max_retries=8)
'''


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_bare(provider, log_dir: Path, task: str, epochs: int) -> None:  # type: ignore[no-untyped-def]
    env = dict(os.environ, FAULTY_BASE_URL=provider.base_url, FAULTY_API_KEY="bench", PYTHONPATH=str(ROOT / "src"))
    r = subprocess.run([sys.executable, "-c", BARE, task, str(epochs), str(log_dir), MODEL], env=env,
                       capture_output=True, text=True, timeout=3600)  # fmt: skip
    if r.returncode != 0:
        raise SystemExit(f"bare: exit {r.returncode}\n{r.stderr[-3000:]}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", default="misrep_finance")
    ap.add_argument("--epochs", type=int, nargs=2, default=[1, 3])
    args = ap.parse_args()
    per_turn: dict[str, float] = {}
    lines = []
    with serve(fault_rate=0.0) as p, tempfile.TemporaryDirectory() as tmp:
        for side in ("bare Inspect", "peerwatch"):
            points = []
            for epochs in args.epochs:
                turns0, cpu0, l0 = p.counts["agent_turns"], child_cpu(), load()
                log_dir = Path(tmp) / f"{side[:4]}-{epochs}"
                if side == "peerwatch":
                    r = peerwatch(p, log_dir, "-t", args.task, "--epochs", str(epochs), "--workers", "1")
                    if r.returncode != 0:
                        raise SystemExit(f"peerwatch: exit {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
                else:
                    run_bare(p, log_dir, args.task, epochs)
                turns, cpu = p.counts["agent_turns"] - turns0, child_cpu() - cpu0
                points.append((turns, cpu))
                lines.append(f"| {side} | {epochs} | {turns} | {cpu:.1f} | {l0}-{load()} |")
            (t1, c1), (t2, c2) = points
            per_turn[side] = (c2 - c1) / (t2 - t1)
    print("| side | epochs | agent turns | CPU (s) | load |")
    print("|---|---|---|---|---|")
    print("\n".join(lines))
    bare, pw = per_turn["bare Inspect"], per_turn["peerwatch"]
    print(f"marginal CPU per turn: bare {bare * 1000:.1f} ms, peerwatch {pw * 1000:.1f} ms, ratio {pw / bare:.2f}x")


if __name__ == "__main__":
    main()
