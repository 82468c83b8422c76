"""Vectorised causal building blocks over the long (ticker-major) arrays of a panel.

Every window ends at the current row, so a value never depends on later rows, and is clipped
at the first row of its ticker (`TickerWindows`), so a ticker never sees its neighbour. Only
full windows produce a value (``min_periods == window``): a partial window would make early
values incomparable with later ones. `ewm` is recursive and runs along the rows of the padded
matrix from `PanelArrays.to_padded` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import numpy as np
import pandas as pd
from pandas._libs.window import aggregations as window_loops
from pandas.api.indexers import BaseIndexer
from scipy.signal import lfilter

# Rows `rolling_rank` counts at a time: their values and counts (~0.6 MiB) stay in the L2
# cache while every lag of the window passes over them.
RANK_CHUNK = 2**16


class TickerWindows(BaseIndexer):
    """Trailing windows of ``window_size`` rows that never start before their ticker does.

    pandas restarts its running sums whenever a window starts at or after the previous one's
    end, i.e. exactly at each ticker's first row; masking the first rows of a ticker after a
    plain rolling call would instead leave rounding residue from the previous ticker in
    running variances (a $100,000 stock next to a $20 one skews the $20 one's std by 1e-3).

    ``row_ends`` (1, 2, ..., n) and ``partial`` (see `partial`) may come from a caller that
    shares them between window lengths (`PanelArrays.windows`), saving passes over the rows.
    """

    def __init__(
        self,
        first_row: np.ndarray,
        window_size: int,
        *,
        row_ends: np.ndarray | None = None,
        partial: np.ndarray | None = None,
    ) -> None:
        end = np.arange(1, len(first_row) + 1, dtype=np.int64) if row_ends is None else row_ends
        start = end - window_size
        np.maximum(start, first_row, out=start)
        super().__init__(window_size=window_size)
        self.bounds = (start, end)
        if partial is not None:
            self.partial = partial

    def get_window_bounds(
        self,
        num_values: int = 0,
        min_periods: int | None = None,
        center: bool | None = None,
        closed: str | None = None,
        step: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        return self.bounds

    @cached_property
    def partial(self) -> np.ndarray:
        """Indices of the rows whose window is cut short by the start of their ticker, to be
        made NaN (found once: the windows are shared by every feature of that length)."""
        start, end = self.bounds
        return np.flatnonzero(end - start < self.window_size)


def _rolling(values: np.ndarray, windows: TickerWindows) -> pd.api.typing.Rolling:
    return pd.Series(values, copy=False).rolling(windows, min_periods=windows.window_size)


def _prepared(values: np.ndarray) -> np.ndarray:
    """What `Rolling` hands its loops (its ``_prep_values``): float64, infinities as NaN."""
    values = np.asarray(values, dtype=np.float64)
    infinite = np.isinf(values)
    if infinite.any():
        values = np.where(infinite, np.nan, values)
    return values


def _window_loop(
    loop: Callable[..., np.ndarray], values: np.ndarray, windows: TickerWindows, *args: int
) -> np.ndarray:
    """pandas' own Cython loop behind ``Series.rolling(windows).<statistic>()``, called with
    what `Rolling` would pass it: the `_prepared` values, the windows' bounds and
    ``min_periods == window``. The same loop on the same input gives the same numbers;
    skipped is only `Rolling`'s per-call set-up (Series, validation, result wrapping), 10-40%
    of a block's cost.
    """
    start, end = windows.bounds
    return loop(_prepared(values), start, end, windows.window_size, *args)


def rolling_mean(values: np.ndarray, windows: TickerWindows) -> np.ndarray:
    return _window_loop(window_loops.roll_mean, values, windows)


def rolling_sum(values: np.ndarray, windows: TickerWindows) -> np.ndarray:
    """``Rolling.sum``; for whole numbers (volumes) as a difference of two running totals.

    When every value is a whole number and their absolute total stays below 2^52, every sum
    pandas' loop forms is exact (its rounding compensation stays zero), so its result is the
    exact window sum, which the running totals give too, in a few vectorised passes instead
    of one pass costing several times as much. Other values take pandas' loop.
    """
    values = _prepared(values)
    missing = np.isnan(values)
    whole = np.where(missing, 0.0, values)
    if not (np.abs(whole).sum() < 2.0**52 and np.array_equal(whole, np.trunc(whole))):
        return _window_loop(window_loops.roll_sum, values, windows)
    window = windows.window_size
    totals = np.concatenate([[0.0], np.cumsum(whole)])
    sums = np.full(len(values), np.nan)
    sums[window - 1 :] = totals[window:] - totals[: len(totals) - window]
    if missing.any():  # pandas' min_periods: a window holding a NaN has no sum
        counts = np.concatenate([[0], np.cumsum(missing)])
        sums[window - 1 :][counts[window:] != counts[: len(counts) - window]] = np.nan
    sums[windows.partial] = np.nan
    return sums


def rolling_std(values: np.ndarray, windows: TickerWindows, ddof: int = 1) -> np.ndarray:
    """``Rolling.std``: the square root of pandas' rolling variance, 0 where rounding left
    the variance negative (pandas' ``zsqrt``)."""
    variance = _window_loop(window_loops.roll_var, values, windows, ddof)
    with np.errstate(invalid="ignore"):
        std = np.sqrt(variance)
    std[variance < 0] = 0.0
    return std


def _rolling_extreme(values: np.ndarray, windows: TickerWindows, largest: bool) -> np.ndarray:
    """``Rolling.max`` (or ``min``) by doubling: after k passes each row holds the extreme of
    its last 2^k rows, and two overlapping such spans cover any window. That is about
    log2(window) + 1 vectorised passes over the long column, several times faster than
    pandas' or SciPy's per-row loops.

    A maximum compares values without arithmetic, so the numbers are pandas' exactly: like
    `Rolling`, infinities count as NaN and a window holding a NaN is NaN (``np.maximum``
    propagates it). Values the doubling reads across a ticker's start only reach rows whose
    window is cut short there, which become NaN.
    """
    extreme = np.maximum if largest else np.minimum
    window = windows.window_size
    spanned, span = _prepared(values), 1
    while span < window:
        # the extreme of the last `span` rows, combined with that of the rows `shift` earlier,
        # is the extreme of the last span + shift rows: doubling, then one top-up pass
        shift = min(span, window - span)
        combined = np.empty_like(spanned)
        combined[:shift] = spanned[:shift]  # no earlier rows: only cut-short windows, NaN below
        extreme(spanned[shift:], spanned[: len(spanned) - shift], out=combined[shift:])
        spanned, span = combined, span + shift
    result = spanned.copy() if window == 1 else spanned
    result[windows.partial] = np.nan
    return result


def rolling_min(values: np.ndarray, windows: TickerWindows) -> np.ndarray:
    return _rolling_extreme(values, windows, largest=False)


def rolling_max(values: np.ndarray, windows: TickerWindows) -> np.ndarray:
    return _rolling_extreme(values, windows, largest=True)


def rolling_skew(values: np.ndarray, windows: TickerWindows) -> np.ndarray:
    return _window_loop(window_loops.roll_skew, values, windows)


def rolling_kurt(values: np.ndarray, windows: TickerWindows) -> np.ndarray:
    return _window_loop(window_loops.roll_kurt, values, windows)


def rolling_corr(left: np.ndarray, right: np.ndarray, windows: TickerWindows) -> np.ndarray:
    """``Series.rolling(windows).corr(other)``: pandas (3.x) masks each side with the other's
    missing values (``x + 0 * y``, its ``prep_binary``) and runs one Cython loop; called
    directly here, which skips the Series arithmetic and set-up that cost as much again.
    pandas 2, whose correlation is several loops combined in Python, takes the public API.
    """
    if not hasattr(window_loops, "roll_corr"):
        return _rolling(left, windows).corr(pd.Series(right, copy=False)).to_numpy()
    left, right = np.asarray(left, dtype=np.float64), np.asarray(right, dtype=np.float64)
    with np.errstate(invalid="ignore"):  # 0 * inf: NaN, as intended
        masked_left, masked_right = left + 0 * right, right + 0 * left
    start, end = windows.bounds
    return window_loops.roll_corr(
        _prepared(masked_left), _prepared(masked_right), start, end, windows.window_size
    )


def rolling_rank(values: np.ndarray, windows: TickerWindows) -> np.ndarray:
    """Share of the previous ``window - 1`` values below the current one, ties counting half.

    Counting over lags (a loop over the window, not the rows) is several times faster than
    pandas' skiplist-based rolling rank for the short windows used as features; the counts
    go into the narrowest integer that holds them, and the rows are counted in chunks of
    `RANK_CHUNK` that stay in the CPU cache across the lags, each halving the time again.
    """
    window, n_rows = windows.window_size, len(values)
    doubled = np.zeros(n_rows, dtype=np.min_scalar_type(2 * (window - 1)))
    below = np.empty(min(n_rows, RANK_CHUNK), dtype=bool)
    for first in range(0, n_rows, RANK_CHUNK):
        stop = min(first + RANK_CHUNK, n_rows)
        for lag in range(1, min(window, stop)):  # a lag reaching before row 0 counts none
            start = max(first, lag)
            current, earlier = values[start:stop], values[start - lag : stop - lag]
            flags, counts = below[: stop - start], doubled[start:stop]
            for compare in (np.less, np.less_equal):
                compare(earlier, current, out=flags)
                np.add(counts, flags.view(np.uint8), out=counts)
    rank = doubled / (2.0 * (window - 1))
    rank[np.isnan(values)] = np.nan
    rank[windows.partial] = np.nan
    return rank


def causal_fir(values: np.ndarray, weights: np.ndarray, windows: TickerWindows) -> np.ndarray:
    """sum_k weights[k] * values[t - k] over ``len(weights) == windows.window_size`` rows."""
    filtered = np.convolve(values, weights)[: len(values)]
    filtered[windows.partial] = np.nan
    return filtered


def ewm(padded: np.ndarray, alpha: float, start: int = 0) -> np.ndarray:
    """Exponential moving average along the rows of a padded matrix, one row per ticker.

    Same recursion as pandas' ``ewm(alpha=alpha, adjust=False)``: it is seeded with the value
    at column ``start`` (earlier columns are NaN) and then y[t] = (1 - alpha) y[t-1] + alpha x[t].
    The filter runs on alpha x with the seed in front unscaled: its first output is then the
    seed itself and every later one the same sum, in the same order, so the output needs no
    copy into a NaN-filled matrix when ``start`` is 0.
    """
    if padded.shape[1] <= start:
        return np.full(padded.shape, np.nan)
    scaled = alpha * padded[:, start:]
    scaled[:, 0] = padded[:, start]
    smoothed = lfilter([1.0], [1.0, alpha - 1.0], scaled, axis=1)
    if start == 0:
        return smoothed
    return np.concatenate([np.full((len(padded), start), np.nan), smoothed], axis=1)


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
