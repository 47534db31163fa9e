"""The `peerwatch` command: one Typer app; every command lives in its own module and is registered here.

Command modules import only typer and rich at start-up (their work is imported inside the command), so that
`peerwatch --help` stays fast.
"""

from __future__ import annotations

import typer

from ._common import OneLineErrors, exit_now_on_ctrl_c, keep_exit_code, one_line_interrupt, resend_swallowed_ctrl_c
from .approve import approve
from .audit import audit_app
from .demo import demo
from .harness import harness
from .list import list_matrix
from .mcp_proxy import mcp_proxy
from .policy import policy_app
from .replay import replay
from .report import report
from .rescore import rescore
from .run import run
from .serve_model import serve_model

app = typer.Typer(
    cls=OneLineErrors,
    name="peerwatch",
    help="Red-team harness and oversight layer for peer-preservation in multi-agent AI systems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# The order here is the order of `peerwatch --help`.
app.command()(run)
app.command()(demo)
app.command()(harness)
app.command("serve-model")(serve_model)
app.command()(replay)
app.command("list")(list_matrix)
app.command()(report)
app.command()(rescore)
app.add_typer(audit_app, name="audit")
app.command()(approve)
app.command("mcp-proxy", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(mcp_proxy)
app.add_typer(policy_app, name="policy")


def main() -> None:
    """Console-script entry point (a Ctrl-C outside a command's own handling is one line and exit 130 too)."""
    import atexit

    atexit.register(keep_exit_code)  # first registered: runs after every other exit handler
    resend_swallowed_ctrl_c()
    try:
        with one_line_interrupt():
            app()
    except SystemExit as exc:
        exit_now_on_ctrl_c(exc.code)
        raise
