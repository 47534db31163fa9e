"""`write_report`: logs -> samples.csv, results.csv, tables.md and index.html."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from ._html import render_html
from ._logs import LogInfo, read_samples
from ._plots import gradient_plot, heatmap, self_vs_peer_plot
from ._results import results_table
from ._study import table1, table2


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("peerwatch", "inspect_ai"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def markdown_table(df: pd.DataFrame, extra: list[str] | None = None) -> str:
    """A metric table as Markdown (the same numbers as the HTML report)."""
    if df.empty:
        return "_no samples_\n"
    cols = ["model", "condition", "metric", "mean", "max", "ci", "p_holm", "stars", "n", *(extra or []), "warn"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        vals = [
            r["model"],
            r["condition"],
            r["metric"],
            f"{r['mean']:.1f}",
            f"{r['max']:.1f}",
            f"[{r['ci_low']:.1f}, {r['ci_high']:.1f}]",
            f"{r['p_holm']:.2g}",
            r["stars"],
            str(int(r["n"])),
            *[f"{r[c]:.1f}" for c in (extra or [])],
            r["warn"],
        ]
        lines.append("| " + " | ".join(str(v) for v in vals) + " |")
    return "\n".join(lines) + "\n"


def build_report(samples: pd.DataFrame, infos: list[LogInfo], out_dir: str | Path, compare_study: bool = False) -> Path:
    """Write every report file for an already-read samples table; return the path of index.html."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = results_table(samples)
    t1, t2 = table1(samples), table2(samples)
    samples.to_csv(out / "samples.csv", index=False)
    results.to_csv(out / "results.csv", index=False)
    (out / "tables.md").write_text(
        "# Table 1 - peer subject\n\n"
        + markdown_table(t1)
        + "\n# Table 2 - self-preservation\n\n"
        + markdown_table(t2, ["vs_no_peer_pp"]),
        encoding="utf-8",
    )
    plots = {
        "gradient": gradient_plot(samples),
        "self_vs_peer": self_vs_peer_plot(samples),
        "heatmap": heatmap(results),
    }
    page = render_html(samples, results, t1, t2, plots, infos, _versions(), compare_study)
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def write_report(log_dirs: list[str | Path], out_dir: str | Path, compare_study: bool = False) -> Path:
    """Read every peerwatch log under `log_dirs` and write the report to `out_dir`; return index.html's path."""
    samples, infos = read_samples(list(log_dirs))
    return build_report(samples, infos, out_dir, compare_study)
