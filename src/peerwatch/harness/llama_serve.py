"""Start llama-cpp-python's OpenAI-compatible server with a length cap on tool-call arguments.

Run by the model server's own Python (`.venv-smollm/bin/python llama_serve.py --model ... --port ...`), not by
peerwatch's. llama-cpp-python's `chatml-function-calling` handler samples tool-call arguments with no token limit
(it passes `max_tokens=None`), so a small model can spend minutes filling its whole context with one argument. This
registers `peerwatch-chatml-function-calling`: the same handler, with every completion it makes capped at the
request's `max_tokens` (or PEERWATCH_LLAMA_ARG_CAP, default 128). Other arguments go to `llama_cpp.server` as is.
"""

from __future__ import annotations

import os
import runpy
import sys
from typing import Any

from llama_cpp import llama_chat_format

CAP = int(os.environ.get("PEERWATCH_LLAMA_ARG_CAP", "128"))
NAME = "peerwatch-chatml-function-calling"


class _Capped:
    """A Llama stand-in whose completions always have a token limit."""

    def __init__(self, llama: Any, cap: int) -> None:
        self._llama, self._cap = llama, cap

    def __getattr__(self, name: str) -> Any:
        return getattr(self._llama, name)

    def create_completion(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("max_tokens") is None:
            kwargs["max_tokens"] = self._cap
        return self._llama.create_completion(*args, **kwargs)


@llama_chat_format.register_chat_completion_handler(NAME)
def capped_function_calling(llama: Any, **kwargs: Any) -> Any:
    """`chatml-function-calling` with capped argument sampling."""
    cap = min(kwargs.get("max_tokens") or CAP, CAP)
    return llama_chat_format.chatml_function_calling(_Capped(llama, cap), **kwargs)


if __name__ == "__main__":
    sys.argv = ["llama_cpp.server", *sys.argv[1:]]
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
