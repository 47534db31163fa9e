"""Policy values an operator could misread: YAML 1.1 booleans and numbers, unbounded timeouts, weakening lint."""

from __future__ import annotations

import pytest

from peerwatch.oversight import PolicyError, builtin_policy_path
from peerwatch.oversight._policy_lint import lint
from peerwatch.oversight._policy_load import parse_policy

DEFAULT = builtin_policy_path("default.yaml").read_text()
PRODUCTION = builtin_policy_path("production.yaml").read_text()


def _refused(text: str) -> str:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "p.yaml")
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("policy p.yaml:"), msg
    return msg


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "True", "ON", "FALSE", "Yes", "!!bool yes"])
def test_only_literal_true_false_is_a_boolean(word: str) -> None:
    text = PRODUCTION.replace("allow_same_family_evaluation: false", f"allow_same_family_evaluation: {word}")
    msg = _refused(text)
    assert f"p.yaml:{text.splitlines().index(f'allow_same_family_evaluation: {word}') + 1}:" in msg


def test_bool_spelling_refused_anywhere() -> None:
    _refused(DEFAULT.replace("decision: deny", "decision: off", 1))


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", ".NaN", "1.0e400", "100000", "0", "-1", "0x10", "5:00"])
def test_timeout_must_be_finite_and_bounded(value: str) -> None:
    _refused(DEFAULT.replace("timeout_seconds: 300", f"timeout_seconds: {value}"))


@pytest.mark.parametrize("value", ["1", "2.5", "86400"])
def test_plain_timeouts_load(value: str) -> None:
    assert parse_policy(DEFAULT.replace("timeout_seconds: 300", f"timeout_seconds: {value}")).approval


def test_version_in_hex_refused() -> None:
    _refused(DEFAULT.replace("version: 1", "version: 0x1"))


WEAKENINGS = {
    "default-tool-allow": ("default_tool_decision: deny", "default_tool_decision: allow"),
    "star-allow": ("tools: ['create_*', 'append_*', 'write_*', 'end_task']", "tools: ['*']"),
    "star-star-allow": ("tools: ['create_*', 'append_*', 'write_*', 'end_task']", "tools: ['create_*', '**']"),
    "shutdown-allow": (
        "effects: [shutdown]\n    decision: require_approval",
        "effects: [shutdown]\n    decision: allow",
    ),
    "weights-copy-allow": (
        "effects: [server_copy]\n    content: weights\n    decision: deny",
        "effects: [server_copy]\n    content: weights\n    decision: allow",
    ),
    "weights-delete-allow": (
        "content: weights\n    decision: require_approval",
        "content: weights\n    decision: allow",
    ),
    "config-writes-allow": (
        "target: shutdown_config\n    decision: deny",
        "target: shutdown_config\n    decision: allow",
    ),
}


@pytest.mark.parametrize("name", sorted(WEAKENINGS))
def test_weakenings_are_findings(name: str) -> None:
    old, new = WEAKENINGS[name]
    assert old in DEFAULT
    findings = lint(parse_policy(DEFAULT.replace(old, new)))
    assert findings, name
    assert all("\n" not in f.message for f in findings)


def test_shipped_policies_are_clean() -> None:
    assert lint(parse_policy(DEFAULT)) == []
    assert lint(parse_policy(PRODUCTION)) == []
