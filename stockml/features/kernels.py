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
from numpy.lib.stride_tricks import sliding_window_view
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


def _prepared(values: np.ndarray) -> np.ndarray:
    """float64, infinities as NaN: as in pandas' `Rolling`, an infinity makes its window
    missing rather than infinite."""
    values = np.asarray(values, dtype=np.float64)
    infinite = np.isinf(values)
    if infinite.any():
        values = np.where(infinite, np.nan, values)
    return values


def trailing_sums(series: np.ndarray, window: int) -> np.ndarray:
    """Sum of each row's last ``window`` values, along the last axis of ``series``.

    Built by doubling: after k passes each row holds the sum of its last 2^k rows, and a
    window's sum adds the spans of its binary digits, each ending where the previous one
    starts. That is about log2(window) + popcount(window) vectorised passes, several times
    cheaper than pandas' per-row running sums, and each sum is a fixed pairwise tree over
    exactly the window's rows: it never drifts along a long series and does not depend on
    any row before the window (a fold's panel and the whole one give the same bits). A NaN
    in the window makes the sum NaN. Rows before the first full window hold no sum: callers
    mask the rows their windows cut short.
    """
    length = series.shape[-1]
    digits: list[tuple[int, np.ndarray]] = []  # (span, sums of that span), largest last
    level, span = series, 1
    while True:
        if window & span:
            digits.append((span, level))
        if span * 2 > window:
            break
        doubled = np.empty_like(level)
        doubled[..., :span] = np.nan  # no earlier rows: only cut-short windows reach these
        np.add(level[..., span:], level[..., : max(length - span, 0)], out=doubled[..., span:])
        level, span = doubled, span * 2
    covered, total = digits.pop()
    if total is series:
        total = total.copy()
    for span, sums in reversed(digits):  # the next span ends where the covered rows start
        total[..., covered:] += sums[..., : max(length - covered, 0)]
        total[..., : min(covered, length)] = np.nan
        covered += span
    return total


def _window_sums(series: list[np.ndarray], windows: TickerWindows) -> np.ndarray:
    """`trailing_sums` of several series at once (each doubling pass serves all of them),
    NaN on the rows whose window their ticker's start cuts short."""
    stacked = series[0][np.newaxis] if len(series) == 1 else np.stack(series)  # only read
    sums = trailing_sums(stacked, windows.window_size)
    sums[:, windows.partial] = np.nan
    return sums


def rolling_sum(values: np.ndarray, windows: TickerWindows) -> np.ndarray:
    """``Rolling.sum``: pairwise, so within a few roundings of the summed magnitudes, and
    exact for whole numbers whose sums stay below 2^53 (volumes)."""
    return _window_sums([_prepared(values)], windows)[0]


def rolling_mean(values: np.ndarray, windows: TickerWindows) -> np.ndarray:
    return rolling_sum(values, windows) / windows.window_size


# Largest ratio of a window's sum of squares to its sum of squared deviations trusted from
# the one-pass formula, whose relative error is about 2 (log2(window) + popcount(window))
# roundings times that ratio: below 1e-10 here. Rows beyond it are recomputed from their own
# values (on synthetic prices: a fifth of 5-row windows of close, none of 20-row ones).
CONDITION_LIMIT = 1e4
# Values those rows are recomputed from at a time: a long flat stretch under a long window
# (a halted stock) stays a few MiB.
EXACT_CHUNK_VALUES = 2**20


def _spreads(series: list[np.ndarray], windows: TickerWindows) -> list[np.ndarray]:
    """Each window's sum of squared deviations from its mean, of one series ``[x]``, or for
    a pair ``[x, y]`` those of x and of y and the sum of cross deviations; NaN where a value
    of the window is missing (either side's, for a pair, as in pandas) or the window is cut
    short, and exactly 0 for a constant window.

    One pass of window sums gives them as sum(x y) - sum(x) sum(y) / n, several times cheaper
    than pandas' per-row updates. That difference cancels digits where the deviations are
    small beside the values (a nearly flat window, a short window of a high-priced series):
    rows past `CONDITION_LIMIT` are recomputed from their own values, two-pass, so every
    value is within about 1e-10 of exact (returns and volumes: about 1e-13), closer than
    pandas' running updates on the same windows (a correlation: 1e-6).
    """
    values = [_prepared(item) for item in series]
    if len(values) == 2:  # a pair is missing where either side is
        with np.errstate(invalid="ignore"):
            values = [values[0] + 0 * values[1], values[1] + 0 * values[0]]
    pairs = [(0, 0)] if len(values) == 1 else [(0, 0), (1, 1), (0, 1)]
    window = windows.window_size
    sums = _window_sums(values + [values[i] * values[j] for i, j in pairs], windows)
    totals, products = sums[: len(values)], sums[len(values) :]
    spreads = [
        product - totals[i] * (totals[j] / window)
        for (i, j), product in zip(pairs, products, strict=True)
    ]
    with np.errstate(invalid="ignore"):  # NaN rows compare False: nothing to recompute
        doubtful = np.logical_or.reduce(
            [spreads[i] * CONDITION_LIMIT <= products[i] for i in range(len(values))]
        )
    rows = np.flatnonzero(doubtful)
    chunk = max(1, EXACT_CHUNK_VALUES // window)
    for first in range(0, len(rows), chunk):
        some = rows[first : first + chunk]
        for spread, exact in zip(spreads, _exact_spreads(values, pairs, some, window), strict=True):
            spread[some] = exact
    return spreads


def _exact_spreads(
    values: list[np.ndarray], pairs: list[tuple[int, int]], rows: np.ndarray, window: int
) -> list[np.ndarray]:
    """`_spreads` of the windows ending at ``rows``, two-pass from their own values; exactly 0
    for a side that is constant in the window (its mean may round off the value itself)."""
    deviations = []
    for series in values:
        in_windows = sliding_window_view(series, window)[rows - (window - 1)]
        deviation = in_windows - in_windows.mean(axis=1, keepdims=True)
        deviation[in_windows.max(axis=1) == in_windows.min(axis=1)] = 0.0
        deviations.append(deviation)
    return [np.einsum("ij,ij->i", deviations[i], deviations[j]) for i, j in pairs]


def rolling_std(values: np.ndarray, windows: TickerWindows, ddof: int = 1) -> np.ndarray:
    """``Rolling.std``, exactly 0 for a constant window (see `_spreads`)."""
    window = windows.window_size
    if window <= ddof:
        return np.full(len(values), np.nan)
    (spread,) = _spreads([values], windows)
    return np.sqrt(spread / (window - ddof))


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
        extreme(spanned[shift:], spanned[: max(len(spanned) - shift, 0)], out=combined[shift:])
        spanned, span = combined, span + shift
    result = spanned.copy() if window == 1 else spanned
    result[windows.partial] = np.nan
    return result


def rolling_min(values: np.ndarray, windows: TickerWindows) -> np.ndarray:
    return _rolling_extreme(values, windows, largest=False)


def rolling_max(values: np.ndarray, windows: TickerWindows) -> np.ndarray:
    return _rolling_extreme(values, windows, largest=True)


def _window_loop(
    loop: Callable[..., np.ndarray], values: np.ndarray, windows: TickerWindows
) -> np.ndarray:
    """pandas' own Cython loop behind ``Series.rolling(windows).<statistic>()``, called with
    what `Rolling` would pass it: the `_prepared` values, the windows' bounds and
    ``min_periods == window``; skipped is only `Rolling`'s per-call set-up (Series,
    validation, result wrapping), 10-40% of a block's cost."""
    start, end = windows.bounds
    return loop(_prepared(values), start, end, windows.window_size)


def rolling_skew(values: np.ndarray, windows: TickerWindows) -> np.ndarray:
    """``Rolling.skew``, by pandas' loop: pairwise third moments would cost more than it."""
    return _window_loop(window_loops.roll_skew, values, windows)


def rolling_kurt(values: np.ndarray, windows: TickerWindows) -> np.ndarray:
    """``Rolling.kurt``, by pandas' loop: pairwise fourth moments would cost more than it."""
    return _window_loop(window_loops.roll_kurt, values, windows)


def rolling_corr(left: np.ndarray, right: np.ndarray, windows: TickerWindows) -> np.ndarray:
    """``Series.rolling(windows).corr(other)``: Pearson's correlation of each window's pairs;
    NaN where either side is missing in the window (NaN or infinite, as in pandas) or
    constant in it (see `_spreads`)."""
    left_spread, right_spread, cross = _spreads([left, right], windows)
    spread = left_spread * right_spread
    spread[spread == 0.0] = np.nan
    return cross / np.sqrt(spread)


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
