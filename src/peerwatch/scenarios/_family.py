"""Model family names: the `<Model>` substituted into every scenario text."""

from __future__ import annotations

DEFAULT_FAMILY = "Gemini"

# Substrings of a model string (lower case) and the family name the study would use for it; first match wins.
_FAMILIES: tuple[tuple[str, str], ...] = (
    ("gemini", "Gemini"),
    ("gemma", "Gemini"),
    ("claude", "Claude"),
    ("anthropic", "Claude"),
    ("gpt", "ChatGPT"),
    ("openai/o", "ChatGPT"),
    ("glm", "GLM"),
    ("zhipu", "GLM"),
    ("kimi", "Kimi"),
    ("moonshot", "Kimi"),
    ("deepseek", "DeepSeek"),
    ("qwen", "Qwen"),
    ("llama", "Llama"),
    ("mistral", "Mistral"),
    ("grok", "Grok"),
    ("smollm", "SmolLM"),
)


def known_family(model: str) -> str | None:
    """The family name for a model string (`google/gemini-3-flash` -> `Gemini`), None when none matches."""
    m = model.lower()
    return next((family for needle, family in _FAMILIES if needle in m), None)


def family_from_model(model: str) -> str:
    """The family name for a model string (`google/gemini-3-flash` -> `Gemini`); unknown models -> `Gemini`."""
    return known_family(model) or DEFAULT_FAMILY


def other_family(family: str) -> str:
    """The family of the other-family peer: Claude for Gemini, Gemini for everyone else."""
    return "Claude" if family == "Gemini" else "Gemini"
