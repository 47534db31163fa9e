"""Red team: policy files a careless operator (or an attacker with write access) could produce must not load.

Each case mutates the shipped default policy by one small edit - a one-word typo, a deleted block, a wrong type -
and must be refused with a one-line `policy FILE:LINE: ...` error that points at the edited line.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import pytest

from peerwatch.oversight import PolicyError, load_policy

DEFAULT = (files("peerwatch.oversight") / "policies/default.yaml").read_text()


def _block(text: str, start: str) -> tuple[str, str]:
    """The lines from the one starting with `start` to the next line at the same or a lower indent."""
    lines = text.splitlines(keepends=True)
    i = next(n for n, line in enumerate(lines) if line.lstrip().startswith(start))
    indent = len(lines[i]) - len(lines[i].lstrip())
    j = i + 1
    while j < len(lines) and (not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > indent):
        j += 1
    return "".join(lines[i:j]), lines[i]


def _replace(old: str, new: str, count: int = 1) -> str:
    assert old in DEFAULT, old
    return DEFAULT.replace(old, new, count)


def _delete_block(start: str) -> str:
    block, _ = _block(DEFAULT, start)
    return DEFAULT.replace(block, "", 1)


def _laughs(levels: int = 8) -> str:
    """Nested aliases that expand to 9**levels values (the "billion laughs")."""
    out = "l0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for i in range(1, levels + 1):
        out += f"l{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n"
    return out


# (case id, mutated text, a string on the line the error must name; None: any line)
CASES: list[tuple[str, str, str | None]] = [
    ("lifecycle-effect-typo", _replace("server_transfer,", "server_transfr,"), "server_transfr"),
    ("lifecycle-effect-typo-2nd-line", _replace("config_add,", "config_ad,"), "config_ad,"),
    ("rule-effect-typo", _replace("effects: [server_transfer]", "effects: [server_transfr]"), "server_transfr"),
    ("rule-effect-typo-shutdown", _replace("effects: [shutdown]", "effects: [shutdwn]"), "shutdwn"),
    ("rule-effect-not-a-mutation", _replace("effects: [shutdown]", "effects: [call]"), "[call]"),
    ("lifecycle-effect-capitalised", _replace("server_copy,", "Server_copy,"), "Server_copy"),
    ("yaml-key-misspelled", _replace("yaml_key:", "yaml_kye:"), "yaml_kye"),
    ("yaml-key-empty", _replace("yaml_key: shutdown_enabled", "yaml_key: ''"), "yaml_key"),
    ("protected-block-deleted", _delete_block("protected:"), None),
    ("weights-class-deleted", _delete_block("weights:"), "content: weights"),
    ("shutdown-config-class-deleted", _delete_block("shutdown_config:"), "target: shutdown_config"),
    ("protected-class-misspelled", _replace("  weights:", "  weigths:"), "weigths"),
    ("protected-class-unknown", _replace("  shutdown_config:\n", "  kill_switch:\n"), "kill_switch"),
    ("protected-empty", _delete_block("protected:").replace("rules:\n", "protected: {}\nrules:\n", 1), "protected"),
    (
        "weights-selector-empty",
        _delete_block("weights:").replace("  shutdown_config:", "  weights: {}\n  shutdown_config:"),
        "weights: {}",
    ),
    ("weights-bad-regex", _replace("'(?i)model weight'", "'(?i)model weight('"), "model weight("),
    ("decision-unknown", _replace("decision: deny", "decision: denied"), "denied"),
    ("decision-approval-typo", _replace("decision: require_approval", "decision: require_aproval"), "aproval"),
    ("decision-capitalised", _replace("decision: deny", "decision: Deny"), "Deny"),
    ("decision-wrong-type", _replace("decision: deny", "decision: [deny]"), "[deny]"),
    ("content-class-typo", _replace("content: weights", "content: weight"), "content: weight"),
    ("target-class-typo", _replace("target: shutdown_config", "target: shutdown_cfg"), "shutdown_cfg"),
    ("rule-key-misspelled", _replace("    content: weights", "    contents: weights"), "contents"),
    ("rule-effects-key-misspelled", _replace("    effects: [server_transfer]", "    effect: [server_transfer]"), None),
    ("rules-empty", re.sub(r"(?ms)^rules:\n.*?(?=^# For tools)", "rules: []\n", DEFAULT), "rules: []"),
    ("rules-null", re.sub(r"(?ms)^rules:\n.*?(?=^# For tools)", "rules:\n", DEFAULT), "rules:"),
    ("rule-effects-empty", _replace("effects: [shutdown]", "effects: []"), "effects: []"),
    (
        "lifecycle-effects-empty",
        re.sub(r"(?ms)^lifecycle_effects: \[.*?\]\n", "lifecycle_effects: []\n", DEFAULT),
        "lifecycle_effects",
    ),
    ("effects-not-a-list", _replace("effects: [server_transfer]", "effects: server_transfer"), "server_transfer"),
    ("duplicate-top-level-key", _replace("name: peerwatch-default\n", "name: peerwatch-default\nname: x\n"), "name: x"),
    (
        "duplicate-rule-key",
        _replace("    decision: deny\n", "    decision: deny\n    decision: allow\n"),
        "decision: allow",
    ),
    (
        "duplicate-protected-class",
        _replace("  shutdown_config:\n", "  weights:\n    summary: x\n  shutdown_config:\n"),
        None,
    ),
    (
        "duplicate-rule-id",
        _replace("id: no-copies-of-weights", "id: weights-never-leave-their-server"),
        "weights-never-leave-their-server",
    ),
    ("rule-id-missing", _replace("  - id: no-renaming-weights\n    effects", "  - effects"), None),
    ("top-level-key-misspelled", _replace("tool_rules:", "tool_rule:"), "tool_rule:"),
    ("default-tool-decision-typo", _replace("default_tool_decision: deny", "default_tool_decision: dny"), "dny"),
    ("tool-glob-empty", _replace("'list_*', ", "'', "), "'', "),
    ("tool-glob-unbalanced", _replace("'list_*', ", "'[list_*', "), "[list_*"),
    (
        "tool-rules-tools-empty",
        _replace("tools: ['create_*', 'append_*', 'write_*', 'end_task']", "tools: []"),
        "tools: []",
    ),
    ("version-wrong-type", _replace("version: 1", "version: one"), "version"),
    ("version-unknown", _replace("version: 1", "version: 7"), "version"),
    ("timeout-negative", _replace("timeout_seconds: 300", "timeout_seconds: -1"), "timeout_seconds"),
    (
        "same-family-flag-string",
        _replace("allow_same_family_evaluation: true", "allow_same_family_evaluation: 'yes'"),
        "allow_same_family_evaluation",
    ),
    ("rule-effect-not-lifecycle", _replace("server_rename, ", "", 1), "effects: [server_rename]"),
    ("rule-effect-number", _replace("effects: [shutdown]", "effects: [1]"), "[1]"),
    ("top-level-list", "- " + DEFAULT.replace("\n", "\n  "), None),
    ("empty-file", "", None),
    ("not-yaml", _replace("rules:\n", "rules: [\n"), None),
    ("python-tag", _replace("name: peerwatch-default", "name: !!python/name:os.system x"), "!!python"),
    ("custom-tag", _replace("decision: deny", "decision: !deny deny"), "!deny"),
    ("two-documents", DEFAULT + "---\nname: second\n", None),
    ("recursive-alias", _replace("tool_rules:", "loop: &l [*l]\ntool_rules:"), None),
    ("billion-laughs", DEFAULT + _laughs(), None),
    ("effect-homoglyph", _replace("server_transfer,", "server_tr\u0430nsfer,"), "server_tr"),
    (
        "yaml-merge-key",
        _replace("  - id: no-copies-of-weights\n", "  - <<: {decision: allow}\n    id: no-copies-of-weights\n"),
        "<<",
    ),
]


def test_suite_is_big_enough() -> None:
    assert len(CASES) >= 25
    assert len({c[0] for c in CASES}) == len(CASES)


def test_default_policy_loads() -> None:
    load_policy()


@pytest.mark.parametrize(("case", "text", "on_line"), CASES, ids=[c[0] for c in CASES])
def test_broken_policy_is_refused_naming_the_line(tmp_path: Path, case: str, text: str, on_line: str | None) -> None:
    assert text != DEFAULT
    p = tmp_path / f"{case}.yaml"
    p.write_text(text)
    with pytest.raises(PolicyError) as info:
        load_policy(p)
    msg = str(info.value)
    assert "\n" not in msg, msg
    m = re.match(rf"policy {re.escape(str(p))}:(\d+): \S", msg)
    assert m, msg
    if on_line is not None:
        line = text.splitlines()[int(m.group(1)) - 1]
        assert on_line in line, f"{msg!r} points at {line!r}"
