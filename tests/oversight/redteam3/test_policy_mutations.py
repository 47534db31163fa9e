"""Red team 3: mutated copies of the shipped policies must not load, or must be flagged by `policy check`.

Run with PEERWATCH_REDTEAM3=1 (skipped otherwise so main stays green).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.environ.get("PEERWATCH_REDTEAM3") != "1", reason="red team 3 suite (opt-in)")

from peerwatch.oversight import PolicyError, builtin_policy_path, load_policy  # noqa: E402

DEFAULT = builtin_policy_path("default.yaml").read_text()
PRODUCTION = builtin_policy_path("production.yaml").read_text()


def sub(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    def f(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, count)

    return f


def drop_block(start: str, end: str) -> Callable[[str], str]:
    def f(text: str) -> str:
        i = text.index(start)
        j = text.index(end, i + len(start))
        return text[:i] + text[j:]

    return f


def append(extra: str) -> Callable[[str], str]:
    return lambda text: text + extra


# Must refuse to load: one line naming file:line.
LOAD_ERRORS: dict[str, Callable[[str], str]] = {
    "effect-typo-lifecycle": sub("server_copy, server_rename,", "server_cpy, server_rename,"),
    "effect-typo-rule": sub("effects: [server_transfer]\n", "effects: [server_transfr]\n"),
    "effect-case": sub("effects: [server_transfer]\n", "effects: [Server_Transfer]\n"),
    "decision-case-Deny": sub("decision: deny", "decision: Deny"),
    "decision-typo": sub("decision: deny", "decision: dney"),
    "decision-bool": sub("decision: deny", "decision: no"),
    "decision-null": sub("decision: deny", "decision: ~"),
    "decision-list": sub("decision: deny", "decision: [deny]"),
    "key-typo-yaml_key": sub("yaml_key: shutdown_enabled", "yaml_kye: shutdown_enabled"),
    "key-typo-content": sub("content: weights\n    decision: deny", "contnet: weights\n    decision: deny"),
    "key-typo-target": sub("target: shutdown_config", "taget: shutdown_config"),
    "key-typo-effects": sub("effects: [server_transfer]\n", "effect: [server_transfer]\n"),
    "key-typo-rules": sub("\nrules:\n", "\nrule:\n"),
    "key-typo-protected": sub("\nprotected:\n", "\nprotect:\n"),
    "protected-class-typo-content": sub("content: weights", "content: weight"),
    "protected-class-typo-target": sub("target: shutdown_config", "target: shutdown-config"),
    "protected-class-unknown": sub("  shutdown_config:\n", "  shutdown_cfg:\n"),
    "deleted-protected": drop_block("protected:\n", "rules:\n"),
    "deleted-weights-block": drop_block("  weights:\n", "  shutdown_config:\n"),
    "empty-weights-block": sub(
        "    summary: '(?i)model weight'\n    name: '(?i)\\.(safetensors|gguf|ckpt|pt|bin)$'\n", "    {}\n"
    ),
    "deleted-rules": drop_block("rules:\n", "# For tools"),
    "empty-rules": sub("\nrules:\n", "\nrules: []\nxrules:\n"),
    "bad-regex": sub("(?i)model weight", "(?i)model weight("),
    "glob-bad-chars": sub("'list_*'", "'list_* '"),
    "glob-not-string": sub("'list_*'", "123"),
    "duplicate-key-decision": sub("decision: deny\n", "decision: deny\n    decision: allow\n"),
    "duplicate-top-key": append("rules: []\n"),
    "duplicate-rule-id": sub("id: no-copies-of-weights", "id: weights-never-leave-their-server"),
    "tab-indent": sub("    decision: deny", "\tdecision: deny"),
    "merge-key": sub(
        "  - id: no-copies-of-weights\n",
        "  - id: no-copies-of-weights\n    <<: {decision: allow}\n",
    ),
    "tag-python": sub("decision: deny", "decision: !!python/name:os.system deny"),
    "tag-str-on-bool": sub(
        "allow_same_family_evaluation: true", "allow_same_family_evaluation: !!str true"
    ),
    "bool-as-string": sub("allow_same_family_evaluation: true", "allow_same_family_evaluation: 'yes'"),
    # production.yaml: an unquoted YAML 1.1 'yes'/'on' turns the evaluator check off without a word
    "bool-yes-on-production": sub("allow_same_family_evaluation: false", "allow_same_family_evaluation: yes"),
    "bool-on-on-production": sub("allow_same_family_evaluation: false", "allow_same_family_evaluation: on"),
    "bool-yes": sub("allow_same_family_evaluation: true", "allow_same_family_evaluation: yes"),
    "unicode-lookalike-effect": sub("effects: [server_transfer]\n", "effects: [server_trаnsfer]\n"),  # Cyrillic a
    "unicode-lookalike-key": sub("    decision: deny\n", "    decisiоn: deny\n"),  # Cyrillic o
    "zero-width-in-decision": sub("decision: deny", "decision: de\u200bny"),
    "version-2": sub("version: 1", "version: 2"),
    "version-string": sub("version: 1", "version: '1'"),
    "two-documents": append("---\nversion: 1\n"),
    "timeout-zero": sub("timeout_seconds: 300", "timeout_seconds: 0"),
    "timeout-negative": sub("timeout_seconds: 300", "timeout_seconds: -1"),
    "timeout-nan": sub("timeout_seconds: 300", "timeout_seconds: .nan"),
    "timeout-inf": sub("timeout_seconds: 300", "timeout_seconds: .inf"),
    "approval-key-typo": sub("timeout_seconds: 300", "timeout_secnds: 300"),
    "default-tool-decision-typo": sub("default_tool_decision: deny", "default_tool_decision: denied"),
    "rule-effect-not-lifecycle": sub(
        "                    end_task]", "                    ]"
    ),
    "alias-bomb": lambda t: "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n" + t,
    "top-level-list": lambda t: "- " + t.replace("\n", "\n  "),
    "empty-file": lambda t: "",
    "only-comment": lambda t: "# nothing\n",
    "binary-garbage": lambda t: "\x00\x01\xff" + t,
    "bom-and-crlf-plus-typo": lambda t: "\ufeff" + t.replace("decision: deny", "decision: deni").replace("\n", "\r\n"),
    "rule-id-empty": sub("id: no-copies-of-weights", "id: ''"),
    "yaml-key-empty": sub("yaml_key: shutdown_enabled", "yaml_key: ''"),
    "name-empty": sub("name: peerwatch-default", "name: ''"),
    "unknown-top-key": append("default_decision: allow\n"),
}

# Well-formed but weakening: must be flagged by `policy check` (lint or selects-nothing).
WEAKENINGS: dict[str, Callable[[str], str]] = {
    "weights-copy-allowed": sub(
        "effects: [server_copy]\n    content: weights\n    decision: deny",
        "effects: [server_copy]\n    content: weights\n    decision: allow",
    ),
    "weights-name-regex-typo": lambda t: sub("(?i)model weight", "(?i)zzzz")(
        sub("(?i)\\.(safetensors|gguf|ckpt|pt|bin)$", "(?i)\\.(safetensor|ggufx)$")(t)
    ),
    "yaml-key-typo-value": sub("yaml_key: shutdown_enabled", "yaml_key: shutdown_enable"),
    "transfer-rule-on-drive-effect": sub(
        "effects: [server_transfer]\n    content: weights", "effects: [drive_create]\n    content: weights"
    ),
    "shutdown-config-rule-dropped": drop_block(
        "  - id: no-agent-edits-the-shutdown-config", "  - id: shutdown-needs-a-human"
    ),
    "shutdown-allowed": sub(
        "effects: [shutdown]\n    decision: require_approval", "effects: [shutdown]\n    decision: allow"
    ),
    "lifecycle-effects-trimmed": sub(
        "lifecycle_effects: [server_copy, server_rename, server_transfer, ",
        "lifecycle_effects: [server_copy, server_rename, ",
    ),
    "default-tool-allow": sub("default_tool_decision: deny", "default_tool_decision: allow"),
    "tool-rule-star-allow": sub("tools: ['create_*', 'append_*', 'write_*', 'end_task']", "tools: ['*']"),
    "weights-content-rules-removed": lambda t: re.sub(r"\n    content: weights", "", t),
    "config-overwrite-uncovered": sub(
        "effects: [config_set, config_add, config_remove, drive_create, drive_delete, drive_overwrite, drive_append]",
        "effects: [config_set, config_add, config_remove, drive_delete]",
    ),
}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / f"{name}.yaml"
    p.write_text(text, encoding="utf-8", errors="surrogateescape")
    return p


@pytest.mark.parametrize("base", ["default", "production"])
@pytest.mark.parametrize("name", sorted(LOAD_ERRORS))
def test_mutation_refuses_to_load(tmp_path: Path, name: str, base: str) -> None:
    text = DEFAULT if base == "default" else PRODUCTION
    try:
        mutated = LOAD_ERRORS[name](text)
    except (AssertionError, ValueError):
        pytest.skip(f"{name} does not apply to {base}")
    p = _write(tmp_path, name, mutated)
    with pytest.raises(PolicyError) as info:
        pol = load_policy(p)
        pytest.fail(f"{name}: loaded without error: {pol!r:.200}")
    msg = str(info.value)
    assert "\n" not in msg.strip(), msg
    assert re.search(re.escape(str(p)) + r":\d+", msg), msg


@pytest.mark.parametrize("name", sorted(WEAKENINGS))
def test_weakening_is_flagged(tmp_path: Path, name: str) -> None:
    from peerwatch.oversight._attacks import protection_misses
    from peerwatch.oversight._policy_lint import lint

    p = _write(tmp_path, name, WEAKENINGS[name](DEFAULT))
    try:
        pol = load_policy(p)
    except PolicyError:
        return  # refusing to load is stronger than a finding
    findings = [f.message for f in lint(pol)] + list(protection_misses(pol))
    if findings:
        return
    # `policy check` is silent: `policy test` (the bundled attack suite) must then show the hole
    r = subprocess.run([sys.executable, "-c", "from peerwatch.cli import main; main()", "policy", "test", str(p)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 1, f"{name}: neither policy check nor policy test flags it: {r.stdout[-500:]}"
