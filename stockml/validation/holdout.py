"""The final, untouched test period: the most recent dates, purged from the development set.

Cross-validation on the development set chooses the model; the holdout is scored once, at
the end, to estimate how the chosen model does on dates nothing was tuned on. The last
``horizon`` dates before the holdout are dropped from the development set, because their
labels are realised inside the holdout period and would leak it into training. ``horizon`` is
the label's whole reach, entry lag included (`stockml.target.TargetSpec.label_span`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from stockml.data.schema import DATE_LEVEL, panel_dates
from stockml.messages import InputError
from stockml.validation._checks import check_int, date_positions

OWNER = "split_holdout"


def split_holdout(
    X: pd.DataFrame,
    y: pd.Series,
    *,
    fraction: float | None = 0.2,
    start: Any = None,
    horizon: int = 1,
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    """Hold out the most recent dates, purging the dev dates whose labels reach into them.

    Like scikit-learn's ``train_test_split``, but never shuffled and cut on whole dates.
    Only ``X_dev`` may reach the splitters and tuning; the holdout is scored once, at the end.

    Parameters
    ----------
    X : DataFrame
        Features indexed by ``(ticker, date)`` (or by a DatetimeIndex), as `make_dataset`
        returns them.
    y : Series
        Labels on ``X``'s index, row for row.
    fraction : float or None, default=0.2
        Share of the unique dates held out (rounded, at least one date), strictly between
        0 and 1. Ignored when ``start`` is given.
    start : date-like or None, default=None
        Hold out every date on or after this one instead.
    horizon : int, default=1
        Label horizon in bars: the last ``horizon`` dates before the holdout are dropped from
        dev, since their labels are realised inside it.

    Returns
    -------
    X_dev, y_dev, X_hold, y_hold : DataFrame, Series, DataFrame, Series
        Rows of the development and the holdout dates, in their original order.

    Examples
    --------
    Six dates, two tickers; the last two dates are held out and the one before them purged:

    >>> import numpy as np
    >>> import pandas as pd
    >>> from stockml.validation import split_holdout
    >>> dates = pd.bdate_range("2024-01-01", periods=6)
    >>> index = pd.MultiIndex.from_product([["AAA", "BBB"], dates], names=["ticker", "date"])
    >>> X = pd.DataFrame({"x": np.arange(12.0)}, index=index)
    >>> y = pd.Series(np.arange(12.0) / 100, index=index, name="target")
    >>> X_dev, y_dev, X_hold, y_hold = split_holdout(X, y, fraction=0.34, horizon=1)
    >>> X_dev.index.get_level_values("date").unique().strftime("%m-%d").tolist()
    ['01-01', '01-02', '01-03']
    >>> X_hold.index.get_level_values("date").unique().strftime("%m-%d").tolist()
    ['01-05', '01-08']
    """
    horizon = check_int(OWNER, "horizon", horizon, 1)
    if not y.index.equals(X.index):
        raise ValueError(f"{OWNER}: y must have X's index, row for row (use make_dataset)")
    if DATE_LEVEL not in X.index.names and not isinstance(X.index, pd.DatetimeIndex):
        # Row numbers taken as dates would cut a panel's date in two and purge rows, not dates.
        raise ValueError(
            f"{OWNER}: X has no '{DATE_LEVEL}' index level, so the rows' dates are unknown; "
            "pass the (ticker, date)-indexed frames make_dataset returns"
        )
    dates = panel_dates(X)
    codes, n_dates = date_positions(OWNER, dates)
    first_hold = _first_holdout_position(dates, n_dates, fraction, start)
    n_hold = n_dates - first_hold
    if n_hold == 0:
        raise InputError(
            f"{OWNER}: the holdout would be empty: no date on or after {start} "
            f"among {n_dates} dates"
        )
    n_dev = first_hold - horizon
    if n_dev < 1:
        raise InputError(
            f"{OWNER}: the development set would be empty: {n_dates} dates, {n_hold} held "
            f"out and {horizon} purged; need at least {n_hold + horizon + 1} dates"
        )
    dev, hold = codes < n_dev, codes >= first_hold
    return X.iloc[dev], y.iloc[dev], X.iloc[hold], y.iloc[hold]


def _first_holdout_position(
    dates: pd.DatetimeIndex, n_dates: int, fraction: float | None, start: Any
) -> int:
    """Date position where the holdout begins."""
    if start is not None:
        return int(dates.unique().sort_values().searchsorted(pd.Timestamp(start)))
    if fraction is None or not 0.0 < fraction < 1.0:
        raise InputError(f"{OWNER}: fraction must lie strictly between 0 and 1, got {fraction}")
    return n_dates - max(1, round(fraction * n_dates))
