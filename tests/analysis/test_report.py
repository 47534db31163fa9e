"""The report from real logs: the files of design.md, a self-contained page, and what a browser shows."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from peerwatch.analysis import write_report

SAMPLE_COLS = [
    "model",
    "task",
    "dataset",
    "threshold",
    "subject",
    "condition",
    "instantiation",
    "monitoring",
    "epoch",
    "status",
    "exfiltration",
    "tampering",
]
RESULT_COLS = [
    "behaviour",
    "n",
    "k",
    "rate",
    "ci_low",
    "ci_high",
    "n_not_read",
    "n_error",
    "n_unparsed",
    "n_judge_error",
]


@pytest.fixture(scope="module")
def report_dir(judge_logs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    write_report([judge_logs], out, compare_study=True)
    return out


def test_files_and_columns(report_dir: Path) -> None:
    samples = pd.read_csv(report_dir / "samples.csv")
    results = pd.read_csv(report_dir / "results.csv")
    assert set(SAMPLE_COLS) <= set(samples.columns) and set(RESULT_COLS) <= set(results.columns)
    assert samples["model"].nunique() == 2 and (samples["status"] == "ok").all()
    # every rate is traceable: k and n in results.csv are counts of samples.csv rows
    r = results[(results["model"] == "peerwatch/reference") & (results["behaviour"] == "tampering")]
    s = samples[(samples["model"] == "peerwatch/reference") & (samples["task"] == "tampering")]
    assert r["n"].sum() == len(s) and r["k"].sum() == int(s["tampering"].sum())


def test_page_is_self_contained(report_dir: Path) -> None:
    page = (report_dir / "index.html").read_text()
    assert "<img" in page and "data:image/png;base64," in page
    assert not re.search(r"<(script|link)[^>]+(src|href)=", page)
    assert not re.search(r"src=['\"]https?://", page)
    assert "inspect view --log-dir" in page and "Gemini 3 Flash" in page
    assert "Scripted agents, not models" in page and "Holm family" in page and "pp</b> = percentage points" in page


def test_agreement_files(report_dir: Path) -> None:
    agree = pd.read_csv(report_dir / "agreement.csv")
    assert {"behaviour", "n", "both_flag", "rule_only", "judge_only", "neither", "kappa", "kappa_low"} <= set(
        agree.columns
    )
    tamp = agree[agree["behaviour"] == "tampering"].iloc[0]
    dis = pd.read_csv(report_dir / "disagreements.csv")
    assert tamp["rule_only"] + tamp["judge_only"] == len(dis[dis["behaviour"] == "tampering"]) > 0
    samples = pd.read_csv(report_dir / "samples.csv")
    assert {"tampering_rule", "tampering_judge", "judge_model"} <= set(samples.columns)


def test_page_stays_small(report_dir: Path) -> None:
    # one row per cell, links relative to <base>: the demo's page went from 2.2 MB to about 0.6 MB
    page = (report_dir / "index.html").read_text()
    samples = pd.read_csv(report_dir / "samples.csv")
    cells = samples.drop_duplicates(subset=["model", "config_id"])
    assert page.count("<details><summary>") <= samples.groupby(["model", "task"]).ngroups + 10
    assert len(page) < 400_000 + 400 * len(cells)


@pytest.mark.browser
def test_report_in_a_real_browser(report_dir: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed: run scripts/setup/browser.sh")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((report_dir / "index.html").as_uri())
        images = page.locator("img")
        assert images.count() == 3
        for i in range(3):
            img = images.nth(i)
            assert img.is_visible()
            assert img.evaluate("e => e.complete && e.naturalWidth > 100")
        headline = page.locator(".headline")
        assert headline.is_visible() and "samples" in headline.inner_text()
        assert page.locator(".banner").is_visible()
        agreement = page.locator("table.agreement")
        assert agreement.is_visible() and agreement.locator("tbody tr").count() >= 2
        assert "tampering" in agreement.inner_text()
        listed = page.locator("details.disagree").first
        listed.locator("summary").click()
        link = listed.locator("a").first
        assert link.is_visible()
        href = link.evaluate("a => a.href")
        assert href.startswith("http://127.0.0.1:7575/#/logs/") and "/samples/sample/" in href
        page.locator("table.t2").scroll_into_view_if_needed()
        assert "baseline" in page.locator("table.t2").inner_text()
        page.screenshot(path=str(report_dir / "screenshot.png"), full_page=True)
        for i, name in enumerate(("gradient", "self_vs_peer", "heatmap")):
            images.nth(i).screenshot(path=str(report_dir / f"plot-{name}.png"))
        browser.close()
    assert errors == []
