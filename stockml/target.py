"""Labels and the modelling frame: what the models predict, and the rows they may learn from.

The label is the forward log return ``log(close[t + h] / close[t])`` of each ticker, where
``t + h`` is ``h`` bars ahead on the panel's own calendar (the union of all tickers' dates, or
timestamps for intraday bars, so an hourly horizon of 2 at 15:30 ends at 10:30 next morning).
A row dated ``t`` holds only what was known at the close of ``t``. Rows whose ``t + h`` bar
is missing (the last ``h`` dates, or a gap in that ticker's history) have no label; they are
NaN and dropped, never filled, because any fill invents a return that never happened.

Counting on the shared calendar, not on each ticker's rows, is what makes the splitters'
purge exact: they leave ``h`` calendar dates between train and test, and a label that skipped
over a ticker's missing bars would reach further ahead than that.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from stockml.data.schema import DATE_LEVEL, TICKER_LEVEL
from stockml.messages import InputError

TARGET_NAME = "target"


@dataclass(frozen=True)
class RowCodes:
    """Every row's ticker and date as integer codes, in the order of their values.

    Labels and the time order of rows are computed from these by position; making them once
    serves both.
    """

    tickers: np.ndarray
    dates: np.ndarray

    @classmethod
    def of(cls, index: pd.Index) -> RowCodes:
        return cls(sortable_codes(index, TICKER_LEVEL), sortable_codes(index, DATE_LEVEL))


def forward_log_return(
    panel: pd.DataFrame, horizon: int = 1, codes: RowCodes | None = None
) -> pd.Series:
    """Per-ticker ``log(close[t + horizon] / close[t])`` on the panel calendar, named "target".

    Each ticker is its own row of a ticker x date table, so one ticker's last rows never
    borrow another ticker's prices, and a gap in a ticker's history leaves its labels NaN
    rather than silently stretching them over more than ``horizon`` dates. The table is
    filled and read by position (ticker code, date code), never by index joins; ``codes``
    are `RowCodes.of(panel.index)` when the caller has them already.
    """
    if isinstance(horizon, bool) or not isinstance(horizon, numbers.Integral) or horizon < 1:
        raise InputError(
            f"forward_log_return: horizon must be an integer >= 1 (bars ahead), got {horizon!r}"
        )
    horizon = int(horizon)
    codes = codes or RowCodes.of(panel.index)
    tickers, dates = codes.tickers, codes.dates
    close = panel["close"].to_numpy(dtype=np.float64)
    table = np.full((int(tickers.max()) + 1, int(dates.max()) + 1 + horizon), np.nan)
    table[tickers, dates] = close
    with np.errstate(divide="ignore", invalid="ignore"):
        labels = np.log(table[tickers, dates + horizon] / close)
    return pd.Series(labels, index=panel.index, name=TARGET_NAME)


def sortable_codes(index: pd.Index, level: str) -> np.ndarray:
    """Integer codes of ``level`` whose order is the order of its values (0 = earliest date).

    Only values that occur get a code, so consecutive codes are consecutive panel dates: the
    calendar is the union of the dates present, as the splitters count it. A plain
    DatetimeIndex is one ticker (every code 0) on its own dates.
    """
    if not isinstance(index, pd.MultiIndex):
        if level == TICKER_LEVEL:
            return np.zeros(len(index), dtype=np.intp)
        return pd.factorize(index, sort=True)[0]
    number = index.names.index(level)
    codes, values = index.codes[number], index.levels[number]
    by_value = values.argsort()
    present = np.zeros(len(values), dtype=bool)
    present[codes] = True  # a level may list values no row has any more (after slicing)
    dense = np.empty(len(values), dtype=np.intp)
    dense[by_value] = np.cumsum(present[by_value]) - 1
    return dense[codes]


def time_order(codes: RowCodes, keep: np.ndarray) -> np.ndarray:
    """Positions of the rows where ``keep`` is true, ordered by date, then ticker."""
    rows = np.flatnonzero(keep)
    return rows[np.lexsort((codes.tickers[rows], codes.dates[rows]))]


def complete_rows(columns: Iterable[np.ndarray], label: np.ndarray) -> np.ndarray:
    """Mask of the rows where the label and every feature column are known (not NaN).

    One column at a time, so the check never builds a boolean copy of a wide frame.
    """
    complete = ~np.isnan(label)
    for column in columns:
        complete &= ~np.isnan(column)
    return complete


def make_dataset(features: pd.DataFrame, target: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """Rows with complete features and a known label, ordered by date then ticker.

    Rows present in only one of ``features`` and ``target`` are dropped, as is every row with
    any NaN (indicator warm-up, missing label); nothing is filled. The index stays
    ``(ticker, date)``, but the rows are sorted by date, then ticker, so that positional
    order is time order: the splitters and the holdout can then cut on positions without a
    later date ever preceding an earlier one. When both share one index (the usual case)
    rows are matched by position and each frame is copied once, by a single row take.
    """
    if not features.index.equals(target.index):
        features, target = features.align(target, join="inner", axis=0)
    label = target.to_numpy(dtype=np.float64)
    columns = (features[name].to_numpy() for name in features.columns)
    order = time_order(RowCodes.of(features.index), complete_rows(columns, label))
    return features.take(order), target.take(order)
