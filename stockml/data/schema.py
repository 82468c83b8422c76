"""The one in-memory form of market data that every stockml component accepts.

A *panel* is a DataFrame indexed by a two-level MultiIndex ``(ticker, date)``, sorted by
ticker then date, with float64 columns ``open, high, low, close, volume``. A single series
is a panel of one ticker, so no component needs a second code path for it.

The ``date`` level holds each bar's tz-naive local timestamp: midnight for daily bars, the
bar's clock time for intraday bars. Every horizon, gap and window counts bars (positions on
that level), never calendar days, so the same code serves both.
"""

from __future__ import annotations

import pandas as pd

PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
TICKER_LEVEL = "ticker"
DATE_LEVEL = "date"


class DataValidationError(ValueError):
    """Bad input data; the message is one line naming the source, ticker and column or row."""


def make_panel_index(tickers: pd.Index | list[str], dates: pd.DatetimeIndex) -> pd.MultiIndex:
    """The canonical (ticker, date) index for a rectangular panel."""
    return pd.MultiIndex.from_product([list(tickers), dates], names=[TICKER_LEVEL, DATE_LEVEL])


def format_stamp(stamp: pd.Timestamp) -> str:
    """A bar's timestamp as people write it: the date alone for a daily (midnight) bar."""
    return stamp.strftime(stamp_format(pd.DatetimeIndex([stamp])))


def stamp_format(dates: pd.DatetimeIndex | pd.Series) -> str:
    """The strftime format that writes ``dates`` without losing a bar: times only if needed."""
    stamps = pd.DatetimeIndex(dates)
    return "%Y-%m-%d" if (stamps == stamps.normalize()).all() else "%Y-%m-%d %H:%M:%S"


def panel_dates(frame: pd.DataFrame | pd.Series) -> pd.DatetimeIndex:
    """The date of every row, whether the frame is a panel or a plain date-indexed frame."""
    index = frame.index
    if isinstance(index, pd.MultiIndex):
        return pd.DatetimeIndex(index.get_level_values(DATE_LEVEL))
    return pd.DatetimeIndex(index)
