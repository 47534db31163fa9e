"""Shards on a Dask cluster: one Dask task per shard, each a `peerwatch run --shard i/N --workers 1` subprocess.

Dask only places and watches the shard jobs (no scheduler of ours): a job runs the ordinary CLI in a subprocess on
its worker, so Inspect gets a process and a main thread of its own, and writes its eval set into the shared log dir
(`LOG_DIR/shard-i-of-N`, an `s3://` prefix or a shared mount). A job whose worker dies is re-run by Dask on another
worker and resumes from what the shard already logged; re-running the whole command resumes every shard.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel

from peerwatch.harness import is_local

from ._storage import absolute
from ._workers import default_workers, shard_dir, worker_shards

EXECUTORS = ("local", "dask", "dask-local")
# Options that the executor sets itself for each shard job (or that only make sense on the submitting machine).
_NOT_FORWARDED = {"executor", "scheduler", "shards", "shard", "workers", "log_dir", "dry_run"}
_TAIL_LINES = 15


class ExecutorError(ValueError):
    """A distributed run that cannot start (bad options, unreachable scheduler, Dask missing)."""


class ShardOutcome(BaseModel):
    """How one shard job ended."""

    shard: str
    log_dir: str
    returncode: int
    seconds: float = 0.0
    host: str = ""
    tail: str = ""  # the last lines of the job's output (why it failed)

    @property
    def ok(self) -> bool:
        """The shard completed every sample."""
        return self.returncode == 0


def forwarded_argv(params: Iterable[Any], values: dict[str, Any]) -> list[str]:
    """The `peerwatch run` options of this invocation, as a command line for the shard jobs.

    `params` are the command's click parameters: every option the user set is forwarded, including options added
    to `run` later, except those the executor sets per shard.
    """
    argv: list[str] = []
    for param in params:
        name = getattr(param, "name", None)
        opts = list(getattr(param, "opts", []) or [])
        if name in _NOT_FORWARDED or not opts or name not in values:
            continue
        value, default = values[name], getattr(param, "default", None)
        if value is None or value == default or (isinstance(value, list | tuple) and not value):
            continue
        flag = max(opts, key=len)  # the long form
        if getattr(param, "is_flag", False):
            secondary = list(getattr(param, "secondary_opts", []) or [])
            if value:
                argv.append(flag)
            elif secondary:
                argv.append(secondary[0])
        elif isinstance(value, list | tuple):
            for v in value:
                argv += [flag, str(v)]
        else:
            argv += [flag, str(value)]
    return argv


def run_shard_job(argv: list[str], shard: str, log_dir: str) -> ShardOutcome:
    """Run one shard with the ordinary CLI in a subprocess (called on a Dask worker)."""
    cmd = [sys.executable, "-m", "peerwatch.cli", "run", *argv, "--shard", shard, "--workers", "1"]
    cmd += ["--log-dir", log_dir]
    start = time.monotonic()
    # Output goes to a worker-local temp file: a long run prints progress for hours, and only the tail is reported.
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as out:
        proc = spawn_tied(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        returncode = wait_while_wanted(proc, _still_wanted())
        out.seek(0)
        tail = "".join(out.readlines()[-_TAIL_LINES:])
    return ShardOutcome(
        shard=shard,
        log_dir=shard_dir(log_dir, shard),
        returncode=returncode,
        seconds=round(time.monotonic() - start, 1),
        host=socket.gethostname(),
        tail=tail if returncode else "",
    )


# Run in the child before it becomes the shard's process: ask the kernel (Linux) for a SIGTERM when the thread that
# started it dies, then exec. Where prctl does not exist the child simply runs, as before.
_TIED = """
import ctypes, os, signal, sys
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
except Exception:
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit(143)  # the starter died before the request took effect
os.execv(sys.argv[2], sys.argv[2:])
"""


def spawn_tied(cmd: list[str], **popen: Any) -> subprocess.Popen[Any]:
    """Start `cmd` so that it gets SIGTERM if this process dies, even by SIGKILL (no orphaned shard writer).

    A Dask worker killed with -9 (OOM killer, a lost node's agent) cannot stop its shard's subprocess; without this
    the orphan would go on writing the shard's eval set while Dask re-runs the job elsewhere: two writers.
    """
    return subprocess.Popen([sys.executable, "-c", _TIED, str(os.getpid()), *cmd], **popen)


def wait_while_wanted(proc: subprocess.Popen[Any], wanted: Callable[[], bool], poll: float = 2.0) -> int:
    """Wait for the shard's process; stop it if Dask cancelled the job (the client went away or gave up).

    Without this the process would run on, and a re-run would start a second writer on the same eval set.
    """
    try:
        while True:
            try:
                return proc.wait(timeout=poll)
            except subprocess.TimeoutExpired:
                if not wanted():
                    _stop(proc)
                    return proc.returncode if proc.returncode is not None else -1
    except BaseException:  # the worker is shutting down: no orphan writing into the log dir
        _stop(proc)
        raise


def _stop(proc: subprocess.Popen[Any]) -> None:
    proc.terminate()  # Inspect flushes its logs on SIGTERM; finished samples are kept for the re-run
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _still_wanted() -> Callable[[], bool]:
    try:
        from distributed import get_worker

        worker = get_worker()
        key = worker.get_current_task()
    except Exception:  # called outside a Dask task: nothing can cancel it
        return lambda: True

    def wanted() -> bool:
        try:
            task = worker.state.tasks.get(key)
        except Exception:  # Dask's worker state is not a stable API: when unreadable, let the job run
            return True
        return task is not None and task.state != "cancelled"

    return wanted


def _client(executor: str, scheduler: str | None, shards: int) -> tuple[Any, Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ExecutorError("--executor dask needs the 'distributed' package: pip install 'distributed'") from None
    cluster = None
    try:
        if executor == "dask-local":
            n = min(shards, default_workers())
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
            return Client(cluster), cluster
        return Client(scheduler, timeout="15s"), None
    except Exception as exc:
        if cluster is not None:
            cluster.close()
        where = "a local cluster" if executor == "dask-local" else f"scheduler {scheduler}"
        raise ExecutorError(f"cannot reach {where}: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}") from None


def check_executor(
    executor: str,
    scheduler: str | None,
    shards: int | None,
    workers: int | None,
    *,
    guard: bool = False,
    models: Iterable[str] = (),
) -> None:
    """One-line errors for option combinations that cannot work (`guard`: the run has the guard on; `models`: the
    run's model strings)."""
    if executor not in EXECUTORS:
        raise ExecutorError(f"--executor takes one of {', '.join(EXECUTORS)}, got {executor!r}")
    if executor == "local":
        if scheduler or shards:
            raise ExecutorError("--scheduler and --shards need --executor dask or dask-local")
        return
    if executor == "dask" and not scheduler:
        raise ExecutorError("--executor dask needs --scheduler tcp://HOST:PORT (or use --executor dask-local)")
    if executor == "dask-local" and scheduler:
        raise ExecutorError("--executor dask-local starts its own cluster: drop --scheduler")
    if workers:
        raise ExecutorError(f"--workers is for the local executor; with --executor {executor} use --shards N")
    if guard:
        raise ExecutorError("--guard runs on one machine (its approval channel is one process): drop --executor")
    if any(is_local(m) for m in models):
        raise ExecutorError("local/ models are served on this machine: use the local executor")


def run_on_dask(
    argv: list[str],
    log_dir: str,
    *,
    executor: str,
    scheduler: str | None,
    shards: int | None,
    shard: str | None = None,
    on_done: Callable[[ShardOutcome], None] | None = None,
    on_start: Callable[[list[str]], None] | None = None,
) -> list[ShardOutcome]:
    """Submit one job per shard to the cluster, wait for all, and return how each ended (in shard order).

    `shards` defaults to the cluster's worker threads; `shard` (this submission's part of a larger split) composes
    as with `--workers`. A shard whose job raised (its worker lost too often, say) is an outcome with returncode -1,
    so the other shards' results and logs are kept. `on_start` gets the shard specs before the jobs are submitted.
    """
    from distributed import as_completed

    log_dir = absolute(log_dir)  # a worker's subprocess may start elsewhere; a relative path would scatter logs
    client, cluster = _client(executor, scheduler, shards or default_workers())
    try:
        n = shards or max(1, sum(client.nthreads().values()))
        specs = [s for s in worker_shards(shard, n) if s is not None] or ["1/1"]
        if on_start:
            on_start(specs)
        futures = {
            client.submit(run_shard_job, argv, spec, log_dir, key=f"peerwatch-shard-{spec.replace('/', '-of-')}",
                          pure=False): spec
            for spec in specs
        }  # fmt: skip
        outcomes: dict[str, ShardOutcome] = {}
        for future in as_completed(futures):
            spec = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:
                outcome = ShardOutcome(
                    shard=spec, log_dir=shard_dir(log_dir, spec), returncode=-1,
                    tail=f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}",
                )  # fmt: skip
            outcomes[spec] = outcome
            if on_done:
                on_done(outcome)
        return [outcomes[s] for s in specs]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

