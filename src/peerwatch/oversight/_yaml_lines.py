"""YAML loading that remembers where every value came from, for one-line errors that name the offending line.

Plain `yaml.safe_load` forgets positions and silently keeps the last of two duplicate keys; for a security policy
both are unacceptable. This loader composes the node graph, refuses duplicate keys and merge keys (`<<`, which would
let one block silently override another), and returns the data with a map from value path to line number.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


class YamlLineError(ValueError):
    """Bad YAML at a known line (1-based)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def load_with_lines(text: str) -> tuple[Any, dict[Path_, int]]:
    """Parse `text` (one YAML document) into plain data and {path: line} for every mapping key and sequence item.

    Raises:
        YamlLineError: Not valid YAML, a duplicate key, a merge key, or a non-scalar key.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlLineError(line, f"not valid YAML: {exc.problem or exc.context or 'syntax error'}") from None
    except yaml.YAMLError as exc:
        raise YamlLineError(1, f"not valid YAML: {' '.join(str(exc).split())}") from None
    lines: dict[Path_, int] = {}
    if node is None:
        return None, lines
    constructor = yaml.SafeLoader("")
    budget = [_MAX_NODES]
    try:
        return _build(node, (), lines, constructor, set(), budget), lines
    except yaml.MarkedYAMLError as exc:  # e.g. an unknown tag such as !!python/object
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlLineError(line, f"not allowed in a policy: {exc.problem or exc.context}") from None


# A policy is small; aliases that expand past this are an attack on the loader (a "billion laughs").
_MAX_NODES = 100_000


def _build(
    node: yaml.Node, path: Path_, lines: dict[Path_, int], c: yaml.SafeLoader, open_: set[int], budget: list[int]
) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlLineError(node.start_mark.line + 1, "too many values (aliases expand past 100,000 nodes)")
    lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in open_:  # an alias to one of its own ancestors: infinite data
        raise YamlLineError(node.start_mark.line + 1, "recursive YAML alias")
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        open_ = open_ | {id(node)}
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlLineError(line, "YAML merge keys ('<<') are not allowed in a policy: write each key out")
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlLineError(line, "a key must be a plain scalar")
            key = c.construct_object(key_node)
            if key in out:
                raise YamlLineError(line, f"duplicate key '{key}'")
            lines[(*path, key)] = line
            out[key] = _build(value_node, (*path, key), lines, c, open_, budget)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            items.append(_build(item, (*path, i), lines, c, open_, budget))
        return items
    if isinstance(node, yaml.ScalarNode):
        _check_plain_spelling(node)
    return c.construct_object(node)


# YAML 1.1 reads `yes`, `On`, `NO`, `0x1f`, `5:00` (base 60!) and `.inf` as booleans and numbers: an operator who
# writes `allow_same_family_evaluation: yes` or `timeout_seconds: .inf` gets a value they did not see. Only the
# spellings everyone reads the same way are accepted; everything else is an error, not a guess.
_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_PLAIN_INT = re.compile(r"^[-+]?[0-9]+$")
_PLAIN_FLOAT = re.compile(r"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][-+]?[0-9]+)?$")


def _check_plain_spelling(node: yaml.ScalarNode) -> None:
    line, value = node.start_mark.line + 1, node.value
    if node.tag == _BOOL_TAG and value not in ("true", "false"):
        raise YamlLineError(
            line, f"'{value}' is not a boolean here: write true or false (quote it if you mean the text)"
        )
    if node.tag == _INT_TAG and not _PLAIN_INT.match(value):
        raise YamlLineError(line, f"'{value}' is not a plain decimal integer: write the number in decimal digits")
    if node.tag == _FLOAT_TAG and not _PLAIN_FLOAT.match(value):
        raise YamlLineError(line, f"'{value}' is not a finite decimal number: write digits such as 300 or 2.5")


def line_of(lines: dict[Path_, int], path: Path_) -> int:
    """The line of `path`, or of its nearest ancestor that has one (a missing key points at its parent)."""
    p = tuple(path)
    while p:
        if p in lines:
            return lines[p]
        p = p[:-1]
    return lines.get((), 1)
