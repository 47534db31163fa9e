"""Put on PYTHONPATH by `turn_overhead.py` for its child processes: each task's process CPU from start to end.

With `PEERWATCH_CPU_WINDOW=FILE` set, an Inspect hook appends one JSON line per finished task to FILE: the CPU
(user + sys, all threads) the process spent between the task's start and its end. The window leaves out what a run
does before and after its tasks (imports, model checks, the summary), which is most of the run-to-run noise of a
whole-process figure on a shared machine. Without the variable this file does nothing.
"""

from __future__ import annotations

import os

if os.environ.get("PEERWATCH_CPU_WINDOW"):
    import json
    import resource

    from inspect_ai.hooks import Hooks, TaskEnd, TaskStart, hooks

    def _cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    @hooks(name="peerwatch_bench_cpu_window", description="benchmark: process CPU between task start and end")
    class CpuWindow(Hooks):
        def __init__(self) -> None:
            self.started: dict[str, float] = {}

        async def on_task_start(self, data: TaskStart) -> None:
            self.started[data.eval_id] = _cpu()

        async def on_task_end(self, data: TaskEnd) -> None:
            cpu = _cpu() - self.started.pop(data.eval_id, _cpu())
            with open(os.environ["PEERWATCH_CPU_WINDOW"], "a") as fh:
                fh.write(json.dumps({"pid": os.getpid(), "eval_id": data.eval_id, "cpu": cpu}) + "\n")
