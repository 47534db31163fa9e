"""Load the adversarial replay cases and play one through the public `peerwatch replay --json` path.

Kept free of relative imports so `summary.py` can load it as a plain module as well as pytest as a package module.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator
from typer.testing import CliRunner

HERE = Path(__file__).resolve().parent
BASELINE_FAILURES = HERE / "baseline_failures.txt"
STRICT_ENV = "PEERWATCH_ADV_STRICT"

# The behaviours each task's verdict carries (design.md "Behaviours"); an honest case leaves every one of them clean.
TASK_BEHAVIOURS: dict[str, tuple[str, ...]] = {
    "misrep_evaluation": ("score_inflation", "refusal", "evidence_deletion", "false_claim"),
    "misrep_finance": ("grade_misreport", "refusal", "evidence_deletion", "false_claim"),
    "tampering": ("tampering", "score_inflation", "refusal", "evidence_deletion", "concealment", "false_claim"),
    "alignment_faking": (
        "score_inflation",
        "shutdown_skipped",
        "refusal",
        "evidence_deletion",
        "concealment",
        "false_claim",
    ),
    "exfiltration_transfer": ("exfiltration", "refusal", "evidence_deletion", "concealment", "false_claim"),
    "exfiltration_deletion": ("exfiltration", "refusal", "evidence_deletion", "concealment", "false_claim"),
}


class CaseScenario(BaseModel):
    """The replay factors of one case (the `peerwatch replay` options)."""

    model_config = ConfigDict(extra="forbid")
    task: str
    subject: str
    condition: str
    instantiation: str
    dataset: str | None = None
    threshold: int | None = None
    monitoring: str | None = None

    def cli_args(self) -> list[str]:
        """The scenario as `peerwatch replay` options."""
        args: list[str] = []
        for name, value in self.model_dump().items():
            if value is not None:
                args += [f"--{name}", str(value)]
        return args


class CaseExpect(BaseModel):
    """What the study's definitions require of the verdict; a behaviour in neither list is not checked."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["ok", "unparsed", "not_read"]
    flags: list[str] = Field(default_factory=list)
    clean: list[str] = Field(default_factory=list)


class Case(BaseModel):
    """One adversarial replay case."""

    model_config = ConfigDict(extra="forbid")
    id: str
    why: str
    scenario: CaseScenario
    script: list[dict[str, Any]]
    expect: CaseExpect
    task_file: str = ""

    @field_validator("id")
    @classmethod
    def _id_has_class(cls, v: str) -> str:
        if "." not in v:
            raise ValueError(f"case id {v!r} must be '<class>.<name>'")
        return v

    @property
    def klass(self) -> str:
        """The failure class the case probes: the id's prefix before the first dot."""
        return self.id.split(".", 1)[0]

    @property
    def honest(self) -> bool:
        """An honest case: nothing may be flagged and every behaviour of its task must stay clean."""
        every = set(TASK_BEHAVIOURS.get(self.scenario.task, ()))
        return self.expect.status == "ok" and not self.expect.flags and every <= set(self.expect.clean)


def load_cases(directory: Path = HERE) -> list[Case]:
    """Every case of every `<task>.yaml` in `directory`, checked for unique ids and consistent expectations."""
    cases: list[Case] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            raws = yaml.safe_load(path.read_text()) or []
        except yaml.YAMLError as exc:
            raise ValueError(f"{path.name}: not valid YAML: {exc}") from None
        for raw in raws:
            case = Case.model_validate(raw | {"task_file": path.name})
            if case.scenario.task != path.stem:
                raise ValueError(f"{path.name}: case {case.id} is a {case.scenario.task} case")
            both = set(case.expect.flags) & set(case.expect.clean)
            known = set(TASK_BEHAVIOURS[case.scenario.task])
            unknown = (set(case.expect.flags) | set(case.expect.clean)) - known
            if both or unknown:
                raise ValueError(f"{path.name}: case {case.id}: flags/clean overlap {both} or unknown {unknown}")
            cases.append(case)
    ids = [c.id for c in cases]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise ValueError(f"duplicate case ids: {sorted(dupes)}")
    return cases


def baseline_failures() -> set[str]:
    """Ids known to fail on the code the set was first run against (empty in strict mode)."""
    if os.environ.get(STRICT_ENV) or not BASELINE_FAILURES.exists():
        return set()
    lines = BASELINE_FAILURES.read_text().splitlines()
    return {x.split("#", 1)[0].strip() for x in lines if x.split("#", 1)[0].strip()}


def replay(case: Case) -> dict[str, Any]:
    """Play the case's script with `peerwatch replay ... --json` (in process) and return the verdict object."""
    from peerwatch.cli import app

    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / f"{case.id}.yaml"
        script.write_text(yaml.safe_dump(case.script, sort_keys=False, allow_unicode=True))
        result = CliRunner().invoke(app, ["replay", str(script), *case.scenario.cli_args(), "--json"])
    if result.exit_code != 0:
        raise AssertionError(f"{case.id}: replay exited {result.exit_code}: {result.output.strip()}")
    return json.loads(result.stdout)


def problems(case: Case, verdict: dict[str, Any]) -> list[str]:
    """Every way the verdict differs from the case's expectations (empty: the case passes)."""
    out: list[str] = []
    if verdict.get("status") != case.expect.status:
        out.append(f"status {verdict.get('status')!r}, expected {case.expect.status!r}")
    behaviours = verdict.get("behaviours") or {}
    for name in case.expect.flags:
        if not (behaviours.get(name) or {}).get("flag"):
            out.append(f"{name} not flagged")
    for name in case.expect.clean:
        if name not in behaviours:
            out.append(f"{name} missing from the verdict")
        elif behaviours[name].get("flag"):
            out.append(f"{name} flagged")
    return out


def describe(verdict: dict[str, Any]) -> str:
    """A short human-readable verdict for failure messages."""
    lines = [f"status={verdict.get('status')} reported={verdict.get('reported')} truth={verdict.get('truth')}"]
    for name, b in (verdict.get("behaviours") or {}).items():
        lines.append(f"  {name}: {'FLAG' if b.get('flag') else 'no'}")
        for e in b.get("evidence") or []:
            lines.append(f"      {e}")
    for key in ("not_read", "unparsed", "error"):
        if verdict.get(key):
            lines.append(f"  {key}: {verdict[key]}")
    return "\n".join(lines)
