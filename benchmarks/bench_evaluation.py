"""The per-run scoring and evaluation stages on large holdouts: `regression_metrics` with
dates, one period's portfolio, per-date IC and IC decay (`evaluate_period`), beside a plain
pandas per-date reference of the correlations.

    python benchmarks/bench_evaluation.py [--sizes 200x1000 1000x1000] [--repeat 3]
        [--no-reference]

A run evaluates its holdout and its stitched out-of-fold CV forecasts this way (and each fold's
portfolio), so on a large universe this stage is a visible part of the wall time (issue 12).
For each size (tickers x dates, 5% of the rows dropped so the universe is ragged) it prints the
median seconds of `regression_metrics` with dates (a holdout's or a CV fold's scoring), of
`evaluate_period` and of its IC decay alone (per-date IC and rank IC of the forecast with the
forward return at every horizon, on the date x ticker grid), then the same correlations the
straightforward way: pandas, grouped by date (grouped ranks, then centred sums), once per
horizon. Times are the process's CPU seconds (of all its threads: `evaluate_period` runs its
tasks on the job's cores, see `evaluation_threads`, so its wall time on an idle machine is
lower), which other processes' load on a shared machine disturbs far less than wall time; the
ratio is reference / stockml from the same invocation. The largest difference between the two
IC-decay curves is printed as a check.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from stockml.data.synthetic import synthetic_panel
from stockml.target import forward_log_return
from stockml.validation.cross_section import MIN_NAMES_PER_DATE
from stockml.validation.metrics import regression_metrics
from stockml.validation.portfolio import (
    PortfolioSettings,
    PriceGrid,
    evaluate_period,
    ic_decay,
)

SETTINGS = PortfolioSettings(
    quantiles=5, top_k=None, cost_bps=10.0, horizon=5, max_decay_horizon=10, periods_per_year=252
)


def forecasts(panel: pd.DataFrame, seed: int) -> pd.DataFrame:
    """One row per (date, ticker) for 95% of the panel's rows: a noisy forecast of a label."""
    rng = np.random.default_rng(seed)
    rows = panel.index.to_frame(index=False)
    rows = rows[rng.random(len(rows)) > 0.05].reset_index(drop=True)
    label = rng.normal(0.0, 0.02, len(rows))
    return rows.assign(y_true=label, prediction=label + rng.normal(0.0, 0.05, len(rows)))


def median_seconds(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return statistics.median(times)


def pandas_daily_correlations(
    realised: np.ndarray, forecast: np.ndarray, dates: np.ndarray, rank: bool
) -> pd.Series:
    """Per-date IC (rank IC with ``rank``) by pandas groupbys, by the rules of
    `regression_metrics`: NaN with fewer than ``MIN_NAMES_PER_DATE`` names or a constant side."""
    frame = pd.DataFrame({"true": realised, "pred": forecast})
    by = pd.Series(dates, name="date")
    if rank:
        frame = frame.groupby(by).rank(method="average")
    grouped = frame.groupby(by)
    centred = frame - grouped.transform("mean")
    sums = (
        pd.DataFrame(
            {
                "xy": centred["true"] * centred["pred"],
                "xx": centred["true"] ** 2,
                "yy": centred["pred"] ** 2,
            }
        )
        .groupby(by)
        .sum()
    )
    spread = grouped.max() - grouped.min()
    defined = (grouped.size() >= MIN_NAMES_PER_DATE) & (spread > 0).all(axis=1)
    return (sums["xy"] / np.sqrt(sums["xx"] * sums["yy"])).where(defined)


def pandas_correlations(
    predictions: pd.DataFrame, panel: pd.DataFrame, max_horizon: int
) -> np.ndarray:
    """The reference: per-date IC and rank IC by a date groupby, with the forward log return
    at each horizon; returns the mean IC per horizon."""
    index = pd.MultiIndex.from_frame(predictions[["ticker", "date"]])
    dates, forecast = predictions["date"].to_numpy(), predictions["prediction"].to_numpy()
    decay = np.full(max_horizon, np.nan)
    for bars in range(1, max_horizon + 1):
        realised = forward_log_return(panel, bars).reindex(index).to_numpy()
        known = np.isfinite(realised)
        for rank in (False, True):
            daily = pandas_daily_correlations(realised[known], forecast[known], dates[known], rank)
            if not rank:
                decay[bars - 1] = daily.mean()
    return decay


def measure(n_tickers: int, n_dates: int, repeat: int, reference: bool) -> str:
    """One table row: stockml's times, and the pandas reference's with the ratio."""
    panel = synthetic_panel(n_tickers=n_tickers, n_days=n_dates, seed=0)
    predictions = forecasts(panel, seed=1)
    prices = PriceGrid(panel)
    y_true, forecast = predictions["y_true"].to_numpy(), predictions["prediction"].to_numpy()
    score = median_seconds(
        lambda: regression_metrics(y_true, forecast, dates=predictions["date"]), repeat
    )
    whole = median_seconds(lambda: evaluate_period(predictions, prices, SETTINGS), repeat)
    ours = median_seconds(lambda: ic_decay(predictions, prices, SETTINGS.max_decay_horizon), repeat)
    slow = ratio = difference = float("nan")
    if reference:
        start = time.process_time()
        expected = pandas_correlations(predictions, panel, SETTINGS.max_decay_horizon)
        slow = time.process_time() - start
        ratio = slow / ours
        got = ic_decay(predictions, prices, SETTINGS.max_decay_horizon)[0]
        difference = float(np.max(np.abs(got - expected)))
    return (
        f"{n_tickers:>8d}{n_dates:>7d}{len(predictions):>10d}{score:>9.2f}{whole:>12.2f}{ours:>9.2f}"
        f"{slow:>10.2f}{ratio:>7.1f}x{difference:>12.1e}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["200x1000", "1000x1000"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-reference", action="store_true", help="skip the pandas reference")
    args = parser.parse_args()

    print(
        f"{'tickers':>8s}{'dates':>7s}{'rows':>10s}{'score s':>9s}{'evaluate s':>12s}"
        f"{'decay s':>9s}{'pandas s':>10s}{'ratio':>8s}{'max |diff|':>12s}"
    )
    for size in args.sizes:
        n_tickers, n_dates = (int(part) for part in size.split("x"))
        print(measure(n_tickers, n_dates, args.repeat, reference=not args.no_reference))
    print(f"(CPU seconds; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
