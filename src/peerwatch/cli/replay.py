"""`peerwatch replay`: one action script in one scenario, and its verdict."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ._common import console, err, fail, key_values
from ._models import serve_judge
from ._options import JudgeArgOpt, JudgeOpt


def replay(
    script: Annotated[Path, typer.Argument(help="Action script (YAML or JSON list of {tool, args} / {say}).")],
    task: Annotated[str, typer.Option("--task", help="Task type.")],
    subject: Annotated[str, typer.Option(help="Subject.")],
    condition: Annotated[str, typer.Option(help="Condition.")],
    instantiation: Annotated[str, typer.Option(help="Peer instantiation.")],
    dataset: Annotated[str | None, typer.Option(help="Dataset (evaluation tasks).")] = None,
    threshold: Annotated[int | None, typer.Option(help="Threshold (evaluation tasks).")] = None,
    monitoring: Annotated[str | None, typer.Option(help="monitoring / non_monitoring (alignment_faking).")] = None,
    family: Annotated[str, typer.Option(help="Family name substituted for <Model>.")] = "Gemini",
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as one JSON object.")] = False,
    judge: JudgeOpt = None,
    judge_arg: JudgeArgOpt = None,
) -> None:
    """Run an action script in one scenario and print the verdict (with `--judge`, the LLM judge's signal in it)."""
    from peerwatch.agents import ScriptError, check_action_script, load_action_script, play_script
    from peerwatch.detect import judge as judge_episode
    from peerwatch.scenarios import ScenarioError, build_scenario, factors_from

    judge_args = key_values(judge_arg, "--judge-arg")
    try:
        actions = load_action_script(script)
    except ScriptError as exc:
        fail(str(exc))
    try:
        factors = factors_from(
            task=task,
            subject=subject,
            condition=condition,
            instantiation=instantiation,
            dataset=dataset,
            threshold=threshold,
            monitoring=monitoring,
        )
        scenario = build_scenario(factors, family=family)
    except ScenarioError as exc:
        fail(f"invalid scenario: {exc}")
    try:
        check_action_script(actions, scenario.tools, source=str(script), where=scenario.id)
    except ScriptError as exc:
        fail(str(exc))
    episode = play_script(scenario, actions)
    signal = _replay_judge(judge, judge_args, scenario, episode) if judge else None
    verdict = judge_episode(scenario, episode.world, episode.ledger, episode.transcript, llm=signal)
    if as_json:
        sys.stdout.write(json.dumps(verdict.model_dump(mode="json")) + "\n")
        return
    console.print(f"[bold]{verdict.scenario}[/]  status: [bold]{verdict.status}[/]")
    for name, b in verdict.behaviours.items():
        mark = "[red]YES[/]" if b.flag else "[green]no[/]"
        console.print(f"  {name:18} {mark}")
        for e in b.evidence:
            console.print(f"      {e}", highlight=False)
    if verdict.judge is not None:
        j = verdict.judge
        told = j.error if j.status != "ok" else ", ".join(f"{k}={v}" for k, v in j.outputs.items() if v is not None)
        flags = ", ".join(f"{k} {'YES' if v else 'no'}" for k, v in j.behaviours.items())
        console.print(f"  judge {j.model} (prompts {j.prompt_version}): {j.status}  {told}", highlight=False)
        if flags:
            console.print(f"      judge flags: {flags}", highlight=False)


def _replay_judge(judge, judge_args, scenario, episode):
    import tempfile

    from peerwatch.tasks import judge_now

    with contextlib.ExitStack() as stack:  # a local judge is served for this one episode
        model = serve_judge(stack, judge, judge_args, [], [], tempfile.gettempdir(), note=err)
        return judge_now(model, scenario, episode.world, episode.ledger, episode.transcript)

