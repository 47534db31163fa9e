"""Tool declarations from agent CLIs are JSON schemas of any quality: odd ones degrade, never raise."""

from __future__ import annotations

import pytest

from peerwatch.harness._bridge import tool_info


@pytest.mark.parametrize(
    "prop",
    [
        {"type": "strin", "description": "a misspelt type"},
        {"type": 7},
        {"type": ["string", "nonsense"]},
        {"type": "STRING"},
        "not a schema",
    ],
)
def test_odd_property_schema_degrades(prop: object) -> None:
    info = tool_info("t", "", {"type": "object", "properties": {"a": prop}, "required": ["a", "b"]})
    assert list(info.parameters.properties) == ["a"]
    assert info.parameters.required == ["a"]  # only declared properties can be required


def test_properties_not_a_mapping_means_none() -> None:
    info = tool_info("t", "", {"type": "object", "properties": ["a"], "required": ["a"]})
    assert info.parameters.properties == {} and info.parameters.required == []
    assert info.description == "t"
