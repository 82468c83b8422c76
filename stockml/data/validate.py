"""Checks that stop bad market data before it reaches a model, each naming where it failed.

A silently dropped row or a negative price turns into a plausible-looking but wrong
backtest, so every problem is either an error pointing at the row or a reported repair.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from stockml.data.parse import ADJUSTED_CLOSE, Table
from stockml.data.schema import TICKER_LEVEL, DataValidationError, format_stamp
from stockml.messages import InputError

logger = logging.getLogger(__name__)
MISSING_POLICIES: tuple[str, ...] = ("drop", "ffill", "raise")
_PRICES = ("open", "high", "low", "close", ADJUSTED_CLOSE)


def check_missing_policy(missing: str) -> None:
    """Fail before any file is read, so a typo in a config costs nothing."""
    if missing not in MISSING_POLICIES:
        raise InputError(f"missing must be one of {', '.join(MISSING_POLICIES)}; got {missing!r}")


def _first_row(table: Table, mask: pd.Series) -> int:
    return int(table.frame.index[np.flatnonzero(mask.to_numpy())[0]])


def in_date_order(table: Table) -> Table:
    """The table sorted by date, oldest first, keeping each row's file row number.

    Vendors export newest-first as often as oldest-first, and every order-dependent step after
    this one (forward fill, split detection, the adjustment factor's steps) must only ever look
    back in time: filling in file order from a newest-first file copies tomorrow's bar into
    today. The sort is stable, so repeated dates keep their file order for the duplicate check.
    """
    if table.frame["date"].is_monotonic_increasing:
        return table
    logger.info("%s: rows are not in date order; sorted oldest first", table.where())
    return table.replace(table.frame.sort_values("date", kind="stable"))


def check_duplicates(table: Table) -> None:
    """Two bars for one day cannot both be right, and picking one would hide the problem."""
    dates = table.frame["date"]
    repeated = dates.duplicated(keep=False)
    if repeated.any():
        rows = table.frame.index[repeated.to_numpy()]
        first = dates[rows[0]]
        clash = [int(row) for row in rows if dates[row] == first]
        raise DataValidationError(
            f"{table.where()}: duplicate date {format_stamp(first)} in rows "
            f"{', '.join(map(str, clash))}"
        )


def handle_missing(table: Table, missing: str) -> tuple[Table, str | None]:
    """Apply the ``missing`` policy; the second value describes any repair, for reporting."""
    values = table.frame.drop(columns="date")
    holes = values.isna().any(axis=1)
    if not holes.any():
        return table, None
    if missing == "raise":
        row = _first_row(table, holes)
        column = values.columns[values.loc[row].isna().to_numpy()][0]
        raise DataValidationError(
            f"{table.where(row)}: column {column} is missing (missing='raise')"
        )
    if missing == "drop":
        kept = table.frame[~holes]
        return table.replace(kept), f"{table.ticker}: dropped {int(holes.sum())} rows"
    filled_values = values.ffill()
    filled = int(values.isna().sum().sum() - filled_values.isna().sum().sum())
    leading = filled_values.isna().any(axis=1)
    frame = pd.concat([table.frame[["date"]], filled_values], axis=1)[~leading]
    return table.replace(frame), (
        f"{table.ticker}: forward-filled {filled} values, dropped {int(leading.sum())} leading rows"
    )


def check_values(table: Table) -> None:
    """Prices positive, volume non-negative, and each bar's high/low bracketing the rest.

    No tolerance is given for open or close outside [low, high]: the bundled sample has no
    such bar, and a tolerance should answer real data rather than anticipate it.
    """
    frame = table.frame
    for column in (name for name in _PRICES if name in frame.columns):
        bad = frame[column] <= 0
        if bad.any():
            row = _first_row(table, bad)
            value = frame.at[row, column]
            raise DataValidationError(
                f"{table.where(row)}: column {column} has non-positive price {value}"
            )
    bad = frame["volume"] < 0
    if bad.any():
        row = _first_row(table, bad)
        raise DataValidationError(
            f"{table.where(row)}: column volume is negative ({frame.at[row, 'volume']})"
        )
    bad = frame["high"] < frame["low"]
    if bad.any():
        row = _first_row(table, bad)
        raise DataValidationError(
            f"{table.where(row)}: high {frame.at[row, 'high']} < low {frame.at[row, 'low']}"
        )
    for column in ("open", "close"):
        bad = (frame[column] > frame["high"]) | (frame[column] < frame["low"])
        if bad.any():
            row = _first_row(table, bad)
            raise DataValidationError(
                f"{table.where(row)}: column {column} {frame.at[row, column]} lies outside "
                f"low {frame.at[row, 'low']} .. high {frame.at[row, 'high']}"
            )


def require_history(panel: pd.DataFrame, needed_rows: int, purpose: str) -> None:
    """Fail early, naming the short tickers, when a step needs more rows than a ticker has.

    Feature warm-up and cross-validation would otherwise fail deep inside with an empty
    fold, or quietly train on a handful of rows.
    """
    if panel.empty:
        raise DataValidationError(f"the panel has no rows; {purpose} needs at least {needed_rows}")
    counts = ticker_rows(panel.index)
    short = counts[counts < needed_rows].sort_index()
    if not short.empty:
        listed = ", ".join(f"ticker {ticker} has {count} rows" for ticker, count in short.items())
        raise DataValidationError(f"{listed}; {purpose} needs at least {needed_rows}")


def ticker_rows(index: pd.Index) -> pd.Series:
    """Rows per ticker present in ``index``, counted from the level codes of a (ticker, date)
    index without materialising a ticker per row (a groupby on the level does)."""
    if not isinstance(index, pd.MultiIndex):
        return pd.Series(0, index=index).groupby(level=TICKER_LEVEL).size()
    number = index.names.index(TICKER_LEVEL)
    levels = index.levels[number]
    counts = pd.Series(np.bincount(index.codes[number], minlength=len(levels)), index=levels)
    return counts[counts > 0]
