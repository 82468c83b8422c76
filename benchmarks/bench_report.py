"""Benchmark a run's HTML report: render time and file size for a 200-ticker, 1,000-date
holdout (goals: written in under 5 s, drawn by a browser in under 5 s, under 10 MB).

    python benchmarks/bench_report.py [--tickers 200 --dates 1000 --repeat 3]

The document comes from the tests' synthetic builder (`tests/report_documents.py`), which fills
the evaluation contract with seeded series of the evaluation's shapes: one value per date for
the daily returns and ICs (so the ticker count does not change the report), a few thousand
sampled forecast points, three CV folds of as many dates as the holdout. TODO(issue 11): build
it through the real portfolio evaluation from a synthetic panel once that is merged; then
`--tickers` sizes the panel.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from report_documents import synthetic_document

from stockml.reporting.run_report import write_run_report

CHROMIUM = Path("/usr/bin/chromium")
GOAL_SECONDS = 5.0
GOAL_MB = 10.0
SAMPLED_POINTS = 5000


def browser_seconds(path: Path) -> float:
    """Headless Chromium: from opening the file until every figure has drawn; NaN without
    chromium."""
    if not CHROMIUM.exists():
        return float("nan")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page()
        start = time.perf_counter()
        page.goto(path.as_uri(), wait_until="load")  # the figures are drawn by then
        seconds = time.perf_counter() - start
        browser.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=200)
    parser.add_argument("--dates", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    document = synthetic_document(n_dates=args.dates, n_features=60, n_sample=SAMPLED_POINTS)
    seconds = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.html"
        for _ in range(args.repeat):  # the first also loads plotly's validators
            start = time.perf_counter()
            write_run_report(document, path, "benchmark run")
            seconds.append(time.perf_counter() - start)
        megabytes = path.stat().st_size / 2**20
        in_browser = browser_seconds(path)
    print(
        f"{'report':24s}{'tickers':>8s}{'dates':>7s}{'write s':>9s}{'median s':>10s}"
        f"{'browser s':>11s}{'MB':>7s}"
    )
    print(
        f"{'one run, holdout + CV':24s}{args.tickers:>8d}{args.dates:>7d}{seconds[0]:>9.2f}"
        f"{statistics.median(seconds):>10.2f}{in_browser:>11.2f}{megabytes:>7.2f}"
    )
    # NaN (no chromium) compares False: the browser side is then not part of the verdict
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: times grow with it)")
    goal = max(seconds) < GOAL_SECONDS and megabytes < GOAL_MB and not in_browser >= GOAL_SECONDS
    verdict = "met" if goal else "MISSED"
    print(f"goals (write and browser < {GOAL_SECONDS:g} s, < {GOAL_MB:g} MB): {verdict}")


if __name__ == "__main__":
    main()
