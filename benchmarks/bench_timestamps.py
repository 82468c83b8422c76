"""Benchmark what timestamps cost `load_files`: daily dates against intraday bars, naive,
with UTC offsets kept, and with offsets converted by ``timezone``.

    python benchmarks/bench_timestamps.py [--tickers 20 --days 1000 --repeat 3]

Every layout is one long CSV of the same number of rows (the hourly panel's), so the ratios
to the daily file are the per-row price of reading times and offsets.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

from stockml.data import load_files, synthetic_panel


def _long_csv(panel: pd.DataFrame, stamps: pd.Series, path: Path) -> Path:
    frame = panel.reset_index()
    frame["date"] = stamps.to_numpy()
    frame.to_csv(path, index=False, float_format="%.6f")
    return path


def _seconds(path: Path, repeat: int, **options: object) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            load_files(path, adjust=False, **options)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=20)
    parser.add_argument("--days", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the offsets warning, once per load, is not the subject

    hourly = synthetic_panel(n_tickers=args.tickers, n_days=args.days, freq="1h")
    bars = len(hourly) // args.tickers
    daily = synthetic_panel(n_tickers=args.tickers, n_days=bars)
    hours = pd.Series(hourly.index.get_level_values("date"))
    new_york = hours.dt.tz_localize("America/New_York")
    with_offsets = new_york.dt.strftime("%Y-%m-%d %H:%M:%S%z").str.replace(
        r"(\d{2})(\d{2})$", r"\1:\2", regex=True
    )
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        days = pd.Series(daily.index.get_level_values("date")).dt.strftime("%Y-%m-%d")
        layouts = {
            "daily dates": (_long_csv(daily, days, root / "daily.csv"), {}),
            "intraday, naive": (
                _long_csv(hourly, hours.dt.strftime("%Y-%m-%d %H:%M:%S"), root / "naive.csv"),
                {},
            ),
            "intraday, offsets kept": (_long_csv(hourly, with_offsets, root / "tz.csv"), {}),
            "intraday, offsets -> UTC": (root / "tz.csv", {"timezone": "UTC"}),
        }
        timings = {
            name: _seconds(path, args.repeat, **opts) for name, (path, opts) in layouts.items()
        }
    base = timings["daily dates"]
    print(f"{len(hourly):,} rows per file, {args.tickers} tickers, median of {args.repeat}")
    print(f"{'layout':<26}{'seconds':>9}{'rows/s':>12}{'x daily':>9}")
    for name, seconds in timings.items():
        print(f"{name:<26}{seconds:>9.3f}{len(hourly) / seconds:>12,.0f}{seconds / base:>9.2f}")


if __name__ == "__main__":
    main()
