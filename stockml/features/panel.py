"""A panel's columns as flat arrays, with the ticker layout the feature kernels need.

Features are computed on the whole long (ticker-major) column at once rather than per ticker,
which is far cheaper than a groupby: rolling windows are clipped at each ticker's first row
(`windows`), lags are masked there (`lag`). Recursive filters (EMAs) carry state for ever, so
they run along the rows of a padded (ticker, row-in-ticker) matrix instead (`to_padded`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from stockml.data.schema import PRICE_COLUMNS, DataValidationError, panel_dates
from stockml.features.kernels import TickerWindows

T = TypeVar("T")


class PanelArrays:
    """Flat float64 OHLCV arrays plus the row position of every bar within its ticker."""

    def __init__(self, columns: dict[str, np.ndarray], lengths: np.ndarray) -> None:
        self.open = columns["open"]
        self.high = columns["high"]
        self.low = columns["low"]
        self.close = columns["close"]
        self.volume = columns["volume"]
        self.lengths = lengths
        self.starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        self.codes = np.repeat(np.arange(len(lengths)), lengths)
        self.first_row = np.repeat(self.starts, lengths)
        self.position = np.arange(int(lengths.sum())) - self.first_row
        self._rectangular = bool(np.all(lengths == lengths[0]))
        self._cache: dict[Hashable, Any] = {}

    @classmethod
    def from_panel(cls, panel: pd.DataFrame) -> PanelArrays:
        """Check the parts of the panel contract the kernels rely on and take the columns.

        A frame without a ticker level is treated as a single ticker.
        """
        if not isinstance(panel, pd.DataFrame):
            raise DataValidationError(f"features: expected a panel DataFrame, got {type(panel)}")
        missing = [name for name in PRICE_COLUMNS if name not in panel.columns]
        if missing:
            raise DataValidationError(f"features: panel lacks column(s) {missing}")
        if len(panel) == 0:
            raise DataValidationError("features: the panel has no rows")
        if isinstance(panel.index, pd.MultiIndex):
            # the index's own level codes: no per-row ticker values to build and factorize
            codes = panel.index.codes[0].astype(np.int64)
            starts = np.flatnonzero(np.diff(codes, prepend=-1))
            if len(np.unique(codes[starts])) != len(starts):
                raise DataValidationError("features: panel rows must be sorted by ticker")
            lengths = np.diff(np.append(starts, len(codes)))
        else:
            codes = np.zeros(len(panel), dtype=np.int64)
            lengths = np.array([len(panel)])
        dates = panel_dates(panel).asi8
        same_ticker = np.diff(codes) == 0
        if np.any(np.diff(dates)[same_ticker] <= 0):
            raise DataValidationError("features: dates must increase strictly within each ticker")
        columns = {name: panel[name].to_numpy(dtype=np.float64) for name in PRICE_COLUMNS}
        return cls(columns, lengths)

    def tickers(self, first: int, stop: int) -> PanelArrays:
        """The tickers numbered ``first`` to ``stop - 1`` alone (their columns are views)."""
        start, end = self.starts[first], self.starts[first] + self.lengths[first:stop].sum()
        columns = {name: getattr(self, name)[start:end] for name in PRICE_COLUMNS}
        return PanelArrays(columns, self.lengths[first:stop])

    @property
    def n_rows(self) -> int:
        return len(self.position)

    def cached(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Memoise an intermediate (a return series, a rolling max) shared by several features."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def windows(self, window: int) -> TickerWindows:
        """Trailing windows of ``window`` rows that stay within each ticker."""

        def build() -> TickerWindows:
            row_ends = self.cached(
                "row_ends", lambda: np.arange(1, self.n_rows + 1, dtype=np.int64)
            )
            # a window is cut short exactly on the first window - 1 rows of each ticker
            partial = self.leading_rows(window - 1)
            return TickerWindows(self.first_row, window, row_ends=row_ends, partial=partial)

        return self.cached(("windows", window), build)

    def lag(self, values: np.ndarray, periods: int) -> np.ndarray:
        """``values`` shifted ``periods`` rows down within each ticker, NaN where unknown."""
        if periods == 0:
            return values
        lagged = np.empty_like(values)
        lagged[:periods] = np.nan
        lagged[periods:] = values[:-periods]
        lagged[self.leading_rows(periods)] = np.nan
        return lagged

    def leading_rows(self, count: int) -> np.ndarray:
        """Indices of the first ``count`` rows of every ticker (the warm-up to mask)."""
        offsets = np.arange(count)
        rows = self.starts[:, None] + offsets[None, :]
        return rows[offsets[None, :] < self.lengths[:, None]]

    def to_padded(self, values: np.ndarray) -> np.ndarray:
        """(ticker, row-in-ticker) matrix, NaN past each ticker's end; a view when rectangular
        (the long column is ticker-major, so each ticker's rows are already contiguous)."""
        n_tickers, longest = len(self.lengths), int(self.lengths.max())
        if self._rectangular:
            return values.reshape(n_tickers, longest)
        padded = np.full((n_tickers, longest), np.nan)
        padded[self.codes, self.position] = values
        return padded

    def from_padded(self, padded: np.ndarray) -> np.ndarray:
        """Inverse of `to_padded`: back to the long row order (a view when rectangular)."""
        if self._rectangular:
            return padded.reshape(-1)
        return padded[self.codes, self.position]
