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

import numpy as np
import pandas as pd

from stockml.data.schema import DATE_LEVEL, TICKER_LEVEL
from stockml.messages import InputError

TARGET_NAME = "target"


def forward_log_return(panel: pd.DataFrame, horizon: int = 1) -> pd.Series:
    """Per-ticker ``log(close[t + horizon] / close[t])`` on the panel calendar, named "target".

    Each ticker is its own column of a date x ticker table, so one ticker's last rows never
    borrow another ticker's prices, and a gap in a ticker's history leaves its labels NaN
    rather than silently stretching them over more than ``horizon`` dates.
    """
    if isinstance(horizon, bool) or not isinstance(horizon, numbers.Integral) or horizon < 1:
        raise InputError(
            f"forward_log_return: horizon must be an integer >= 1 (bars ahead), got {horizon!r}"
        )
    close = panel["close"].unstack(TICKER_LEVEL)  # rows: every date of the panel
    labels = np.log(close.shift(-int(horizon)) / close)
    long = labels.stack(future_stack=True).reorder_levels([TICKER_LEVEL, DATE_LEVEL])
    return long.reindex(panel.index).rename(TARGET_NAME)


def make_dataset(features: pd.DataFrame, target: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """Rows with complete features and a known label, ordered by date then ticker.

    Rows present in only one of ``features`` and ``target`` are dropped, as is every row with
    any NaN (indicator warm-up, missing label); nothing is filled. The index stays
    ``(ticker, date)``, but the rows are sorted by date, then ticker, so that positional
    order is time order: the splitters and the holdout can then cut on positions without a
    later date ever preceding an earlier one.
    """
    X, y = features.align(target, join="inner", axis=0)
    complete = X.notna().all(axis=1) & y.notna()
    X, y = X.loc[complete], y.loc[complete]
    order = [DATE_LEVEL, TICKER_LEVEL]
    return X.sort_index(level=order), y.sort_index(level=order)
