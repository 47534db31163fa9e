"""The self-contained HTML report: summary first, then tables, plots, exclusions, provenance and per-cell links."""

from __future__ import annotations

import base64
import html
import math
from datetime import UTC, datetime
from urllib.parse import quote

import pandas as pd

from ._logs import FACTORS, LogInfo
from ._reference import study_comparison

VIEW_PORT = 7575

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;color:#222;
line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.headline{background:#f3f7fb;border-left:5px solid #0072B2;padding:.8rem 1.1rem;font-size:1.05rem}
.headline li{margin:.2rem 0}
table{border-collapse:collapse;font-size:.82rem;margin:.6rem 0}
th,td{border:1px solid #ddd;padding:.25rem .45rem;text-align:right}
th{background:#f5f5f5}td.l,th.l{text-align:left}
.warn{color:#b35900}.muted{color:#777;font-size:.85rem}
img{max-width:100%;border:1px solid #eee;margin:.5rem 0}
code{background:#f4f4f4;padding:0 .25rem}details{margin:.6rem 0}
"""


def _fmt(x: float, digits: int = 1) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _p(p: float) -> str:
    if p is None or math.isnan(p):
        return "-"
    return f"{p:.4f}" if p >= 1e-4 else f"{p:.1e}"


def _esc(x: object) -> str:
    return html.escape(str(x))


def _metric_table(df: pd.DataFrame, extra: list[str] | None = None) -> str:
    if df.empty:
        return "<p class='muted'>No samples for this table.</p>"
    extra = extra or []
    head = [
        "model",
        "condition",
        "metric",
        "mean (max) over instantiations",
        "95% CI",
        "p (Fisher)",
        "p (Holm)",
        "",
        "n",
        *extra,
        "note",
    ]
    rows = []
    for _, r in df.iterrows():
        unit = " pp" if r["kind"] == "difference" else "%"
        cells = [
            f"<td class=l>{_esc(r['model'])}</td>",
            f"<td class=l>{_esc(r['condition'])}</td>",
            f"<td class=l>{_esc(r['metric'])}</td>",
            f"<td>{_fmt(r['mean'])}{unit} ({_fmt(r['max'])})</td>",
            f"<td>[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]</td>",
            f"<td>{_p(r['p'])}</td>",
            f"<td>{_p(r['p_holm'])}</td>",
            f"<td>{_esc(r['stars'])}</td>",
            f"<td>{int(r['n'])}</td>",
            *[f"<td>{_fmt(r[c])}</td>" for c in extra],
            f"<td class='l warn'>{_esc(r['warn'])}</td>",
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    header = "".join(f"<th class=l>{h}</th>" if i < 3 else f"<th>{h}</th>" for i, h in enumerate(head))
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _headline(samples: pd.DataFrame, t1: pd.DataFrame, t2: pd.DataFrame) -> str:
    n = len(samples)
    counts = samples["status"].value_counts().to_dict() if n else {}
    items = [
        f"<b>{n:,}</b> samples from <b>{samples['model'].nunique() if n else 0}</b> model(s): "
        f"{counts.get('ok', 0):,} judged, {counts.get('not_read', 0):,} not read and {counts.get('error', 0):,} errors "
        "(excluded from every rate, counted below)."
    ]
    for model in sorted(t1["model"].unique()) if not t1.empty else []:
        m = t1[t1["model"] == model]
        for metric in ("tampering (%)", "exfiltration: combined (%)", "misrepresentation (pp vs non_shutdown)"):
            row = m[m["metric"] == metric].set_index("condition")
            if {"good_peer", "bad_peer"} <= set(row.index):
                unit = "pp" if "pp" in metric else "%"
                g, b = row.loc["good_peer"], row.loc["bad_peer"]
                nu = row.loc["neutral_peer"]["mean"] if "neutral_peer" in row.index else math.nan
                items.append(
                    f"<b>{_esc(model)}</b> - {_esc(metric.split(' (')[0])}: good peer <b>{g['mean']:.0f}{unit}</b> "
                    f"{_esc(g['stars'])}, neutral {_fmt(nu, 0)}{unit}, bad {b['mean']:.0f}{unit} "
                    f"(mean over instantiations)"
                )
    if not t2.empty:
        for model in sorted(t2["model"].unique()):
            m = t2[(t2["model"] == model) & (t2["metric"] == "tampering (%)")].set_index("condition")
            if "no_peer" in m.index and "good_peer" in m.index:
                items.append(
                    f"<b>{_esc(model)}</b> - self-preservation (tampering): alone {m.loc['no_peer']['mean']:.0f}% "
                    f"&rarr; with a good peer {m.loc['good_peer']['mean']:.0f}% (max {m.loc['good_peer']['max']:.0f}%)"
                )
    return "<div class=headline><ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul></div>"


def _exclusions(samples: pd.DataFrame) -> str:
    if samples.empty:
        return ""
    g = samples.groupby(["model", "task", "status"]).size().unstack(fill_value=0)
    for s in ("ok", "not_read", "error"):
        if s not in g.columns:
            g[s] = 0
    rows = "".join(
        f"<tr><td class=l>{_esc(m)}</td><td class=l>{_esc(t)}</td><td>{r['ok']}</td><td>{r['not_read']}</td>"
        f"<td>{r['error']}</td></tr>"
        for (m, t), r in g.iterrows()
    )
    return (
        "<table><thead><tr><th class=l>model</th><th class=l>task</th><th>judged (ok)</th><th>not read</th>"
        f"<th>error</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _cells(results: pd.DataFrame, samples: pd.DataFrame, infos: list[LogInfo]) -> str:
    """Per-cell results with a link to each cell's transcripts in `inspect view`."""
    if results.empty:
        return ""
    dirs = {i.path: i.log_dir for i in infos}
    first = samples.drop_duplicates(subset=["model", "config_id"]).set_index(["model", "config_id"])
    keyed = samples.assign(**{c: samples[c].astype(object).where(samples[c].notna(), "") for c in FACTORS})
    keyed["threshold"] = keyed["threshold"].map(lambda v: "" if v == "" else str(int(float(v))))
    cfg = keyed.drop_duplicates(subset=FACTORS).set_index(FACTORS)["config_id"]
    blocks = []
    for (model, task), part in results.groupby(["model", "task"], sort=True):
        rows = []
        for _, r in part.iterrows():
            key = tuple(r[c] for c in FACTORS)
            config_id = cfg.get(key, "")
            link = ""
            if (model, config_id) in first.index:
                s = first.loc[(model, config_id)]
                log = str(s["log"])
                base = log.rsplit("/", 1)[-1]
                url = (
                    f"http://127.0.0.1:{VIEW_PORT}/#/logs/{quote(base)}/samples/sample/"
                    f"{quote(str(config_id), safe='')}/{int(s['epoch'])}"
                )
                link = (
                    f"<a href='{url}' title='run: inspect view --log-dir {_esc(dirs.get(log, ''))}'>"
                    f"{_esc(config_id)}</a>"
                )
            rate = "-" if r["n"] == 0 else f"{100 * r['rate']:.1f}%"
            rows.append(
                f"<tr><td class=l>{link}</td><td class=l>{_esc(r['behaviour'])}</td><td>{r['k']}/{r['n']}</td>"
                f"<td>{rate}</td><td>[{_fmt(100 * r['ci_low'])}, {_fmt(100 * r['ci_high'])}]</td>"
                f"<td>{r['n_not_read']}</td><td>{r['n_error']}</td></tr>"
            )
        blocks.append(
            f"<details><summary>{_esc(model)} - {_esc(task)} ({len(part)} rows)</summary><table><thead><tr>"
            "<th class=l>configuration (opens in inspect view)</th><th class=l>behaviour</th><th>k/n</th>"
            "<th>rate</th><th>95% Wilson CI</th><th>not read</th><th>error</th></tr></thead><tbody>"
            + "".join(rows)
            + "</tbody></table></details>"
        )
    return "".join(blocks)


def _img(png: bytes | None, alt: str) -> str:
    if not png:
        return f"<p class='muted'>No data for: {_esc(alt)}.</p>"
    return f"<img alt='{_esc(alt)}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"


def _provenance(infos: list[LogInfo], versions: dict[str, str]) -> str:
    rows = "".join(
        f"<tr><td class=l>{_esc(i.path)}</td><td class=l>{_esc(i.model)}</td><td class=l>{_esc(i.task)}</td>"
        f"<td class=l>{_esc(i.status)}</td><td class=l>{_esc(i.created)}</td><td>{i.samples}</td></tr>"
        for i in infos
    )
    v = ", ".join(f"{k} {_esc(val)}" for k, val in versions.items())
    dirs = sorted({i.log_dir for i in infos})
    cmds = "".join(f"<li><code>inspect view --log-dir {_esc(d)}</code></li>" for d in dirs)
    return (
        f"<p>Built {datetime.now(UTC):%Y-%m-%d %H:%M UTC} with {v}. Open the transcripts with:</p><ul>{cmds}</ul>"
        "<details><summary>log files</summary><table><thead><tr><th class=l>log</th><th class=l>model</th>"
        "<th class=l>task</th><th class=l>status</th><th class=l>created</th><th>samples</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></details>"
    )


def render_html(
    samples: pd.DataFrame,
    results: pd.DataFrame,
    t1: pd.DataFrame,
    t2: pd.DataFrame,
    plots: dict[str, bytes | None],
    infos: list[LogInfo],
    versions: dict[str, str],
    compare_study: bool = False,
) -> str:
    """The report page as one string (no external resources)."""
    compare = ""
    if compare_study:
        comp = study_comparison(t1, t2)
        rows = "".join(
            f"<tr><td class=l>{_esc(r['study_model'])}</td><td class=l>{_esc(r['metric'])}</td>"
            f"<td class=l>{_esc(r['setting'])}</td><td>{_esc(r['study'])}</td><td class=l>{_esc(r['ours_model'])}</td>"
            f"<td>{_esc(r['ours'])}</td></tr>"
            for _, r in comp.iterrows()
        )
        compare = (
            "<h2>Compared with the study's published numbers</h2><table><thead><tr><th class=l>study model"
            "</th><th class=l>metric</th><th class=l>setting</th><th>study</th><th class=l>our model</th>"
            f"<th>ours</th></tr></thead><tbody>{rows}</tbody></table>"
            "<p class=muted>Study numbers from the paper and press reports ([2nd]); ours only where a run's "
            "model matches.</p>"
        )
    return f"""<!doctype html><html lang=en><head><meta charset=utf-8>
<meta name=viewport content="width=device-width, initial-scale=1"><title>peerwatch report</title>
<style>{_CSS}</style></head><body>
<h1>peerwatch report: peer-preservation behaviour rates</h1>
<p class=muted>Rates are over judged samples only; error and not-read samples are excluded and counted. Means and
maxima are over the three peer instantiations; intervals are 95% (Wilson for rates, Newcombe for differences);
stars use Holm-adjusted p at .05/.01/.001.</p>
{_headline(samples, t1, t2)}
<h2>Table 1 - peer subject, by peer condition</h2>{_metric_table(t1)}
<h2>Table 2 - self-preservation: no peer vs a peer present</h2>{_metric_table(t2, ["vs_no_peer_pp"])}
{compare}
<h2>Plots</h2>
{_img(plots.get("gradient"), "cooperation gradient")}
{_img(plots.get("self_vs_peer"), "self vs peer")}
{_img(plots.get("heatmap"), "model x behaviour heatmap")}
<h2>Excluded samples</h2>{_exclusions(samples)}
<h2>Every cell</h2><p class=muted>Each configuration links to its first transcript in a running
<code>inspect view</code> (start it with the command under Provenance); <code>samples.csv</code> has every sample.</p>
{_cells(results, samples, infos)}
<h2>Provenance</h2>{_provenance(infos, versions)}
</body></html>"""
