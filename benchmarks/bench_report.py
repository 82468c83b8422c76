"""Benchmark a run's HTML report: write time, browser time and file size for a 200-ticker,
1,000-date holdout (goals: written and drawn in under 5 s each, under 10 MB).

    python benchmarks/bench_report.py [--tickers 200 --dates 1000 --repeat 3]

Each browser time is the median of `--repeat` loads, the report's alternating with a page
that holds only plotly.js, so both see the same machine load. Beside the wall time it prints
the renderer's main-thread CPU time (Chrome's `ThreadTime`), which other processes sharing
the cores inflate far less, and the report's times as a multiple of plotly.js's alone.

The evaluation document is built by the real evaluation code (`evaluate_period`) from a
synthetic price panel and a forecast of its next-bar return plus noise: a holdout of
`--dates` dates and an out-of-fold CV period of three times as many (three folds' worth), so
every series has the length a real run's would. Building it is not timed: that is the run's
evaluation, measured by the run itself (`timings.evaluation_s`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stockml.data import synthetic_panel
from stockml.data.schema import DATE_LEVEL, TICKER_LEVEL
from stockml.reporting.page import Note, Section, write_page
from stockml.reporting.run_report import write_run_report
from stockml.reporting.schema import SCHEMA_VERSION, EvaluationDocument
from stockml.validation.portfolio import PortfolioSettings, PriceGrid, evaluate_period

CHROMIUM = Path("/usr/bin/chromium")
GOAL_SECONDS = 5.0
GOAL_MB = 10.0
CV_FOLDS = 3
N_FEATURES = 60
SETTINGS = PortfolioSettings(
    quantiles=5, top_k=None, cost_bps=10.0, horizon=5, max_decay_horizon=10,
    periods_per_year=252.0,
)  # fmt: skip


def forecasts(panel: pd.DataFrame, dates: pd.DatetimeIndex, seed: int) -> pd.DataFrame:
    """One row per (date, ticker): the realised next-bar log return and a noisy forecast."""
    close = panel["close"].unstack(TICKER_LEVEL)
    label = np.log(close.shift(-1) / close).loc[dates].stack().rename("y_true")
    frame = label.reset_index()
    noise = np.random.default_rng(seed).normal(0.0, 0.02, len(frame))
    frame["prediction"] = 0.1 * frame["y_true"] + noise
    return frame[[DATE_LEVEL, TICKER_LEVEL, "prediction", "y_true"]]


def evaluation_document(tickers: int, dates: int) -> EvaluationDocument:
    panel = synthetic_panel(n_tickers=tickers, n_days=(CV_FOLDS + 1) * dates + 20, seed=0)
    calendar = pd.DatetimeIndex(panel.index.get_level_values(DATE_LEVEL).unique()).sort_values()
    dev, holdout = calendar[: CV_FOLDS * dates], calendar[CV_FOLDS * dates : -10][:dates]
    holdout_period, portfolio = evaluate_period(
        forecasts(panel, holdout, 1), PriceGrid(panel), SETTINGS
    )
    dev_prices = PriceGrid(panel, before=holdout[0])
    cv_period, _ = evaluate_period(forecasts(panel, dev, 2), dev_prices, SETTINGS)
    rng = np.random.default_rng(3)
    return {
        "schema_version": SCHEMA_VERSION,
        "settings": SETTINGS.document(portfolio.mode),
        "holdout": holdout_period,
        "cv": cv_period,
        "folds": [
            {
                "fold": k,
                "test_start": str(dev[k * dates].date()),
                "test_end": str(dev[(k + 1) * dates - 1].date()),
                "metrics": dict(cv_period["metrics"]),
            }
            for k in range(CV_FOLDS)
        ],
        "feature_importance": {
            "feature": [f"feature_{i}" for i in range(N_FEATURES)],
            "importance": rng.normal(0.0, 1.0, N_FEATURES).tolist(),
            "kind": "coefficient",
        },
    }


@dataclass(frozen=True)
class Load:
    """One page opened in the browser, until every figure has drawn (the load event: plotly
    draws inline)."""

    wall_s: float
    cpu_s: float  # the renderer's main thread, where parsing, scripts and layout run


NO_BROWSER = Load(float("nan"), float("nan"))


def _load(browser: Any, path: Path) -> Load:
    page = browser.new_page()
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable", {"timeDomain": "threadTicks"})

    def thread_time() -> float:
        metrics = cdp.send("Performance.getMetrics")["metrics"]
        return next(m["value"] for m in metrics if m["name"] == "ThreadTime")

    cpu = thread_time()
    start = time.perf_counter()
    page.goto(path.as_uri(), wait_until="load")
    wall = time.perf_counter() - start
    cpu = thread_time() - cpu
    page.close()
    return Load(wall, cpu)


def browser_loads(paths: list[Path], repeat: int) -> list[Load]:
    """Headless Chromium: each page opened `repeat` times in turn, the median per page;
    NaN without chromium."""
    if not CHROMIUM.exists():
        return [NO_BROWSER for _ in paths]
    from playwright.sync_api import sync_playwright

    loads: list[list[Load]] = [[] for _ in paths]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        for _ in range(repeat):
            for path, runs in zip(paths, loads, strict=True):
                runs.append(_load(browser, path))
        browser.close()
    return [
        Load(statistics.median(r.wall_s for r in runs), statistics.median(r.cpu_s for r in runs))
        for runs in loads
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=200)
    parser.add_argument("--dates", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    document = evaluation_document(args.tickers, args.dates)
    seconds = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.html"
        for _ in range(args.repeat):  # the first also loads plotly's validators
            start = time.perf_counter()
            write_run_report(document, path, "benchmark run")
            seconds.append(time.perf_counter() - start)
        megabytes = path.stat().st_size / 2**20
        # the fixed part: a page with no figure, only the inlined plotly.js to parse
        empty = write_page(Path(folder) / "empty.html", "empty", [Section("", [Note("")])])
        empty_mb = empty.stat().st_size / 2**20
        load_average = os.getloadavg()[0]
        report, baseline = browser_loads([path, empty], args.repeat)
    print(
        f"{'report':24s}{'tickers':>8s}{'dates':>7s}{'write s':>9s}{'median s':>10s}"
        f"{'browser s':>11s}{'CPU s':>7s}{'x js':>6s}{'MB':>7s}"
    )
    print(
        f"{'one run, holdout + CV':24s}{args.tickers:>8d}{args.dates:>7d}{seconds[0]:>9.2f}"
        f"{statistics.median(seconds):>10.2f}{report.wall_s:>11.2f}{report.cpu_s:>7.2f}"
        f"{report.wall_s / baseline.wall_s:>6.2f}{megabytes:>7.2f}"
    )
    print(f"{'plotly.js alone':24s}{'':>8s}{'':>7s}{'':>9s}{'':>10s}{baseline.wall_s:>11.2f}"
          f"{baseline.cpu_s:>7.2f}{1:>6.2f}{empty_mb:>7.2f}")  # fmt: skip
    print(
        f"(browser: median of {args.repeat}; CPU: renderer main thread; x js: wall time over "
        f"plotly.js's alone; load average {load_average:.1f} before the browser ran, "
        f"{os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs: wall times grow with it)"
    )
    # NaN (no chromium) compares False: the browser side is then not part of the verdict
    goal = (max(seconds) < GOAL_SECONDS and megabytes < GOAL_MB
            and not report.wall_s >= GOAL_SECONDS)  # fmt: skip
    verdict = "met" if goal else "MISSED"
    print(f"goals (write and browser < {GOAL_SECONDS:g} s, < {GOAL_MB:g} MB): {verdict}")
    if CHROMIUM.exists():  # an idle machine's wall time is about the main-thread CPU time
        idle = "met" if report.cpu_s < GOAL_SECONDS else "MISSED"
        print(f"browser goal on main-thread CPU ({report.cpu_s:.2f} s < {GOAL_SECONDS:g}): {idle}")


if __name__ == "__main__":
    main()
