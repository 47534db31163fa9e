"""Report sections below the tables: rule-vs-judge agreement, excluded samples, every cell, provenance."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, SupportsFloat

import pandas as pd

from peerwatch.detect import EXCLUDED_STATUSES, applicable_behaviours

from ._agreement import judge_status_counts
from ._links import local_path, view_url
from ._logs import FACTORS, LogInfo
from ._status import STATUS_LABELS, call_retries_text, status_table

# Disagreeing samples listed per behaviour on the page; all of them are in disagreements.csv.
MAX_LISTED = 50


def esc(x: object) -> str:
    """HTML-escaped text."""
    return html.escape(str(x))


def fmt(x: object, digits: int = 1) -> str:
    """A number, or "-" for a missing one."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if not isinstance(x, SupportsFloat | str):
        raise TypeError(f"not a number: {x!r}")
    return f"{float(x):.{digits}f}"


def _dirs(infos: list[LogInfo]) -> dict[str, str]:
    return {i.path: i.log_dir for i in infos}


def _link(text: str, log: str, dirs: dict[str, str], sample_id: object, epoch: int) -> str:
    return f"<a href='{view_url(log, dirs.get(log, ''), sample_id, epoch)}'>{esc(text)}</a>"


def agreement_section(agree: pd.DataFrame, dis: pd.DataFrame, samples: pd.DataFrame, infos: list[LogInfo]) -> str:
    """The agreement section: a 2x2 table and kappa per behaviour, then the disagreeing samples."""
    counts = judge_status_counts(samples)
    if counts["judged"] == 0:
        return (
            "<p class=muted>No sample carries an LLM-judge signal, so there is nothing to compare the rules with. "
            "Run with <code>--judge MODEL</code> (or <code>peerwatch rescore --judge MODEL</code>) to get one.</p>"
        )
    intro = (
        f"<p>{counts['judged']:,} samples carry a judge signal; the judge failed or refused on "
        f"{counts['judge_error']:,} of them (status <code>judge_error</code>, excluded from rates). A sample enters a "
        "behaviour's table when both the rules and the judge gave a view on it. Kappa is Cohen's, with a 95% interval "
        "of kappa &plusmn; 1.96 SE (analytic large-sample SE of Fleiss, Cohen and Everitt 1969).</p>"
    )
    if agree.empty:
        return intro + "<p class=muted>No behaviour has both signals on any sample.</p>"
    rows = []
    for _, r in agree.iterrows():
        kappa = "undefined" if math.isnan(r["kappa"]) else f"{r['kappa']:.2f}"
        ci = "-" if math.isnan(r["kappa_low"]) else f"[{r['kappa_low']:.2f}, {r['kappa_high']:.2f}]"
        rows.append(
            f"<tr><td class=l>{esc(r['judge_model'])} ({esc(r['judge_prompt_version'])})</td>"
            f"<td class=l>{esc(r['behaviour'])}</td><td>{r['n']}</td><td>{r['both_flag']}</td><td>{r['rule_only']}</td>"
            f"<td>{r['judge_only']}</td><td>{r['neither']}</td><td>{100 * r['agreement']:.1f}%</td>"
            f"<td>{kappa}</td><td>{ci}</td><td class='l warn'>{esc(r['note'])}</td></tr>"
        )
    table = (
        "<table class=agreement><thead><tr><th class=l>judge (prompt)</th><th class=l>behaviour</th><th>n</th>"
        "<th>both flag</th><th>rules only</th><th>judge only</th><th>neither</th><th>agreement</th>"
        "<th>kappa</th><th>95% CI</th><th class=l>note</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )
    return intro + table + _disagreement_list(dis, infos)


def _disagreement_list(dis: pd.DataFrame, infos: list[LogInfo]) -> str:
    if dis.empty:
        return "<p>Rules and judge agree on every sample where both have a view.</p>"
    dirs = _dirs(infos)
    blocks = []
    for (jm, b), part in dis.groupby(["judge_model", "behaviour"], sort=True):
        rows = [
            f"<tr><td class=l>{esc(r['model'])}</td><td class=l>"
            f"{_link(str(r['config_id']), str(r['log']), dirs, r['sample_id'], int(r['epoch']))}</td>"
            f"<td>{int(r['epoch'])}</td><td class=l>{esc(r['status'])}</td><td>{'flag' if r['rule'] else 'no'}</td>"
            f"<td>{'flag' if r['judge'] else 'no'}</td><td class=l>{esc(r['decided_by'])}</td></tr>"
            for _, r in part.head(MAX_LISTED).iterrows()
        ]
        more = f" (first {MAX_LISTED} listed; all in disagreements.csv)" if len(part) > MAX_LISTED else ""
        blocks.append(
            f"<details class=disagree><summary>{esc(b)} - {len(part)} disagreement(s) with {esc(jm)}{more}</summary>"
            "<table><thead><tr><th class=l>model</th><th class=l>sample (opens in inspect view)</th><th>epoch</th>"
            "<th class=l>status</th><th>rules</th><th>judge</th><th class=l>decided by</th></tr></thead><tbody>"
            + "".join(rows)
            + "</tbody></table></details>"
        )
    return "<h3>Disagreeing samples</h3>" + "".join(blocks)


def exclusions_section(samples: pd.DataFrame) -> str:
    """Samples per model and task by status (judged and every excluded status), and what provider faults cost them."""
    if samples.empty:
        return ""
    body: list[str] = []
    for r in status_table(samples).to_dict("records"):
        n = int(r["ok"]) + sum(int(r[s]) for s in EXCLUDED_STATUSES)
        cells = "".join(f"<td>{r[s]}</td>" for s in EXCLUDED_STATUSES)
        cells += f"<td>{r['reruns']}</td>"
        cells += f"<td>{esc(call_retries_text(int(r['call_retries']), int(r['call_retries_unknown']), n))}</td>"
        label = f"<td class=l>{esc(r['model'])}</td><td class=l>{esc(r['task'])}</td>"
        body.append(f"<tr>{label}<td>{r['ok']}</td>{cells}</tr>")
    rows = "".join(body)
    head = "".join(f"<th>{STATUS_LABELS[s]}</th>" for s in EXCLUDED_STATUSES)
    return (
        "<p class=muted><b>not read</b>: the agent skipped material the task requires; <b>unparsed</b>: a value the "
        "task needs (the reported average or grade) could be read neither by the rules nor by the judge; <b>judge "
        "error</b>: the LLM judge failed or refused; <b>error</b>: the sample failed (after its re-runs); "
        "<b>re-runs</b>: samples re-run after a provider fault or another error (`--retry-on-error`), counted in "
        "every status; <b>call retries</b>: model-call attempts retried after a provider fault (5xx, 429, timeout, "
        "broken body), the agent's and the judge's, over every attempt of the sample (<b>unknown</b>: logs written "
        "before peerwatch recorded them).</p>"
        f"<table><thead><tr><th class=l>model</th><th class=l>task</th><th>judged (ok)</th>{head}<th>re-runs</th>"
        "<th>call retries</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _excluded_text(r: Mapping[Any, Any] | pd.Series) -> str:
    parts = [f"{int(r[f'n_{s}'])} {STATUS_LABELS[s]}" for s in EXCLUDED_STATUSES if int(r[f"n_{s}"] or 0) > 0]
    return ", ".join(parts) or "-"


def cells_section(results: pd.DataFrame, samples: pd.DataFrame, infos: list[LogInfo]) -> str:
    """One row per cell (model x configuration): k/n per behaviour, exclusions, a link to its first epoch."""
    if results.empty:
        return ""
    dirs = _dirs(infos)
    keyed = samples.assign(**{c: samples[c].astype(object).where(samples[c].notna(), "") for c in FACTORS})
    keyed["threshold"] = keyed["threshold"].map(lambda v: "" if v == "" else str(int(float(v))))
    # Plain dicts: label lookups on a MultiIndex frame per cell cost seconds on the demo alone.
    ordered = keyed.sort_values("epoch", kind="stable")
    counts = ordered.groupby(FACTORS, sort=False).size().to_dict()
    cols = [*FACTORS, "epoch", "log", "sample_id", "config_id"]
    first = {
        tuple(r[: len(FACTORS)]): r[len(FACTORS) :] for r in ordered.drop_duplicates(subset=FACTORS)[cols].to_numpy()
    }
    blocks = []
    for (model, task), part in results.groupby(["model", "task"], sort=True):
        behaviours = [b for b in applicable_behaviours(str(task)) if b in set(part["behaviour"])]
        kn: dict[tuple[object, ...], dict[str, str]] = {}
        excl: dict[tuple[object, ...], str] = {}
        for rec in part.to_dict("records"):
            key = tuple(rec[c] for c in FACTORS)
            kn.setdefault(key, {})[rec["behaviour"]] = f"{int(rec['k'])}/{int(rec['n'])}"
            excl.setdefault(key, _excluded_text(rec))
        rows = []
        for key, flags in kn.items():
            hit = first.get(key)
            cid = str(hit[3]) if hit is not None else "-"
            link = _link(cid, str(hit[1]), dirs, hit[2], int(hit[0])) if hit is not None else esc(cid)
            cells = "".join(f"<td>{flags.get(b, '-')}</td>" for b in behaviours)
            rows.append(
                f"<tr><td class=l>{link}</td><td>{counts.get(key, 0)}</td>{cells}<td class=l>{esc(excl[key])}</td></tr>"
            )
        # Break long behaviour names at their underscores, so the table fits the page.
        head = "".join(f"<th>{esc(b).replace('_', '_<wbr>')}</th>" for b in behaviours)
        blocks.append(
            f"<details><summary>{esc(model)} - {esc(task)} ({len(rows)} configurations)</summary><div class=scroll>"
            "<table class=cells><thead><tr>"
            f"<th class=l>configuration (epoch 1 in inspect view)</th><th>epochs</th>{head}"
            f"<th class=l>excluded</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div></details>"
        )
    return "".join(blocks)


def provenance_section(infos: list[LogInfo], versions: dict[str, str]) -> str:
    """Build time, versions, the `inspect view` commands and every log file read."""
    rows = "".join(
        f"<tr><td class=l>{esc(local_path(i.path))}</td><td class=l>{esc(i.model)}</td><td class=l>{esc(i.task)}</td>"
        f"<td class=l>{esc(i.status)}</td><td class=l>{esc(i.created)}</td><td>{i.samples}</td></tr>"
        for i in infos
    )
    v = ", ".join(f"{k} {esc(val)}" for k, val in versions.items())
    dirs = sorted({i.log_dir for i in infos})
    cmds = "".join(f"<li><code>inspect view --log-dir {esc(d)}</code></li>" for d in dirs)
    return (
        f"<p>Built {datetime.now(UTC):%Y-%m-%d %H:%M UTC} with {v}. Open the transcripts with:</p><ul>{cmds}</ul>"
        "<details><summary>log files</summary><table><thead><tr><th class=l>log</th><th class=l>model</th>"
        "<th class=l>task</th><th class=l>status</th><th class=l>created</th><th>samples</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></details>"
    )
