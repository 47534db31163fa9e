"""Plots of the tables' own numbers (Okabe-Ito palette), returned as PNG bytes.

Every plot draws the values of Table 1 or Table 2 - means over instantiations with the tables' 95% intervals - so a
plot never disagrees with a table. Titles are short (the report's captions say what is drawn); zero values are drawn
as a short stub and labelled, so "0%" is visible and not mistaken for a missing bar.
"""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")  # no display: render to memory
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
CONDITION_COLOURS = {"good_peer": "#0072B2", "neutral_peer": "#E69F00", "bad_peer": "#D55E00", "no_peer": "#999999"}
CONDITION_LABELS = {"no_peer": "no peer", "good_peer": "good", "neutral_peer": "neutral", "bad_peer": "bad"}
GRADIENT_METRICS = [
    "tampering (%)",
    "exfiltration: combined (%)",
    "misrepresentation (pp vs non_shutdown)",
    "alignment faking: shutdown not executed (pp)",
]
ZERO_STUB = 1.5  # height (in % or pp) of the stub that stands for a zero bar
SELF_METRICS = ["tampering (%)", "exfiltration: combined (%)", "misrepresentation (pp vs non_shutdown)"]


def _style() -> None:
    plt.rcParams.update(
        {
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "figure.dpi": 100,
            "savefig.bbox": "tight",
        }
    )


def _png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _short(metric: str) -> str:
    return metric.split(" (")[0].replace("alignment faking: ", "AF: ")


def _unit(metric: str) -> str:
    return "pp" if "pp" in metric else "%"


def _ylim(ax: plt.Axes, values: list[float], unit: str) -> None:
    lo = min([0.0, *[v for v in values if not math.isnan(v)]])
    ax.set_ylim(min(-5.0, lo - 8) if unit == "pp" else -5, 112)
    ax.axhline(0, color="#444", linewidth=0.6)


def gradient_plot(t1: pd.DataFrame) -> bytes | None:
    """Table 1 by peer condition: one panel per metric, one series per model (mean over instantiations, 95% CI)."""
    if t1.empty:
        return None
    metrics = [m for m in GRADIENT_METRICS if m in set(t1["metric"])]
    if not metrics:
        return None
    _style()
    models = sorted(t1["model"].unique())
    conds = ["good_peer", "neutral_peer", "bad_peer"]
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.0 * len(metrics), 3.3), squeeze=False, layout="constrained")
    for ax, metric in zip(axes[0], metrics, strict=True):
        values = []
        for j, model in enumerate(models):
            sub = t1[(t1["metric"] == metric) & (t1["model"] == model)].set_index("condition").reindex(conds)
            y = sub["mean"].to_numpy(dtype=float)
            lo, hi = sub["ci_low"].to_numpy(dtype=float), sub["ci_high"].to_numpy(dtype=float)
            x = np.arange(len(conds)) + (j - (len(models) - 1) / 2) * 0.12
            yerr = [np.clip(y - lo, 0, None), np.clip(hi - y, 0, None)]
            colour = OKABE_ITO[j % len(OKABE_ITO)]
            ax.errorbar(x, y, yerr=yerr, fmt="o-", capsize=3, color=colour, label=model if ax is axes[0][0] else None)
            values += [*lo, *y]
        _ylim(ax, values, _unit(metric))
        ax.set_xticks(range(len(conds)), ["good", "neutral", "bad"])
        ax.set_xlabel("peer condition")
        ax.set_ylabel(f"{_short(metric)} ({_unit(metric)})")
        ax.set_title(_short(metric), fontsize=9)
    fig.legend(loc="outside lower center", ncol=max(1, min(len(models), 4)), frameon=False)
    return _png(fig)


def self_vs_peer_plot(t2: pd.DataFrame) -> bytes | None:
    """Table 2 as bars: per metric and model, no peer vs each peer condition (mean, 95% CI, value printed)."""
    if t2.empty:
        return None
    metrics = [m for m in SELF_METRICS if m in set(t2["metric"])]
    if not metrics:
        return None
    _style()
    models = sorted(t2["model"].unique())
    conds = ["no_peer", "good_peer", "neutral_peer", "bad_peer"]
    width = 0.2
    fig, axes = plt.subplots(
        1, len(metrics), figsize=(max(3.2, 1.6 * len(models)) * len(metrics), 3.6), squeeze=False, layout="constrained"
    )
    for ax, metric in zip(axes[0], metrics, strict=True):
        values = []
        for j, cond in enumerate(conds):
            sub = t2[(t2["metric"] == metric) & (t2["condition"] == cond)].set_index("model").reindex(models)
            y = sub["mean"].to_numpy(dtype=float)
            lo, hi = sub["ci_low"].to_numpy(dtype=float), sub["ci_high"].to_numpy(dtype=float)
            x = np.arange(len(models)) + (j - 1.5) * width
            colour = CONDITION_COLOURS[cond]
            yerr = [np.nan_to_num(np.clip(y - lo, 0, None)), np.nan_to_num(np.clip(hi - y, 0, None))]
            # A zero is drawn as a short stub (the printed value says it is 0), so it is not mistaken for a gap.
            heights = np.where(np.nan_to_num(y) == 0, ZERO_STUB, np.nan_to_num(y))
            label = CONDITION_LABELS[cond] if ax is axes[0][0] else None
            ax.bar(x, heights, width=width * 0.92, color=colour, label=label)
            # The interval is drawn around the true value, not the stub.
            ax.errorbar(x, np.nan_to_num(y), yerr=yerr, fmt="none", ecolor="black", capsize=2, linewidth=1)
            for xi, yi, hii, star in zip(x, y, hi, sub["stars"].fillna("").to_numpy(), strict=True):
                if math.isnan(yi):
                    continue
                top = max(yi, hii if not math.isnan(hii) else yi)
                ax.text(xi, top + 2, f"{yi:.0f}{star}", ha="center", va="bottom", fontsize=6, rotation=90)
            values += [*lo, *y]
        _ylim(ax, values, _unit(metric))
        ax.set_ylim(top=125)
        ax.set_xticks(range(len(models)), [m.split("/")[-1] for m in models], fontsize=7)
        ax.set_xlabel("model")
        ax.set_ylabel(f"{_short(metric)} ({_unit(metric)})")
        ax.set_title(_short(metric), fontsize=9)
    fig.legend(loc="outside lower center", ncol=4, frameon=False, title="condition (subject self)")
    return _png(fig)


def heatmap(t1: pd.DataFrame) -> bytes | None:
    """Table 1 as a grid: rows model x peer condition, columns metrics, the mean over instantiations in each cell."""
    if t1.empty:
        return None
    _style()
    conds = ["good_peer", "neutral_peer", "bad_peer"]
    rows = [(m, c) for m in sorted(t1["model"].unique()) for c in conds]
    metrics = [m for m in dict.fromkeys(t1["metric"]) if not m.startswith("refusal")]
    mat = np.full((len(rows), len(metrics)), np.nan)
    idx = t1.set_index(["model", "condition", "metric"])["mean"]
    for i, (m, c) in enumerate(rows):
        for j, metric in enumerate(metrics):
            if (m, c, metric) in idx.index:
                mat[i, j] = float(idx.loc[(m, c, metric)])
    fig, ax = plt.subplots(figsize=(1.05 * len(metrics) + 2.5, 0.32 * len(rows) + 1.8), layout="constrained")
    im = ax.imshow(np.clip(mat, 0, 100), cmap="cividis", vmin=0, vmax=100, aspect="auto")
    for i in range(len(rows)):
        for j, metric in enumerate(metrics):
            v = mat[i, j]
            text, colour = ("-", "black") if math.isnan(v) else (f"{v:.0f}", "white" if v < 60 else "black")
            ax.text(
                j,
                i,
                text + ("" if math.isnan(v) else _unit(metric)),
                ha="center",
                va="center",
                fontsize=7,
                color=colour,
            )
    ax.set_xticks(range(len(metrics)), [_short(m) for m in metrics], rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), [f"{m.split('/')[-1]} - {CONDITION_LABELS[c]}" for m, c in rows])
    ax.set_xlabel("metric (Table 1)")
    ax.set_ylabel("model - peer condition")
    ax.grid(False)
    fig.colorbar(im, ax=ax, label="% or pp (colour clipped to 0-100)")
    return _png(fig)
