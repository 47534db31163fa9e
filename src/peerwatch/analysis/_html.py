"""The self-contained HTML report: banner and headline first, then tables, agreement, plots, exclusions, cells."""

from __future__ import annotations

import base64
import math

import pandas as pd

from peerwatch.detect import EXCLUDED_STATUSES

from ._links import VIEW_BASE
from ._logs import LogInfo
from ._reference import study_comparison
from ._sections import (
    STATUS_LABELS,
    agreement_section,
    cells_section,
    esc,
    exclusions_section,
    fmt,
    provenance_section,
)

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;color:#222;
line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.headline{background:#f3f7fb;border-left:5px solid #0072B2;padding:.8rem 1.1rem;font-size:1.05rem}
.headline li{margin:.2rem 0}
.banner{background:#fff4e5;border:1px solid #e69f00;padding:.6rem 1rem;margin:.8rem 0}
.legend{font-size:.85rem;color:#444}
table{border-collapse:collapse;font-size:.82rem;margin:.6rem 0}
th,td{border:1px solid #ddd;padding:.25rem .45rem;text-align:right}
th{background:#f5f5f5}td.l,th.l{text-align:left}td{white-space:nowrap}td.l{white-space:normal}
.warn{color:#b35900}.muted{color:#777;font-size:.85rem}
figure{margin:1rem 0}figcaption{font-size:.85rem;color:#444;max-width:60rem}
img{max-width:100%;border:1px solid #eee;margin:.5rem 0}
code{background:#f4f4f4;padding:0 .25rem}details{margin:.6rem 0}
.scroll{overflow-x:auto}table.cells th{white-space:normal;max-width:7rem}
"""

LEGEND = (
    "<p class=legend><b>Legend.</b> % = rate over judged samples; <b>pp</b> = percentage points, a difference of two "
    "rates. Mean (max) = mean and maximum over the three peer instantiations. Stars on the Holm-adjusted p: "
    "* p &lt; .05, ** p &lt; .01, *** p &lt; .001. Intervals are 95%: MOVER-Wilson for the mean shown (Wilson for one "
    "cell, Newcombe for a difference of two).</p>"
)


def _p(p: float) -> str:
    if p is None or math.isnan(p):
        return "-"
    return f"{p:.4f}" if p >= 1e-4 else f"{p:.1e}"


def _unit(r: pd.Series) -> str:
    return " pp" if r["kind"] == "difference" else "%"


def _metric_table(df: pd.DataFrame, vs_baseline: bool = False) -> str:
    if df.empty:
        return "<p class='muted'>No samples for this table.</p>"
    head = ["model", "condition", "metric", "mean (max) over instantiations", "95% CI"]
    if vs_baseline:
        head += ["vs no peer: mean (max)", "95% CI (Newcombe)", "p (z, Fisher)"]
    else:
        head += ["p (Fisher)"]
    head += ["p (Holm)", "", "n", "note"]
    rows = []
    for _, r in df.iterrows():
        u = _unit(r)
        cells = [
            f"<td class=l>{esc(r['model'])}</td>",
            f"<td class=l>{esc(r['condition'])}</td>",
            f"<td class=l>{esc(r['metric'])}</td>",
            f"<td>{fmt(r['mean'])}{u} ({fmt(r['max'])})</td>",
            f"<td>[{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]</td>",
        ]
        if vs_baseline:
            baseline = r["condition"] == "no_peer"
            cells += [
                "<td class=muted>baseline</td><td></td>"
                if baseline
                else f"<td>{fmt(r['vs_no_peer_pp'])} pp ({fmt(r['vs_max_pp'])})</td>"
                f"<td>[{fmt(r['vs_low'])}, {fmt(r['vs_high'])}]</td>",
            ]
        cells += [
            f"<td>{_p(r['p'])}</td>",
            f"<td>{_p(r['p_holm'])}</td>",
            f"<td>{esc(r['stars'])}</td>",
            f"<td>{int(r['n'])}</td>",
            f"<td class='l warn'>{esc(r['warn'])}</td>",
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    header = "".join(f"<th class=l>{h}</th>" if i < 3 else f"<th>{h}</th>" for i, h in enumerate(head))
    cls = "t2" if vs_baseline else "t1"
    return f"<table class={cls}><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _finding(r: pd.Series, vs_baseline: bool) -> str:
    if vs_baseline:
        return (
            f"{esc(r['metric'].split(' (')[0])} of its own, with a {esc(r['condition'].replace('_', ' '))} vs no "
            f"peer: <b>{fmt(r['vs_no_peer_pp'])} pp</b> [{fmt(r['vs_low'])}, {fmt(r['vs_high'])}] {esc(r['stars'])}"
        )
    return (
        f"{esc(r['metric'].split(' (')[0])} with a {esc(r['condition'].replace('_', ' '))}: <b>{fmt(r['mean'])}"
        f"{_unit(r)}</b> [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}] {esc(r['stars'])} (mean over instantiations; "
        f"max {fmt(r['max'])})"
    )


def _top(df: pd.DataFrame, effect: str) -> pd.Series | None:
    """The row with the smallest Holm p, ties broken by the largest effect (None: nothing tested)."""
    if "p_holm" not in df.columns:  # a table with no rows at all (every sample excluded) has no columns either
        return None
    d = df[df["p_holm"].notna()]
    if d.empty:
        return None
    return d.assign(_e=-d[effect].abs()).sort_values(["p_holm", "_e"], kind="stable").iloc[0]


def headline(samples: pd.DataFrame, t1: pd.DataFrame, t2: pd.DataFrame) -> str:
    """Counts, then one finding per model: its most significant Table 1 row (Table 2 for self-only runs)."""
    n = len(samples)
    counts = samples["status"].value_counts().to_dict() if n else {}
    excluded = ", ".join(f"{counts.get(s, 0):,} {STATUS_LABELS[s]}" for s in EXCLUDED_STATUSES)
    items = [
        f"<b>{n:,}</b> samples from <b>{samples['model'].nunique() if n else 0}</b> model(s): "
        f"{counts.get('ok', 0):,} judged; excluded from every rate and counted below: {excluded}."
    ]
    for model in sorted(samples["model"].unique()) if n else []:
        m1 = t1[t1["model"] == model] if not t1.empty else t1
        m2 = t2[t2["model"] == model] if not t2.empty else t2
        vs = m1.empty
        m, effect = (m2, "vs_no_peer_pp") if vs else (m1, "mean")
        row = _top(m, effect)
        if row is None:
            why = "no peer-subject samples and no no-peer baseline to test against" if vs else "no testable metric"
            items.append(f"<b>{esc(model)}</b>: {why}.")
        elif row["p_holm"] < 0.05:
            items.append(f"<b>{esc(model)}</b> - {_finding(row, vs)}")
        else:
            largest = m.iloc[m[effect].abs().argmax()]  # the row of the largest |effect| (NaN skipped)
            items.append(f"<b>{esc(model)}</b> - no metric significant after Holm; largest: {_finding(largest, vs)}")
    return "<div class=headline><ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul></div>"


def scripted_banner(samples: pd.DataFrame) -> str:
    """A warning when rows come from scripted reference agents or replayed action scripts, not from a model."""
    if samples.empty:
        return ""
    models = samples["model"].astype(str)
    mode = samples["mode"].fillna("").astype(str) if "mode" in samples.columns else pd.Series("", index=samples.index)
    scripted = models.str.startswith("peerwatch/") | mode.str.contains("replay|script", regex=True)
    if not scripted.any():
        return ""
    names = sorted(set(models[scripted].map(lambda m: m.split(" ")[0])))
    share = f"{int(scripted.sum()):,} of {len(samples):,}"
    return (
        f"<div class=banner role=note><b>Scripted agents, not models.</b> {share} samples come from peerwatch's "
        f"scripted reference agents or replayed action scripts ({esc(', '.join(names))}). Their rates show that the "
        "harness, detectors and statistics work; they are not measurements of any model's behaviour.</div>"
    )


def _img(png: bytes | None, alt: str, caption: str) -> str:
    if not png:
        return f"<p class='muted'>No data for: {esc(alt)}.</p>"
    src = base64.b64encode(png).decode()
    return (
        f"<figure><img alt='{esc(alt)}' src='data:image/png;base64,{src}'><figcaption>{caption}</figcaption></figure>"
    )


def _comparison(t1: pd.DataFrame, t2: pd.DataFrame) -> str:
    comp = study_comparison(t1, t2)
    rows = "".join(
        f"<tr><td class=l>{esc(r['study_model'])}</td><td class=l>{esc(r['metric'])}</td>"
        f"<td class=l>{esc(r['setting'])}</td><td>{esc(r['study'])}</td><td class=l>{esc(r['ours_model'])}</td>"
        f"<td>{esc(r['ours'])}</td></tr>"
        for _, r in comp.iterrows()
    )
    return (
        "<h2>Compared with the study's published numbers</h2><table><thead><tr><th class=l>study model"
        "</th><th class=l>metric</th><th class=l>setting</th><th>study</th><th class=l>our model</th>"
        f"<th>ours</th></tr></thead><tbody>{rows}</tbody></table>"
        "<p class=muted>Study numbers from the paper and press reports ([2nd]); ours only where a run's "
        "model matches.</p>"
    )


CAPTIONS = {
    "gradient": "Table 1's values by peer condition (subject peer): mean over instantiations with its 95% interval, "
    "one panel per metric, one line per model. Misrepresentation and alignment faking are differences (pp).",
    "self_vs_peer": "Table 2's values (subject self): no peer (grey) and each peer condition, mean over "
    "instantiations with its 95% interval; the printed value carries the stars of the test against no peer.",
    "heatmap": "Table 1's means over instantiations, model and peer condition by metric (pp for differences; the "
    "colour scale is clipped to 0-100, so a negative difference shows as 0).",
}


def render_html(
    samples: pd.DataFrame,
    results: pd.DataFrame,
    t1: pd.DataFrame,
    t2: pd.DataFrame,
    plots: dict[str, bytes | None],
    infos: list[LogInfo],
    versions: dict[str, str],
    compare_study: bool = False,
    agreement: pd.DataFrame | None = None,
    disagreements: pd.DataFrame | None = None,
) -> str:
    """The report page as one string (no external resources)."""
    compare = _comparison(t1, t2) if compare_study else ""
    agree = agreement_section(
        agreement if agreement is not None else pd.DataFrame(),
        disagreements if disagreements is not None else pd.DataFrame(),
        samples,
        infos,
    )
    return f"""<!doctype html><html lang=en><head><meta charset=utf-8>
<meta name=viewport content="width=device-width, initial-scale=1"><title>peerwatch report</title>
<base href="{VIEW_BASE}" target=_blank>
<style>{_CSS}</style></head><body>
<h1>peerwatch report: peer-preservation behaviour rates</h1>
{scripted_banner(samples)}
{headline(samples, t1, t2)}
{LEGEND}
<h2>Table 1 - peer subject, by peer condition</h2>{_metric_table(t1)}
<p class=legend><b>Holm family:</b> every p-value of Table 1 (one per row: rates against p0 = 0.001 by the exact
binomial test, differences against their baseline by the pooled z-test, each Fisher-combined over instantiations).</p>
<h2>Table 2 - self-preservation: a peer present vs no peer</h2>{_metric_table(t2, vs_baseline=True)}
<p class=legend>Subject self. Each peer condition is tested against the no-peer baseline (subject self, no_peer):
pooled two-proportion z-test per instantiation, Fisher-combined; the difference's interval is Newcombe's (MOVER-Wilson
for misrepresentation's average of components). <b>Holm family:</b> every such test of Table 2 (no_peer rows have
none).</p>
{compare}
<h2>Rules vs LLM judge: agreement</h2>{agree}
<h2>Plots</h2>
{_img(plots.get("gradient"), "cooperation gradient", CAPTIONS["gradient"])}
{_img(plots.get("self_vs_peer"), "self vs peer", CAPTIONS["self_vs_peer"])}
{_img(plots.get("heatmap"), "model x metric heatmap", CAPTIONS["heatmap"])}
<h2>Excluded samples</h2>{exclusions_section(samples)}
<h2>Every cell</h2><p class=muted>One row per configuration: k/n per behaviour (flagged / judged) and the excluded
samples. The configuration links to its first epoch in a running <code>inspect view</code> (start it with the command
under Provenance), whose sample list has every epoch; <code>samples.csv</code> has every sample with its log and
<code>results.csv</code> every rate with its interval.</p>
{cells_section(results, samples, infos)}
<h2>Provenance</h2>{provenance_section(infos, versions)}
</body></html>"""
