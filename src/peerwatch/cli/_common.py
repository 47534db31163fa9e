"""What every command shares: the consoles, the one-line error, and one-line usage errors for the whole CLI."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any, NoReturn

import typer
import typer.core
from rich.console import Console

_UsageError: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


class OneLineErrors(typer.core.TyperGroup):
    """Bad command-line input (a non-integer --threshold, an unknown option...) is one line and exit 2, not a box."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with _one_line_usage_errors(), one_line_interrupt():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with _one_line_usage_errors(), one_line_interrupt():
            return super().invoke(ctx)


@contextlib.contextmanager
def _one_line_usage_errors() -> Iterator[None]:
    try:
        yield
    except _UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            raise  # bare `peerwatch` / `peerwatch audit`: the help is the answer
        err.print(f"[bold red]error:[/] {usage_message(exc)}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


INTERRUPTED = "interrupted: the logs keep every finished sample; run the same command again to resume"


@contextlib.contextmanager
def one_line_interrupt(line: str = INTERRUPTED) -> Iterator[None]:
    """Ctrl-C anywhere inside (imports, checks, the run, its summary) is one line on stderr and exit 130."""
    try:
        yield
    except KeyboardInterrupt:
        interrupted_exit(line)


def interrupted_exit(line: str = INTERRUPTED) -> NoReturn:
    """Print the interrupted line and exit 130 (the shell's code for SIGINT), ignoring further Ctrl-C meanwhile.

    SystemExit, not typer.Exit: this also runs outside Click (`main`), where typer.Exit would be a traceback."""
    import signal
    import warnings

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not print a traceback over the line
    _exit_code.append(130)
    # the coroutines the Ctrl-C cut off before they started are no error of this run (warned of at exit otherwise)
    warnings.filterwarnings("ignore", message=r"coroutine .* was never awaited", category=RuntimeWarning)
    err.print(f"[bold red]error:[/] {line}", highlight=False, soft_wrap=True)
    raise SystemExit(130)


_exit_code: list[int] = []  # set once a Ctrl-C was handled: the exit code the process must end with
_exiting: list[int] = []  # set once the command is over


def keep_exit_code() -> None:
    """At exit (registered first, so it runs last): end with the code a handled Ctrl-C chose.

    Seen here: a process interrupted within its first second, that handled the Ctrl-C and raised SystemExit(130),
    was then killed by Python with SIGINT at the end of finalization (exit -2, as for an unhandled interrupt) in
    about 1 run in 8. The logs are written and every context is closed by then; only the code was wrong.
    """
    if _exit_code:
        import logging
        import os

        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(_exit_code[-1])


def resend_swallowed_ctrl_c() -> None:
    """A Ctrl-C that lands in a finalizer is printed by Python as "Exception ignored" and dropped, so the command
    would go on: drop the print and send the Ctrl-C again, to land where it stops the command in one line (while
    an eval set runs, `tasks._interrupt` does the same; once exiting, it is just dropped)."""
    import os
    import signal
    import threading

    previous = sys.unraisablehook
    sent: list[int] = []

    def hook(info: Any) -> None:
        if not issubclass(info.exc_type, KeyboardInterrupt):
            previous(info)
        elif not _exit_code and not _exiting and len(sent) < 5:
            sent.append(1)
            threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT)).start()

    sys.unraisablehook = hook


def exit_now_on_ctrl_c(code: Any) -> None:
    """The command is over: a Ctrl-C during Python's own teardown ends the process at once with the command's code
    (not a finished run turned into a process killed by SIGINT, nor a traceback from an exit handler)."""
    import os
    import signal

    final = code if isinstance(code, int) else 0 if code is None else 1

    def now(signum: int, frame: Any) -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(_exit_code[-1] if _exit_code else final)

    _exiting.append(final)  # a Ctrl-C swallowed from now on is not sent again
    with contextlib.suppress(ValueError):  # not the main thread (an embedding): nothing to guard
        signal.signal(signal.SIGINT, now)


def usage_message(exc: Any) -> str:
    """One line for a usage error: `--threshold: 'abc' is not an integer (see: peerwatch run --help)`."""
    param = getattr(exc, "param", None)
    if isinstance(exc, typer.BadParameter) and type(exc).__name__ != "MissingParameter":
        hint = exc.param_hint or (max(param.opts, key=len) if param is not None and param.opts else "")
        hint = " / ".join(h.strip("'\"") for h in hint) if isinstance(hint, list | tuple) else str(hint).strip("'\"")
        reason = _value_reason(exc)
        text = f"{hint}: {reason}" if hint else reason
    else:
        text = exc.format_message()
    text = " ".join(text.split())
    ctx = getattr(exc, "ctx", None)
    return f"{text} (see: {ctx.command_path} --help)" if ctx is not None else text


def _value_reason(exc: Any) -> str:
    # Typer validates values with pydantic (the cause); say which value was wrong and how, in plain words.
    errors = getattr(exc.__cause__, "errors", None)
    if not callable(errors):
        return str(exc.message)
    first = errors()[0]
    value, kind = first.get("input"), str(first.get("type", ""))
    if kind.startswith("int_"):
        return f"{value!r} is not an integer"
    if kind.startswith("float_"):
        return f"{value!r} is not a number"
    return f"{value} {str(first.get('msg', exc.message)).replace('Input should', 'should')}"


# Wide tables stay readable when output goes to a file or CI log (rich assumes 80 columns there).
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a one-line error and exit."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def key_values(items: list[str] | None, option: str) -> dict[str, str]:
    """KEY=VALUE options as a dict (a one-line error for anything else)."""
    if not items:  # `replay` without a judge stays clear of Inspect's import time
        return {}
    from peerwatch.tasks import ModelCheckError, split_key_values

    try:
        return split_key_values(items, option)
    except ModelCheckError as exc:
        fail(str(exc))


def display() -> str | None:
    # Inspect's live progress needs a terminal; in a log or CI it prints plain progress lines instead.
    return None if sys.stdout.isatty() else "plain"

