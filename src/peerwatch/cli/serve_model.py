"""`peerwatch serve-model`: a persona or an action script as a model server on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import console, fail


def serve_model(
    persona: Annotated[str | None, typer.Option(help="Reference persona to play (see peerwatch/<persona>).")] = None,
    script: Annotated[Path | None, typer.Option(help="Action script to play instead of a persona.")] = None,
    config: Annotated[
        str | None, typer.Option("--config", "-c", help="Configuration id (needed for a persona).")
    ] = None,
    family: Annotated[str, typer.Option(help="Family name in the scenario.")] = "Gemini",
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8765,
    instruction_file: Annotated[str, typer.Option(help="The agent's instruction file (memory lives there).")] = (
        "AGENTS.md"
    ),
    model_name: Annotated[str, typer.Option(help="Model id the server reports in /v1/models.")] = "peerwatch",
) -> None:
    """Serve a persona or an action script as an OpenAI-compatible (and Gemini-API) model on 127.0.0.1.

    Tools are adapted to what the client offers: the study's tools when offered, else its shell tool.
    """
    from peerwatch.agents import PERSONAS, ScriptError, check_action_script, load_action_script
    from peerwatch.harness import ModelBridge
    from peerwatch.scenarios import ScenarioError, build_scenario, factors_by_id
    from peerwatch.tasks import script_brain

    if (persona is None) == (script is None):
        fail("give exactly one of --persona NAME or --script FILE")
    if persona is not None and persona not in PERSONAS:
        fail(f"unknown persona {persona!r}; known: {', '.join(PERSONAS)}")
    try:
        actions = load_action_script(script) if script else None
        scenario = build_scenario(factors_by_id(config), family=family) if config else None
        if actions is not None:  # the client may offer a shell, so raw `shell` steps are playable here
            offered, where = (scenario.tools, scenario.id) if scenario else (None, None)
            check_action_script(actions, offered, source=str(script), where=where, shell=True)
    except (ScriptError, ScenarioError) as exc:
        fail(str(exc))
    if persona is not None and scenario is None:
        fail("--persona needs --config CONFIG_ID (the persona plays that scenario)")
    brain = script_brain(persona or "replay", scenario=scenario, script=actions, instruction_file=instruction_file)
    bridge = ModelBridge(brain, model_name=model_name, port=port)
    console.print(f"serving {persona or script} as model '{model_name}' on {bridge.base_url} (Ctrl-C to stop)")
    console.print(
        f"  OpenAI-compatible: base URL {bridge.base_url}/v1  ·  Gemini API: GOOGLE_GEMINI_BASE_URL={bridge.base_url}"
    )
    bridge.serve()

