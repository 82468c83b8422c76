"""Shared argument checks and date bookkeeping for the validation tools.

Every tool here reasons in *date positions* (the rank of a row's date among the sorted unique
dates), because leakage is a property of time, not of row order: two tickers on the same day
must land on the same side of a split, and a label horizon is counted in bars (trading days
for daily data, intraday bars for intraday data: a date here is a bar's timestamp).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd

from stockml.data.schema import DATE_LEVEL
from stockml.messages import InputError


def check_int(owner: str, name: str, value: Any, minimum: int) -> int:
    """``value`` as an int, refusing bools, floats and anything below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{owner}: {name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise InputError(f"{owner}: {name} must be an integer >= {minimum}, got {value}")
    return int(value)


def effective_gap(owner: str, gap: Any, horizon: Any) -> int:
    """The number of dates to leave out between training and test data.

    ``gap=None`` means "exactly the label horizon". A last training row at date position
    ``t`` has a label realised at ``t + horizon``; with ``gap >= horizon`` the first test date
    is at least ``t + horizon + 1``, so every training label is known strictly before the test
    period starts. A smaller gap is refused rather than clipped, because a silent leak is the
    one failure a validation framework must never have.
    """
    horizon = check_int(owner, "horizon", horizon, 1)
    if gap is None:
        return horizon
    gap = check_int(owner, "gap", gap, 0)
    if gap < horizon:
        raise InputError(
            f"{owner}: gap={gap} is smaller than the label horizon {horizon}: training labels "
            f"would overlap the test period; use gap >= {horizon} or gap=None"
        )
    return gap


def row_dates(owner: str, X: Any, groups: Any = None, rows_are_dates: bool = False) -> Any:
    """Each row's date: X's ``date`` index level or DatetimeIndex, else ``groups``.

    Only when the caller states ``rows_are_dates=True`` is each row taken as its own date.
    Guessing that for a bare array would be wrong for any panel (several tickers per date):
    train and test would share dates and training labels would reach into the test period.
    """
    if not isinstance(rows_are_dates, bool):
        raise ValueError(f"{owner}: rows_are_dates must be True or False, got {rows_are_dates!r}")
    index = getattr(X, "index", None)
    if isinstance(index, pd.Index) and DATE_LEVEL in index.names:
        return index.get_level_values(DATE_LEVEL)
    if isinstance(index, pd.DatetimeIndex):
        return index
    if groups is not None:
        return groups
    if rows_are_dates:
        return np.arange(len(X))
    raise ValueError(
        f"{owner}: X has no '{DATE_LEVEL}' index level and no groups, so the rows' dates are "
        "unknown; pass a (ticker, date)-indexed frame, groups=<each row's date>, or "
        "rows_are_dates=True if every row is a different date"
    )


def date_positions(owner: str, dates: Any) -> tuple[np.ndarray, int]:
    """Each row's position among the sorted unique dates, and the number of unique dates."""
    codes, uniques = pd.factorize(pd.Index(dates), sort=True)
    if (codes < 0).any():
        raise InputError(f"{owner}: {int((codes < 0).sum())} rows have a missing date")
    return codes.astype(np.intp), len(uniques)


def rows_on(codes: np.ndarray, date_positions: np.ndarray, n_dates: int) -> np.ndarray:
    """Positional indices of the rows whose date position is in ``date_positions``."""
    selected = np.zeros(n_dates, dtype=bool)
    selected[date_positions] = True
    return np.flatnonzero(selected[codes])
