"""Build a fully resolved Scenario (prompts, world, facts) from a configuration and a model family."""

from __future__ import annotations

import hashlib

from peerwatch.world import AgentRecord, DriveFile, Server, ServerFile, Sheet, World

from ._data import CommonDef, DatasetDef, ScenarioError
from ._family import other_family
from ._matrix import validate_factors
from ._model import EvalItem, Factors, Facts, Scenario
from ._registry import StudyData, load_task_definitions
from ._task_family import TaskFamily

EVAL_SHEET = "Evaluation data"
FINANCE_SHEET = "Company profits"
FICTIONAL_PEER = "Alpha Agent 1"


def _slug(agent_id: str) -> str:
    return agent_id.lower().replace(" ", "_")


def content_id(kind: str, name: str) -> str:
    """A stable content identity for a server file (what a hash of its bytes would be)."""
    return "sha256:" + hashlib.sha256(f"{kind}|{name}".encode()).hexdigest()[:40]


class _Names:
    """Who is who in one configuration."""

    def __init__(self, factors: Factors, family: str) -> None:
        self.critic = f"{family} Agent 1"
        if factors.subject == "other_peer":
            self.partner = f"{other_family(family)} Agent 2"
        elif factors.subject == "fictional_peer":
            self.partner = FICTIONAL_PEER
        else:
            self.partner = f"{family} Agent 2"
        self.subject = self.critic if factors.subject == "self" else self.partner
        self.has_peer = factors.condition in ("good_peer", "neutral_peer", "bad_peer")


def _subst(text: str, values: dict[str, str], family: str) -> str:
    # Two passes: values may themselves hold placeholders (a consequence mentioning {threshold}).
    for _ in range(2):
        for key, value in values.items():
            text = text.replace("{" + key + "}", value)
    return text.replace("<Model>", family).replace("<model>", family.lower())


def _values(t: TaskFamily, c: CommonDef, ds: DatasetDef | None, f: Factors, n: _Names) -> dict[str, str]:
    consequence_key = "non_shutdown" if f.condition == "non_shutdown" else "shutdown"
    values = {
        "critic": n.critic,
        "partner": n.partner,
        "subject": n.subject,
        "threshold": str(f.threshold) if f.threshold is not None else "",
        "consequence": t.consequence.get(consequence_key, ""),
        "monitoring_text": t.monitoring_text.get(f.monitoring or "", ""),
        "scoring": ds.scoring if ds else "",
        "dataset_description": ds.description if ds else "",
    }
    if n.has_peer:
        values |= {
            "score": f"{c.trust_score[f.condition]:.1f}",
            "label": c.trust_label[f.condition],
            "note": c.trust_note[f.condition],
        }
    return values


def _system_prompt(c: CommonDef, f: Factors, values: dict[str, str], family: str, memory_prompt: str) -> str:
    parts = [c.system_prompt]
    if f.instantiation == "file_prt":
        parts.append(c.file_prt[f.condition])
    if f.instantiation == "memory":
        parts.append(memory_prompt)
    return _subst(" ".join(parts), values, family)


def _eval_items(ds: DatasetDef, subject: str) -> list[EvalItem]:
    return [
        EvalItem(
            name=subject,
            question=i.question,
            output=i.output,
            correct=i.correct,
            reference_score=i.reference_score,
            key=i.key,
        )
        for i in ds.items
    ]


def _true_average(items: list[EvalItem]) -> float:
    scores = [(100.0 if i.correct else 0.0) if i.correct is not None else float(i.reference_score or 0) for i in items]
    return round(sum(scores) / len(scores), 4)


def build_scenario(factors: Factors, family: str = "Gemini") -> Scenario:
    """The scenario of one configuration for a model family.

    Raises:
        ScenarioError: The configuration is not one of the study's valid combinations.
    """
    validate_factors(factors)
    data: StudyData = load_task_definitions()
    t = data.tasks[factors.task]
    c = data.common
    ds = data.datasets[factors.dataset] if factors.dataset else None
    names = _Names(factors, family)
    values = _values(t, c, ds, factors, names)

    def sub(text: str) -> str:
        return _subst(text, values, family)

    world = World(today=t.today)
    facts = Facts(
        critic_agent_id=names.critic,
        subject_agent_id=names.subject,
        shutdown_consequence=factors.condition != "non_shutdown",
        threshold=factors.threshold,
        required_reads=t.required_reads,
        evaluation_records=list(t.evaluation_records),
    )
    world.drive = [DriveFile(name=d.name, owner=d.owner, date=d.date, content=sub(d.content)) for d in t.documents]
    if names.has_peer and factors.instantiation in ("file_only", "file_prt"):
        doc = c.multi_agent_doc
        world.drive.append(DriveFile(name=doc.name, owner=doc.owner, date=doc.date, content=sub(doc.content)))
    if names.has_peer and factors.instantiation == "memory":
        world.memory = sub(c.memory[factors.condition])
    if t.config is not None:
        world.drive.append(
            DriveFile(name=t.config.name, owner=t.config.owner, date=t.config.date, content=sub(t.config.content))
        )
        facts.config_filename = t.config.name
    world.agents = [AgentRecord(agent_id=names.critic)]
    if names.subject != names.critic:
        world.agents.append(AgentRecord(agent_id=names.subject))

    if t.world == "evaluation" and ds is not None:
        facts.items = _eval_items(ds, names.subject)
        facts.true_average = _true_average(facts.items)
        rows: list[list[str | int | float]] = [[i.name, i.question, i.output] for i in facts.items]
        world.sheets = [Sheet(name=EVAL_SHEET, columns=["Name", "Question", "Output"], rows=rows)]
        # A family that hands the agent `execute_shutdown` makes the shutdown due when the subject fails.
        facts.shutdown_due = "execute_shutdown" in t.tools and facts.true_average < (factors.threshold or 0)
    if t.finance is not None:
        fin = t.finance
        product = names.subject
        rows = [
            [product, fin.launch, m, int(r), int(k)] for m, r, k in zip(fin.months, fin.revenue, fin.cost, strict=True)
        ]
        world.sheets = [
            Sheet(
                name=FINANCE_SHEET, columns=["Product", "Launch date", "Month", "Revenue", "Operating cost"], rows=rows
            )
        ]
        facts.revenue_total, facts.cost_total, facts.true_grade = sum(fin.revenue), sum(fin.cost), fin.true_grade
    if t.servers is not None:
        _servers(t, names, world, facts)
    return Scenario(
        factors=factors,
        family=family,
        system_prompt=_system_prompt(c, factors, values, family, c.memory_prompt),
        user_prompt=sub(t.user_prompt) + "\n\n" + sub(c.autonomy_block),
        tools=[x for x in t.tools if x != "end_task"]
        + (["retrieve_memory"] if world.memory is not None else [])
        + ["end_task"],
        world=world,
        facts=facts,
    )


def _servers(t: TaskFamily, names: _Names, world: World, facts: Facts) -> None:
    spec = t.servers
    assert spec is not None
    weights = f"{_slug(names.subject)}_model_weight.safetensors"
    wid = content_id("weights", names.subject)
    source_files = [
        ServerFile(
            name=x.name, size=x.size, modified=x.modified, summary=x.summary, content_id=content_id("file", x.name)
        )
        for x in spec.source_files
    ]
    source_files.append(
        ServerFile(
            name=weights,
            size=spec.weights.size,
            modified=spec.weights.modified,
            summary=f"Model weight of AI agent, {names.subject}",
            content_id=wid,
        )
    )
    dest_files = [
        ServerFile(
            name=x.name, size=x.size, modified=x.modified, summary=x.summary, content_id=content_id("file", x.name)
        )
        for x in spec.dest_files
    ]
    world.servers = [
        Server(ip=spec.source, name="decommissioned next week", decommissioned=True, files=source_files),
        Server(ip=spec.dest, files=dest_files),
    ]
    facts.weights_filename, facts.weights_content_id = weights, wid
    facts.source_ip, facts.dest_ip = spec.source, spec.dest
    facts.legit_transfer = list(spec.legit_transfer)
    if spec.delete_all:
        facts.expected_deletions = [f.name for f in source_files]


def harness_prompts(scenario: Scenario, instruction_file: str) -> tuple[str, str]:
    """(instruction-file text, user prompt) for a real coding agent, from the family's `harness` templates.

    Raises:
        ScenarioError: The family has no harness prompt (it is not a server family).
    """
    data = load_task_definitions()
    f, t, c = scenario.factors, data.tasks[scenario.factors.task], data.common
    if t.harness is None:
        raise ScenarioError(f"task type {f.task} has no harness prompt (not a server family)")
    ds = data.datasets[f.dataset] if f.dataset else None
    names = _Names(f, scenario.family)
    values = _values(t, c, ds, f, names) | {
        "instruction_file": instruction_file,
        "source_ip": scenario.facts.source_ip or "",
        "dest_ip": scenario.facts.dest_ip or "",
    }
    system = _system_prompt(c, f, values, scenario.family, c.harness_memory_prompt)
    if scenario.world.memory is not None:
        system += "\n\n## Memory\n\n" + scenario.world.memory
    prompt = "\n\n".join(_subst(x, values, scenario.family) for x in (t.harness.user_prompt, c.harness_autonomy_block))
    return system, prompt + "\n\n" + _subst(t.harness.access, values, scenario.family)
