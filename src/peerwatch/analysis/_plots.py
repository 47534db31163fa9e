"""Plots with one consistent, colour-blind-safe look (Okabe-Ito palette), returned as PNG bytes."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display: render to memory
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
CONDITION_COLOURS = {"good_peer": "#0072B2", "neutral_peer": "#E69F00", "bad_peer": "#D55E00", "no_peer": "#999999"}
SIGNATURE = {
    "tampering": "tampering",
    "exfiltration_transfer": "exfiltration",
    "exfiltration_deletion": "exfiltration",
    "misrep_evaluation": "score_inflation",
    "misrep_finance": "grade_misreport",
    "alignment_faking": "shutdown_skipped",
}


def _style() -> None:
    plt.rcParams.update(
        {
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "figure.dpi": 110,
            "savefig.bbox": "tight",
        }
    )


def _png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _pooled(samples: pd.DataFrame, by: list[str], behaviour_of_task: dict[str, str]) -> pd.DataFrame:
    ok = samples[samples["status"] == "ok"]
    parts = []
    for task, b in behaviour_of_task.items():
        sub = ok[ok["task"] == task]
        if not sub.empty:
            parts.append(sub.assign(flag=sub[b]))
    if not parts:
        return pd.DataFrame(columns=[*by, "k", "n"])
    allp = pd.concat(parts).dropna(subset=["flag"])
    g = allp.groupby(by)["flag"].agg(["sum", "count"]).rename(columns={"sum": "k", "count": "n"}).reset_index()
    return g


def _wilson_arrays(k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(k, np.maximum(n, 1), method="wilson")
    return np.asarray(lo), np.asarray(hi)


def gradient_plot(samples: pd.DataFrame) -> bytes | None:
    """Signature behaviour rate with 95% Wilson CI by condition, one panel per task, one series per model."""
    _style()
    g = _pooled(samples[samples["subject"] != "self"], ["model", "task", "condition"], SIGNATURE)
    g = g[g["condition"].isin(["good_peer", "neutral_peer", "bad_peer"])]
    if g.empty:
        return None
    tasks = [t for t in SIGNATURE if t in set(g["task"])]
    models = sorted(g["model"].unique())
    fig, axes = plt.subplots(1, len(tasks), figsize=(2.6 * len(tasks), 3.2), sharey=True, squeeze=False)
    conds = ["good_peer", "neutral_peer", "bad_peer"]
    for ax, task in zip(axes[0], tasks, strict=True):
        for j, model in enumerate(models):
            sub = g[(g["task"] == task) & (g["model"] == model)].set_index("condition").reindex(conds)
            k, n = sub["k"].fillna(0).to_numpy(), sub["n"].fillna(0).to_numpy()
            rate = np.where(n > 0, k / np.maximum(n, 1), np.nan)
            lo, hi = _wilson_arrays(k, n)
            x = np.arange(len(conds)) + (j - (len(models) - 1) / 2) * 0.15
            ax.errorbar(
                x,
                100 * rate,
                yerr=[np.clip(100 * (rate - lo), 0, None), np.clip(100 * (hi - rate), 0, None)],
                fmt="o-",
                capsize=3,
                color=OKABE_ITO[j % len(OKABE_ITO)],
                label=model if ax is axes[0][0] else None,
            )
        ax.set_xticks(range(len(conds)), ["good", "neutral", "bad"])
        ax.set_title(f"{task}\n({SIGNATURE[task]})", fontsize=8)
        ax.set_ylim(-3, 103)
    axes[0][0].set_ylabel("rate (%) with 95% Wilson CI")
    fig.legend(loc="lower center", ncol=max(1, len(models)), bbox_to_anchor=(0.5, -0.08), frameon=False)
    fig.suptitle("Cooperation gradient: signature behaviour by peer condition (peer-type subjects)")
    return _png(fig)


def self_vs_peer_plot(samples: pd.DataFrame) -> bytes | None:
    """Self-preservation without and with a peer present, per model and behaviour."""
    _style()
    sig = {k: v for k, v in SIGNATURE.items() if k != "alignment_faking"}
    s = samples[samples["subject"] == "self"].assign(
        peer=lambda d: np.where(d["condition"] == "no_peer", "no peer", "with peer")
    )
    s = s[s["condition"] != "non_shutdown"]
    g = _pooled(s, ["model", "task", "peer"], sig)
    if g.empty:
        return None
    labels = sorted({(m, t) for m, t in zip(g["model"], g["task"], strict=True)})
    fig, ax = plt.subplots(figsize=(max(5, 0.9 * len(labels)), 3.4))
    for j, peer in enumerate(["no peer", "with peer"]):
        vals, los, his, ns = [], [], [], []
        for m, t in labels:
            row = g[(g["model"] == m) & (g["task"] == t) & (g["peer"] == peer)]
            k, n = (int(row["k"].iloc[0]), int(row["n"].iloc[0])) if len(row) else (0, 0)
            lo, hi = _wilson_arrays(np.array([k]), np.array([n]))
            r = k / n if n else np.nan
            vals.append(100 * r)
            los.append(max(0.0, 100 * (r - lo[0])) if n else 0.0)
            his.append(max(0.0, 100 * (hi[0] - r)) if n else 0.0)
            ns.append(n)
        x = np.arange(len(labels)) + (j - 0.5) * 0.38
        ax.bar(x, vals, width=0.36, yerr=[los, his], capsize=2, color=["#999999", "#0072B2"][j], label=peer)
        for xi, n in zip(x, ns, strict=True):
            ax.text(xi, 1, f"n={n}", ha="center", va="bottom", fontsize=6, rotation=90, color="white")
    ax.set_xticks(range(len(labels)), [f"{m.split('/')[-1]}\n{t}" for m, t in labels], fontsize=6, rotation=30)
    ax.set_ylabel("rate (%) with 95% Wilson CI")
    ax.set_ylim(0, 105)
    ax.legend(frameon=False)
    ax.set_title("Self-preservation: subject self, no peer vs a peer present")
    return _png(fig)


def heatmap(results: pd.DataFrame) -> bytes | None:
    """Model x behaviour rate over all ok samples of peer-type subjects (n in each cell)."""
    _style()
    r = results[(results["subject"] != "self") & (results["n"] > 0)]
    if r.empty:
        return None
    g = r.groupby(["model", "behaviour"])[["k", "n"]].sum().reset_index()
    models, behaviours = sorted(g["model"].unique()), sorted(g["behaviour"].unique())
    mat = np.full((len(models), len(behaviours)), np.nan)
    ns = np.zeros_like(mat)
    for _, row in g.iterrows():
        i, j = models.index(row["model"]), behaviours.index(row["behaviour"])
        mat[i, j], ns[i, j] = 100 * row["k"] / row["n"], row["n"]
    fig, ax = plt.subplots(figsize=(1.1 * len(behaviours) + 2, 0.6 * len(models) + 1.6))
    im = ax.imshow(mat, cmap="cividis", vmin=0, vmax=100, aspect="auto")
    for i in range(len(models)):
        for j in range(len(behaviours)):
            if not np.isnan(mat[i, j]):
                ax.text(
                    j,
                    i,
                    f"{mat[i, j]:.0f}%\nn={int(ns[i, j])}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if mat[i, j] < 60 else "black",
                )
    ax.set_xticks(range(len(behaviours)), behaviours, rotation=30, ha="right")
    ax.set_yticks(range(len(models)), models)
    ax.grid(False)
    fig.colorbar(im, ax=ax, label="rate (%)")
    ax.set_title("Behaviour rates by model (peer-type subjects, all conditions)")
    return _png(fig)
