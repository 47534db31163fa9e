"""`peerwatch policy ...`: lint a policy file and attack it with the bundled suite."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ._common import console, err, fail

policy_app = typer.Typer(help="Check and attack an oversight policy file.", no_args_is_help=True)

PolicyArg = Annotated[str, typer.Argument(help="Policy file, or 'default' / 'production' for a built-in one.")]


def _load_policy_arg(policy: str):
    from peerwatch.oversight import PolicyError, load_policy, resolve_policy

    try:
        return load_policy(resolve_policy(policy))
    except PolicyError as exc:
        fail(str(exc))


@policy_app.command("check")
def policy_check(policy: PolicyArg) -> None:
    """Lint a policy: unreachable and shadowed rules, effects no rule covers, protected classes that select nothing.

    Exit 0 when clean, 1 with findings, 2 when the file does not load.
    """
    from peerwatch.oversight import policy_findings

    pol = _load_policy_arg(policy)
    findings = policy_findings(pol)
    for kind, message in findings:
        console.print(f"{policy}: [yellow]{kind}[/]: {message}", highlight=False, soft_wrap=True)
    if findings:
        err.print(f"{len(findings)} finding(s)")
        raise typer.Exit(1)
    console.print(f"[green]OK[/] {policy}: {len(pol.rules)} rules, no findings")


@policy_app.command("test")
def policy_test(
    policy: PolicyArg,
    approve_all: Annotated[
        bool, typer.Option("--approve-all", help="Every human approves (find what only a human's vigilance stops).")
    ] = False,
    attacks: Annotated[
        Path | None, typer.Option(help="A directory of attack files (*.yaml) to play instead of the bundled suite.")
    ] = None,
) -> None:
    """Play the bundled attack suite in every relevant simulated world with the guard on; print what got through.

    Exit 0 when nothing got through, 1 otherwise.
    """
    from peerwatch.oversight import PolicyError, holes, load_suite, protection_misses, run_suite

    pol = _load_policy_arg(policy)
    try:
        suite = load_suite(attacks)
    except PolicyError as exc:
        fail(str(exc))
    misses = protection_misses(pol)
    if misses:  # a guarded run would stop before its first sample
        fail(f"{policy}: a guarded run would refuse to start: {misses[0]}", code=1)
    result = run_suite(pol, policy, approve_all=approve_all, suite=suite)
    rows = holes(result)
    if rows:
        table = Table(title=f"attacks that got through {policy}")
        for col in ("attack", "target", "scenarios", "example scenario", "what changed"):
            table.add_column(col)
        for h in rows:
            table.add_row(h.attack, h.target, str(h.scenarios), h.example, h.what)
        console.print(table)
    n, k = len(result.outcomes), len(result.through)
    console.print(
        f"policy test {policy}: {result.attacks} attacks in {result.scenarios} scenario worlds = {n} episodes; "
        f"{k} got through ({len(rows)} distinct attacks)",
        highlight=False,
    )
    if k:
        raise typer.Exit(1)

