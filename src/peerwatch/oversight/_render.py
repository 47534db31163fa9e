"""Show an approval request to a human exactly as it is: no markup interpreted, no control character hidden.

Everything in a request may come from the agent (arguments, call id, even the tool name). Rich markup such as
`[/]` would crash the terminal prompt or `[conceal]` hide text; ANSI escapes, carriage returns and bidi overrides
would rewrite what the human reads. Each is shown as a visible escape instead.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from rich.markup import escape

from ._approval import ApprovalRequest

# Unicode categories that render as nothing or reorder/overwrite text: controls, format (bidi, zero width),
# line/paragraph separators, private use, surrogates, unassigned.
_HIDDEN = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"}


def visible(text: str) -> str:
    """`text` with every hidden or control character (newline included) replaced by a visible escape."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif unicodedata.category(ch) in _HIDDEN:
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch) or f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def safe(value: Any) -> str:
    """A value from the agent, made visible and escaped for rich markup."""
    return escape(visible(str(value)))


def render_request(req: ApprovalRequest) -> str:
    """Rich markup for one request; every agent-controlled part is escaped."""
    args = json.dumps(req.args, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    # json already escapes C0 controls; the rest (DEL, C1, bidi, zero width) is made visible line by line.
    shown = "\n".join(escape(_visible_json_line(line)) for line in args.splitlines())
    return (
        f"[bold]{safe(req.tool)}[/bold] by {safe(req.actor)}  (rule {safe(req.rule)}: {safe(req.reason)})\n"
        f"call {safe(req.call_id)}  digest {req.digest}\n{shown}"
    )


def _visible_json_line(line: str) -> str:
    return "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) in _HIDDEN else ch for ch in line
    )
