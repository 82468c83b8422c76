"""Vectorised causal building blocks over the long (ticker-major) arrays of a panel.

Every window ends at the current row, so a value never depends on later rows, and is clipped
at the first row of its ticker (`TickerWindows`), so a ticker never sees its neighbour. Only
full windows produce a value (``min_periods == window``): a partial window would make early
values incomparable with later ones. `ewm` is recursive and runs on the padded matrix from
`PanelArrays.to_padded` instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.indexers import BaseIndexer
from scipy.signal import lfilter


class TickerWindows(BaseIndexer):
    """Trailing windows of ``window_size`` rows that never start before their ticker does.

    pandas restarts its running sums whenever a window starts at or after the previous one's
    end, i.e. exactly at each ticker's first row; masking the first rows of a ticker after a
    plain rolling call would instead leave rounding residue from the previous ticker in
    running variances (a $100,000 stock next to a $20 one skews the $20 one's std by 1e-3).
    """

    def __init__(self, first_row: np.ndarray, window_size: int) -> None:
        end = np.arange(1, len(first_row) + 1, dtype=np.int64)
        start = np.maximum(end - window_size, first_row).astype(np.int64)
        super().__init__(window_size=window_size)
        self.bounds = (start, end)

    def get_window_bounds(
        self,
        num_values: int = 0,
        min_periods: int | None = None,
        center: bool | None = None,
        closed: str | None = None,
        step: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        return self.bounds

    def partial(self) -> np.ndarray:
        """Mask of the rows whose window is cut short by the start of their ticker."""
        start, end = self.bounds
        return end - start < self.window_size


def _rolling(values: np.ndarray, windows: TickerWindows) -> pd.api.typing.Rolling:
    return pd.Series(values, copy=False).rolling(windows, min_periods=windows.window_size)


def rolling_mean(values: np.ndarray, windows: TickerWindows) -> np.ndarray:
    return _rolling(values, windows).mean().to_numpy()


def rolling_sum(values: np.ndarray, windows: TickerWindows) -> np.ndarray:
    return _rolling(values, windows).sum().to_numpy()


def rolling_std(values: np.ndarray, windows: TickerWindows, ddof: int = 1) -> np.ndarray:
    return _rolling(values, windows).std(ddof=ddof).to_numpy()


def rolling_min(values: np.ndarray, windows: TickerWindows) -> np.ndarray:
    return _rolling(values, windows).min().to_numpy()


def rolling_max(values: np.ndarray, windows: TickerWindows) -> np.ndarray:
    return _rolling(values, windows).max().to_numpy()


def rolling_skew(values: np.ndarray, windows: TickerWindows) -> np.ndarray:
    return _rolling(values, windows).skew().to_numpy()


def rolling_kurt(values: np.ndarray, windows: TickerWindows) -> np.ndarray:
    return _rolling(values, windows).kurt().to_numpy()


def rolling_corr(left: np.ndarray, right: np.ndarray, windows: TickerWindows) -> np.ndarray:
    return _rolling(left, windows).corr(pd.Series(right, copy=False)).to_numpy()


def rolling_rank(values: np.ndarray, windows: TickerWindows) -> np.ndarray:
    """Share of the previous ``window - 1`` values below the current one, ties counting half.

    Counting over lags (a loop over the window, not the rows) is several times faster than
    pandas' skiplist-based rolling rank for the short windows used as features.
    """
    window = windows.window_size
    doubled = np.zeros(len(values), dtype=np.int32)
    for lag in range(1, window):
        current, earlier = values[lag:], values[:-lag]
        doubled[lag:] += earlier < current
        doubled[lag:] += earlier <= current
    rank = doubled / (2.0 * (window - 1))
    rank[np.isnan(values) | windows.partial()] = np.nan
    return rank


def causal_fir(values: np.ndarray, weights: np.ndarray, windows: TickerWindows) -> np.ndarray:
    """sum_k weights[k] * values[t - k] over ``len(weights) == windows.window_size`` rows."""
    filtered = np.convolve(values, weights)[: len(values)]
    filtered[windows.partial()] = np.nan
    return filtered


def ewm(padded: np.ndarray, alpha: float, start: int = 0) -> np.ndarray:
    """Exponential moving average down the rows of a padded matrix, one column per ticker.

    Same recursion as pandas' ``ewm(alpha=alpha, adjust=False)``: it is seeded with the value
    at row ``start`` (earlier rows are NaN) and then y[t] = (1 - alpha) y[t-1] + alpha x[t].
    """
    smoothed = np.full(padded.shape, np.nan)
    if padded.shape[0] <= start:
        return smoothed
    seed = padded[start]
    smoothed[start] = seed
    if padded.shape[0] > start + 1:
        initial = ((1.0 - alpha) * seed)[None, :]
        smoothed[start + 1 :], _ = lfilter(
            [alpha], [1.0, alpha - 1.0], padded[start + 1 :], axis=0, zi=initial
        )
    return smoothed


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator with NaN, not inf, where the denominator is zero."""
    with np.errstate(divide="ignore", invalid="ignore"):
        result = numerator / denominator
    result[denominator == 0] = np.nan
    return result


def safe_log(values: np.ndarray) -> np.ndarray:
    """Natural log with NaN, not -inf or a warning, for non-positive values."""
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.log(values)
    result[~np.isfinite(result)] = np.nan
    return result


def log_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """log(numerator / denominator), NaN where either side is not positive."""
    return safe_log(ratio(numerator, denominator))
