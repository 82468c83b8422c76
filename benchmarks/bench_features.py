"""Benchmark `FeatureBuilder(preset="full")` on a large synthetic panel against TA-Lib and `ta`.

    python benchmarks/bench_features.py [--tickers 200 --days 5000 --repeat 3 --ta-rows 20000]

The libraries compute different numbers of columns, so the fair comparison is throughput per
computed column: rows x columns / second. TA-Lib (C, what most users would pick) computes a
comparable indicator set (`TALIB_SET`: the indicators of the `full` preset it has) one
ticker at a time on the same panel, each output array counting as a column. `ta` is timed on
a smaller single-ticker slice because it is orders of magnitude slower; per-row cost is flat
in the row count for all three.
Last, the formula engine (`bench_formulas`): 20 Alpha-style formulas on the same panel, all
together and one at a time.
Peak memory is measured in a separate, untimed first run (tracemalloc slows allocation-heavy
code, and the max-RSS growth only means something before other runs have raised it).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from stockml.data import synthetic_panel
from stockml.data.schema import PRICE_COLUMNS
from stockml.features import FeatureBuilder
from stockml.threads import limit_threads

GOAL_TALIB_RATIO = 1.0


def _timings(run: Callable[[], object], repeat: int) -> list[float]:
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - start)
        del result  # free the previous output first, as a caller replacing it would
    return seconds


def _peak_memory_mb(run: Callable[[], object]) -> tuple[float, float]:
    """(tracemalloc peak, growth of the process's max RSS) in MiB for one call."""
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    return peak / 2**20, rss_growth / 2**10  # ru_maxrss is in KiB on Linux


def _ta_all_features(bars: pd.DataFrame) -> pd.DataFrame:
    import ta

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ta.add_all_ta_features(
            bars.copy(), open="open", high="high", low="low", close="close", volume="volume"
        )


def _talib_set(
    talib: Any,
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
) -> list[np.ndarray]:
    """One ticker's counterparts of the `full` preset's indicators, as TA-Lib outputs."""
    returns = talib.ROCP(close, 1)
    log_volume = np.log(volume)
    outputs: list[Any] = [talib.ROC(close, window) for window in (5, 10, 20, 60, 120)]
    outputs += [talib.STDDEV(returns, window) for window in (5, 20, 60)]
    outputs += [talib.NATR(high, low, close, 14)]
    outputs += [talib.SMA(close, window) for window in (10, 20, 50, 200)]
    outputs += [talib.EMA(close, window) for window in (10, 20, 50, 200)]
    outputs += [talib.LINEARREG_SLOPE(close, window) for window in (20, 60)]
    outputs += [*talib.MACD(close, 12, 26, 9)]
    outputs += [talib.RSI(close, window) for window in (7, 14)]
    outputs += [*talib.STOCHF(high, low, close, 14, 3)]
    outputs += [talib.WILLR(high, low, close, window) for window in (14, 28)]
    outputs += [*talib.BBANDS(close, 20, 2.0, 2.0)]
    outputs += [talib.SMA(volume, window) for window in (5, 20, 60)]
    outputs += [talib.OBV(close, volume)]
    outputs += [talib.STDDEV(log_volume, window) for window in (5, 20, 60)]
    outputs += [talib.CORREL(returns, talib.ROCP(volume, 1), window) for window in (5, 20, 60)]
    for window in (20, 60):
        outputs += [*talib.MINMAX(close, window)]
    outputs += [talib.CDLDOJI(open_, high, low, close)]
    return outputs


def _talib_panel(panel: pd.DataFrame) -> list[np.ndarray]:
    """`_talib_set` for every ticker of ``panel``, one ticker at a time (TA-Lib's unit)."""
    import talib

    columns = {name: panel[name].to_numpy(dtype=np.float64) for name in PRICE_COLUMNS}
    _, starts = np.unique(panel.index.codes[0], return_index=True)
    outputs: list[np.ndarray] = []
    for start, stop in zip(starts, [*starts[1:], len(panel)], strict=True):
        outputs += _talib_set(talib, *(columns[name][start:stop] for name in PRICE_COLUMNS))
    return outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=200)
    parser.add_argument("--days", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ta-rows", type=int, default=20_000)
    parser.add_argument("--ta-repeat", type=int, default=1, help="ta takes ~10 s per call")
    args = parser.parse_args()

    panel = synthetic_panel(args.tickers, args.days, seed=0)
    builder = FeatureBuilder(preset="full")
    n_ours = len(builder.get_feature_names_out())
    traced_mb, rss_mb = _peak_memory_mb(lambda: builder.transform(panel))  # first: RSS is fresh
    ours = _timings(lambda: builder.transform(panel), args.repeat)
    # Blocks of tickers run on every core (`stockml.threads`); TA-Lib runs on one, so the
    # one-thread figure (as each of `cores` parallel jobs would get) is printed too.
    cores = len(os.sched_getaffinity(0))
    with limit_threads({"n_jobs": cores}):
        one_thread = _timings(lambda: builder.transform(panel), args.repeat)

    n_talib = len(_talib_panel(panel.iloc[:300]))
    talib_seconds = _timings(lambda: _talib_panel(panel), args.repeat)

    bars = synthetic_panel(1, args.ta_rows, seed=1).droplevel("ticker")
    n_ta = _ta_all_features(bars.iloc[:100]).shape[1] - bars.shape[1]
    theirs = _timings(lambda: _ta_all_features(bars), args.ta_repeat)

    rows = {
        f"stockml {cores} thr": (len(panel), n_ours, ours),
        "stockml 1 thr": (len(panel), n_ours, one_thread),
        "TA-Lib set": (len(panel), n_talib, talib_seconds),
        "ta add_all": (len(bars), n_ta, theirs),
    }
    print(
        f"{'':14s}{'rows':>10s}{'cols':>6s}{'best s':>9s}{'median s':>10s}"
        f"{'rows/s':>12s}{'rows*cols/s':>14s}"
    )
    per_column = {}
    for name, (n_rows, n_cols, seconds) in rows.items():
        best = min(seconds)
        per_column[name] = n_rows * n_cols / best
        print(
            f"{name:14s}{n_rows:>10,d}{n_cols:>6d}{best:>9.3f}{statistics.median(seconds):>10.3f}"
            f"{n_rows / best:>12,.0f}{per_column[name]:>14,.0f}"
        )
    ours_per_column = per_column[f"stockml {cores} thr"]
    ratio = ours_per_column / per_column["ta add_all"]
    talib_ratio = ours_per_column / per_column["TA-Lib set"]
    talib_ratio_one = per_column["stockml 1 thr"] / per_column["TA-Lib set"]
    print(f"\nthroughput per computed column, stockml / ta: {ratio:,.0f}x")
    print(
        f"throughput per computed column, stockml / TA-Lib: {talib_ratio:.2f}x "
        f"({cores} threads), {talib_ratio_one:.2f}x (1 thread)"
    )
    input_mb = panel.memory_usage().sum() / 2**20
    print(
        f"peak memory of one full transform: {traced_mb:,.0f} MiB traced, "
        f"max RSS grew {rss_mb:,.0f} MiB (input panel {input_mb:,.0f} MiB)"
    )
    goal = len(panel) / min(ours) >= 500_000 and ratio >= 50
    print(f"goals (>= 500,000 rows/s and >= 50x ta per column): {'met' if goal else 'MISSED'}")
    talib_goal = talib_ratio >= GOAL_TALIB_RATIO
    print(
        f"goal (>= {GOAL_TALIB_RATIO:.1f}x TA-Lib per column): "
        f"{'met' if talib_goal else 'MISSED'} ({talib_ratio:.2f}x)"
    )

    bench_formulas(panel, args.repeat)


# Alpha-style formulas (Qlib Alpha158 / WorldQuant Alpha101 in spirit): bar shape, trailing
# extremes, ranks and correlations per ticker, and cross-sectional ranks and z-scores per date.
ALPHA_FORMULAS = {
    "kmid": "(close - open) / open",
    "klen": "(high - low) / open",
    "ksft": "(2 * close - high - low) / open",
    "roc_20": "delay(close, 20) / close",
    "ma_20": "ts_mean(close, 20) / close",
    "std_20": "ts_std(close, 20) / close",
    "max_20": "ts_max(high, 20) / close",
    "min_20": "ts_min(low, 20) / close",
    "rsv_20": "(close - ts_min(low, 20)) / (ts_max(high, 20) - ts_min(low, 20))",
    "rank_20": "ts_rank(close, 20)",
    "corr_20": "ts_corr(close, log(volume + 1), 20)",
    "cord_20": "ts_corr(close / delay(close, 1), log(volume / delay(volume, 1) + 1), 20)",
    "vma_20": "ts_mean(volume, 20) / (volume + 1)",
    "vstd_20": "ts_std(volume, 20) / (volume + 1)",
    "ema_gap_12": "close / ema(close, 12) - 1",
    "alpha012": "sign(delta(volume, 1)) * -delta(close, 1)",
    "alpha006": "-ts_corr(open, volume, 10)",
    "mom_rank": "cs_rank(close / delay(close, 20) - 1)",
    "rev_z": "cs_zscore(-delta(log(close), 5))",
    "vol_rank": "cs_rank(ts_std(log(close / delay(close, 1)), 20))",
}


def bench_formulas(panel: pd.DataFrame, repeat: int) -> None:
    """The formula engine on ``panel``: the 20 `ALPHA_FORMULAS` as one builder (shared
    subexpressions computed once), then each formula alone, its cost including the panel's
    conversion to arrays and the placement of its column."""
    together = FeatureBuilder(families={}, expressions=ALPHA_FORMULAS)
    seconds = _timings(lambda: together.transform(panel), repeat)
    best = min(seconds)
    print(f"\nformula engine, {len(ALPHA_FORMULAS)} Alpha-style formulas on {len(panel):,d} rows")
    print(f"{'':14s}{'cols':>6s}{'best s':>9s}{'median s':>10s}{'rows/s':>12s}{'rows*cols/s':>14s}")
    print(
        f"{'formulas':14s}{len(ALPHA_FORMULAS):>6d}{best:>9.3f}{statistics.median(seconds):>10.3f}"
        f"{len(panel) / best:>12,.0f}{len(panel) * len(ALPHA_FORMULAS) / best:>14,.0f}"
    )
    print(f"{'formula':14s}{'ms':>9s}{'rows/s':>14s}  text")
    for name, text in ALPHA_FORMULAS.items():
        alone = FeatureBuilder(families={}, expressions={name: text})
        best = min(_timings(lambda alone=alone: alone.transform(panel), repeat))
        print(f"{name:14s}{best * 1e3:>9.1f}{len(panel) / best:>14,.0f}  {text}")


if __name__ == "__main__":
    main()
