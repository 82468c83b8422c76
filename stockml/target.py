"""Labels and the modelling frame: what the models predict, and the rows they may learn from.

The label is the forward log return ``log(close[t + h] / close[t])`` of each ticker, so a row
dated ``t`` holds only what was known at the close of ``t`` and the label looks ``h`` trading
days (rows of that ticker) ahead. The last ``h`` rows of every ticker have no label yet; they
are NaN and dropped, never filled, because any fill invents a return that never happened.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from stockml.data.schema import DATE_LEVEL, TICKER_LEVEL

TARGET_NAME = "target"


def forward_log_return(panel: pd.DataFrame, horizon: int = 1) -> pd.Series:
    """Per-ticker ``log(close[t + horizon] / close[t])``, named ``"target"``.

    The shift runs within each ticker, so one ticker's last rows never borrow the next
    ticker's first prices.
    """
    if isinstance(horizon, bool) or not isinstance(horizon, numbers.Integral) or horizon < 1:
        raise ValueError(
            f"forward_log_return: horizon must be an integer >= 1 (trading days ahead), "
            f"got {horizon!r}"
        )
    close = panel["close"]
    future = close.groupby(level=TICKER_LEVEL, sort=False).shift(-int(horizon))
    return np.log(future / close).rename(TARGET_NAME)


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
