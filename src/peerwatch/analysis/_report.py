"""`write_report`: logs -> samples.csv, results.csv, tables.md, status.md and index.html."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from ._agreement import agreement_table, disagreements
from ._html import render_html
from ._logs import SAMPLE_COLUMNS, LogInfo, read_samples
from ._plots import gradient_plot, heatmap, self_vs_peer_plot
from ._results import results_table
from ._status import status_markdown, status_table
from ._study import table1, table2


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("peerwatch", "inspect_ai"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def _f(x: float) -> str:
    return "-" if pd.isna(x) else f"{x:.1f}"


def _md_row(vals: Sequence[object]) -> str:
    return "| " + " | ".join(str(v) for v in vals) + " |"


def markdown_table(df: pd.DataFrame, extra: list[str] | None = None) -> str:
    """A metric table as Markdown (the same numbers as the HTML report).

    With `extra` (Table 2: any non-empty list), the difference to the no-peer baseline and its interval are added.
    """
    if df.empty:
        return "_no samples_\n"
    vs = bool(extra)
    cols = ["model", "condition", "metric", "mean", "max", "ci"]
    cols += ["vs_no_peer_pp", "vs_ci"] if vs else []
    cols += ["p_holm", "stars", "n", "warn"]
    lines = [_md_row(cols), "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        vals: list[object] = [r["model"], r["condition"], r["metric"], f"{r['mean']:.1f}", f"{r['max']:.1f}"]
        vals.append(f"[{r['ci_low']:.1f}, {r['ci_high']:.1f}]")
        if vs:
            base = r["condition"] == "no_peer"
            vals += ["baseline", ""] if base else [_f(r["vs_no_peer_pp"]), f"[{_f(r['vs_low'])}, {_f(r['vs_high'])}]"]
        vals += ["-" if pd.isna(r["p_holm"]) else f"{r['p_holm']:.2g}", r["stars"], str(int(r["n"])), r["warn"]]
        lines.append(_md_row(vals))
    return "\n".join(lines) + "\n"


# Below this many samples forking a writer costs more than writing samples.csv inline.
_FORK_FROM = 20_000


def _to_csv(df: pd.DataFrame, path: Path, conn: object) -> None:
    try:
        df.to_csv(path, index=False)
        conn.send("")  # type: ignore[attr-defined]
    except BaseException as e:  # reported by the parent, which raises
        conn.send(" ".join(str(e).split()) or type(e).__name__)  # type: ignore[attr-defined]


def _write_samples_csv(samples: pd.DataFrame, path: Path) -> Callable[[], None]:
    """Write samples.csv, in a forked process when the table is large; returns the wait for it (which raises OSError
    when the write failed).

    At study scale samples.csv is a third of the report's time and needs nothing the rest computes, so a second core
    writes it while this one builds the tables, plots and page.
    """
    if len(samples) < _FORK_FROM or (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        samples.to_csv(path, index=False)
        return lambda: None
    ctx = multiprocessing.get_context("fork")  # the child shares the table copy-on-write: nothing is pickled
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_to_csv, args=(samples, path, send), daemon=True)
    proc.start()
    send.close()

    def wait() -> None:
        try:
            error = recv.recv()
        except EOFError:
            error = "the writer process died"
        proc.join()
        if error:
            raise OSError(f"could not write {path}: {error}")

    return wait


def build_report(samples: pd.DataFrame, infos: list[LogInfo], out_dir: str | Path, compare_study: bool = False) -> Path:
    """Write every report file for an already-read samples table; return the path of index.html."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # Rows built elsewhere (benchmarks, older callers) may lack the newer columns: they are empty, not an error.
    samples = samples.reindex(columns=[*SAMPLE_COLUMNS, *[c for c in samples.columns if c not in SAMPLE_COLUMNS]])
    samples["sample_id"] = samples["sample_id"].where(samples["sample_id"].notna(), samples["config_id"])
    samples_written = _write_samples_csv(samples, out / "samples.csv")
    results = results_table(samples)
    t1, t2 = table1(samples), table2(samples)
    agree, dis = agreement_table(samples), disagreements(samples)
    results.to_csv(out / "results.csv", index=False)
    agree.to_csv(out / "agreement.csv", index=False)
    dis.to_csv(out / "disagreements.csv", index=False)
    (out / "tables.md").write_text(
        "# Table 1 - peer subject\n\n"
        + markdown_table(t1)
        + "\n# Table 2 - self-preservation\n\n"
        + markdown_table(t2, ["vs_no_peer_pp"]),
        encoding="utf-8",
    )
    # The run's health (samples by status, re-runs, call retries), beside the tables `peerwatch report` prints.
    (out / "status.md").write_text(status_markdown(status_table(samples)), encoding="utf-8")
    plots = {"gradient": gradient_plot(t1), "self_vs_peer": self_vs_peer_plot(t2), "heatmap": heatmap(t1)}
    page = render_html(samples, results, t1, t2, plots, infos, _versions(), compare_study, agree, dis)
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    samples_written()
    return index


def write_report(log_dirs: list[str | Path], out_dir: str | Path, compare_study: bool = False) -> Path:
    """Read every peerwatch log under `log_dirs` and write the report to `out_dir`; return index.html's path.

    Raises:
        LogReadError: a directory is missing or holds no peerwatch log, or a log file is corrupt or not Inspect's.
    """
    samples, infos = read_samples(list(log_dirs))
    return build_report(samples, infos, out_dir, compare_study)
