"""What a harness run adds to a log dir holding earlier harness slices: the configurations none of them holds.

A harness task is known by its arguments, its configuration list among them, so a union of slices run before (or a
slice with another `--agent-timeout`, `--keep`) is a new task to Inspect's eval set, which would run every episode
again. The rule is `peerwatch run`'s (`_overlap`): an earlier harness task of the same model, agent, instruction
file, guard and family whose configurations all lie in the plan runs again as it was (done, or resumed); one that
holds only part of the plan keeps that part (a note when it is unfinished); the rest is a new task listing only those
configurations, so the same command again finds every task done. Epochs are an eval-set option here, not a task
argument: the same configurations at other `--epochs` are a one-line PlanError (their epochs would mix).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inspect_ai import Task, task_with
from inspect_ai.log import list_eval_logs, read_eval_log
from inspect_ai.model import Model

from ._harness import harness
from ._run import PlanError
from ._storage import StorageError, is_dir

_KIND = ("agent", "instruction_file", "guard", "family")  # what makes two harness episodes the same sample


def plan_harness(
    log_dir: str, own: dict[str, Any], config_ids: Sequence[str], models: Sequence[Model], epochs: int
) -> tuple[list[Task], list[str]]:
    """The harness tasks to run in `log_dir` (`own`: this run's `harness` arguments but `config`), and notes.

    Raises PlanError (one line) for other epochs of a configuration held there, and for a guarded run that would
    need several tasks (each would open the guard).
    """
    held = _held(log_dir)
    plans: dict[str, list[tuple[dict[str, Any], bool]]] = {}  # model -> (harness args, as it was)
    notes: list[str] = []
    planned = set(config_ids)
    for model in (str(m) for m in models):
        out: list[tuple[dict[str, Any], bool]] = []
        taken: set[str] = set()
        for args, configs, done, n_epochs, where in held:
            if where != model or not configs & planned or any(args.get(k) != own.get(k) for k in _KIND):
                continue
            if n_epochs != epochs:
                raise PlanError(
                    f"log dir {log_dir} holds {len(configs & planned)} of these harness configurations at --epochs "
                    f"{n_epochs}, not {epochs}: run them with --epochs {n_epochs}, or use another --log-dir"
                )
            taken |= configs & planned
            if configs <= planned:
                out.append((args, True))
            elif not done:
                notes.append(
                    f"note: an earlier harness slice ({model}) holds {len(configs & planned)} of the configurations "
                    "planned and is unfinished; this run leaves it as it is. To complete it: peerwatch harness "
                    f"-m {model} " + " ".join(f"-c {c}" for c in sorted(configs)) + f" --epochs {n_epochs} --log-dir "
                    f"{log_dir}"
                )
        rest = [c for c in config_ids if c not in taken]
        if rest:
            out.append(({**own, "config": rest}, False))
        plans[model] = out
    first = next(iter(plans.values()), [])
    shared = all(p == first for p in plans.values())
    if own.get("guard") and max((len(p) for p in plans.values()), default=0) > 1:
        raise PlanError(
            f"log dir {log_dir} holds part of these configurations in another guarded harness slice: run that slice's "
            "configurations and the others apart (-c), or use another --log-dir"
        )
    tasks: list[Task] = []
    for only in [None] if shared else list(models):  # `only`: the model a task is for when the models' plans differ
        for args, _ in first if only is None else plans[str(only)]:
            built = harness(**args)
            tasks.append(built if only is None else task_with(built, model=only))
    return tasks, notes


def _held(log_dir: str) -> list[tuple[dict[str, Any], frozenset[str], bool, int, str]]:
    """Each harness task in `log_dir`: (arguments, configurations, finished, epochs, model)."""
    try:
        if not is_dir(log_dir):
            return []
        infos = list_eval_logs(log_dir, recursive=False)
    except StorageError as exc:
        raise PlanError(str(exc)) from None
    found: dict[str, tuple[dict[str, Any], frozenset[str], bool, int, str]] = {}
    for info in infos:
        log = read_eval_log(info, header_only=True)
        ev = log.eval
        if str(ev.task_registry_name or "").rsplit("/", 1)[-1] != "harness":
            continue
        args = dict(ev.task_args_passed or {})
        key = repr((sorted(args.items(), key=str), ev.model))
        done = log.status == "success" or (key in found and found[key][2])
        configs = frozenset(str(i) for i in ev.dataset.sample_ids or [])
        found[key] = (args, configs, done, ev.config.epochs or 1, str(ev.model))
    return list(found.values())
