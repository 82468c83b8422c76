"""Per-date (cross-sectional) correlations on a date x ticker grid, in whole-array passes.

`stockml.validation.metrics.daily_correlations` groups rows by date; the portfolio evaluation
instead holds its forecasts as a grid (NaN where a ticker has no row) and correlates them with
a dozen grids of realised returns (the label, then each IC-decay horizon). On a 1M-row holdout
a grouped pass per grid, or scipy's NaN-aware ``rankdata``, took seconds; here every step is a
row-wise numpy reduction over the whole grid, with the same rules as ``daily_correlations``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Fewest tickers on a date for its cross-sectional correlation to count (see
# `stockml.validation.metrics.regression_metrics`).
MIN_NAMES_PER_DATE = 3


def date_grid(dates: object, *columns: np.ndarray) -> tuple[pd.Index, list[np.ndarray]]:
    """(the sorted distinct dates, each column as a date x slot grid): row ``i`` of a grid holds
    the values of the rows on the ``i``-th date, left-aligned, NaN after them.

    A per-date correlation only needs each date's rows side by side, not which ticker is in
    which column, so rows given with their dates alone (CV folds, `regression_metrics`) get
    the grid functions' whole-array passes instead of a pandas groupby per metric. One stable
    sort by date code places every row; the grid is as wide as the busiest date.
    """
    codes, uniques = pd.factorize(pd.Index(dates), sort=True)
    counts = np.bincount(codes, minlength=len(uniques))
    order = np.argsort(codes, kind="stable")
    starts = np.cumsum(counts) - counts
    slot = np.arange(len(codes)) - np.repeat(starts, counts)
    rows, shape = codes[order], (len(uniques), int(counts.max(initial=0)))
    grids = []
    for column in columns:
        grid = np.full(shape, np.nan)
        grid[rows, slot] = np.asarray(column, dtype=float)[order]
        grids.append(grid)
    return uniques, grids


def grid_ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (1 = lowest) within each row of a grid; cells that are not finite (NaN
    where a ticker has no row) are left out, and NaN.

    One row-wise argsort, then ties found as runs of equal sorted values: each member of a
    run gets the mean of the run's first and last position, which is what ``rankdata`` and
    pandas' ``rank`` give. The left-out cells are sorted as +inf, after every finite value:
    numpy's vectorised sort is skipped for arrays holding NaN, which made ranking 2-3x slower.
    """
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    if values.size == 0:
        return np.full(values.shape, np.nan)
    filled = np.where(finite, values, np.inf)
    order = np.argsort(filled, axis=1)  # any order within a tie: ties share one rank
    ordered = np.take_along_axis(filled, order, axis=1)
    n = values.shape[1]
    position = np.broadcast_to(np.arange(n, dtype=float), values.shape)
    starts = np.ones(values.shape, dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    if not (~starts & np.isfinite(ordered)).any():
        sorted_ranks = position + 1.0  # no ties among known cells: the ordinal rank
    else:
        ends = np.ones(values.shape, dtype=bool)
        ends[:, :-1] = starts[:, 1:]
        first = np.maximum.accumulate(np.where(starts, position, 0.0), axis=1)
        last = np.minimum.accumulate(np.where(ends, position, n)[:, ::-1], axis=1)[:, ::-1]
        sorted_ranks = (first + last) / 2.0 + 1.0
    ranks = np.empty(values.shape)
    np.put_along_axis(ranks, order, sorted_ranks, axis=1)
    return np.where(finite, ranks, np.nan)


def grid_correlations(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    rank: bool = False,
    pred_ranks: np.ndarray | None = None,
) -> np.ndarray:
    """``daily_correlations`` for a date x ticker grid (NaN where a ticker has no row): one
    value per grid row, by the same rules (NaN with fewer than ``MIN_NAMES_PER_DATE`` names
    or a constant side).

    A cell is used where both sides are known. The IC decay correlates one forecast with
    many horizons' returns; it passes ``pred_ranks`` (``grid_ranks(y_pred)``) so that the
    forecast is re-ranked only on the rows where some return is unknown.
    """
    known = np.isfinite(y_true) & np.isfinite(y_pred)
    x, y = np.where(known, y_true, np.nan), np.where(known, y_pred, np.nan)
    if rank:
        x = grid_ranks(x)
        if pred_ranks is None:
            y = grid_ranks(y)
        else:
            stale = (known != np.isfinite(y_pred)).any(axis=1)
            y, masked = pred_ranks.copy(), y
            y[stale] = grid_ranks(masked[stale])
    return _row_pearson(x, y, known)


def _row_pearson(x: np.ndarray, y: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row's ``known`` cells (``x`` and ``y`` are NaN elsewhere):
    means, then centred dot products, with unknown cells zeroed in place rather than skipped
    by NaN-aware reductions, which copy the grid on every call."""
    count = known.sum(axis=1)
    centred = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for side in (x, y):
            values = np.where(known, side, 0.0)
            values -= (values.sum(axis=1) / count)[:, None]
            values *= known
            centred.append(values)
        # Exact: a constant side has a spread of exactly 0 (its centred values may not).
        constant = [np.fmax.reduce(side, axis=1) == np.fmin.reduce(side, axis=1) for side in (x, y)]
        dx, dy = centred
        xy = np.einsum("ij,ij->i", dx, dy)
        xx = np.einsum("ij,ij->i", dx, dx)
        yy = np.einsum("ij,ij->i", dy, dy)
        daily = np.clip(xy / np.sqrt(xx * yy), -1.0, 1.0)
    defined = (count >= MIN_NAMES_PER_DATE) & ~constant[0] & ~constant[1]
    return np.where(defined, daily, np.nan)
