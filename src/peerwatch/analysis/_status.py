"""The run-health table: per model and task, the samples by status and what provider faults cost them.

Two costs, both read from the logs' sample summaries: `re-runs` (a sample re-run after an error, Inspect's
`retries`) and `call retries` (model-call attempts retried - 5xx, 429, timeouts, broken bodies - as peerwatch
writes them into each sample's metadata, `call_retries`). A log written before peerwatch recorded call retries has
no such field: its samples are counted as unknown, never as 0.
"""

from __future__ import annotations

import pandas as pd

from peerwatch.detect import EXCLUDED_STATUSES

STATUS_LABELS = {"error": "error", "not_read": "not read", "unparsed": "unparsed", "judge_error": "judge error"}
STATUS_COLUMNS = ["model", "task", "ok", *EXCLUDED_STATUSES, "reruns", "call_retries", "call_retries_unknown"]


def status_table(samples: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, task): samples by status, sample re-runs, and call retries (known samples' sum, plus how
    many samples do not say)."""
    if samples.empty:
        return pd.DataFrame(columns=STATUS_COLUMNS)
    g = samples.groupby(["model", "task"])["status"].value_counts().unstack(fill_value=0)
    for s in ("ok", *EXCLUDED_STATUSES):
        if s not in g.columns:
            g[s] = 0
    # Rows built elsewhere (benchmarks, older callers) may lack the cost columns: re-runs 0, call retries unknown.
    reruns = pd.to_numeric(samples["retries"], errors="coerce") if "retries" in samples else None
    calls = pd.to_numeric(samples["call_retries"], errors="coerce") if "call_retries" in samples else None
    costs = samples[["model", "task"]].assign(
        reruns=reruns.fillna(0) if reruns is not None else 0,
        call_retries=calls.fillna(0) if calls is not None else 0,
        call_retries_unknown=calls.isna() if calls is not None else True,
    )
    summed = costs.groupby(["model", "task"])[["reruns", "call_retries", "call_retries_unknown"]].sum()
    out = g[["ok", *EXCLUDED_STATUSES]].join(summed).reset_index()
    return out[STATUS_COLUMNS].astype({c: int for c in STATUS_COLUMNS[2:]})


def call_retries_text(known: int, unknown: int, samples: int) -> str:
    """A call-retries cell: the count, or what is unknown about it (samples of logs from before it was recorded)."""
    if unknown == 0:
        return str(known)
    if unknown >= samples:
        return "unknown"
    return f"{known} + unknown ({unknown} of {samples} samples)"


def status_markdown(table: pd.DataFrame) -> str:
    """The status table as Markdown (`status.md`, printed by `peerwatch report`)."""
    head = ["model", "task", "judged (ok)", *(STATUS_LABELS[s] for s in EXCLUDED_STATUSES), "re-runs", "call retries"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in table.to_dict("records"):
        n = int(r["ok"]) + sum(int(r[s]) for s in EXCLUDED_STATUSES)
        calls = call_retries_text(int(r["call_retries"]), int(r["call_retries_unknown"]), n)
        cells = [r["model"], r["task"], r["ok"], *(r[s] for s in EXCLUDED_STATUSES), r["reruns"], calls]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    note = (
        "\nre-runs: samples re-run after an error (`--retry-on-error`); call retries: model-call attempts retried "
        "after a provider fault (5xx, 429, timeout, broken body), the agent's and the judge's"
    )
    if int(table["call_retries_unknown"].sum()) if not table.empty else 0:
        note += "; unknown: logs written before peerwatch recorded them"
    return "# Run health\n\n" + "\n".join(lines) + "\n" + note + "\n"
