"""Per-date (cross-sectional) correlations on a date x ticker grid, in whole-array passes.

`stockml.validation.metrics.daily_correlations` groups rows by date; the portfolio evaluation
instead holds its forecasts as a grid (NaN where a ticker has no row) and correlates them with
a dozen grids of realised returns (the label, then each IC-decay horizon). On a 1M-row holdout
a grouped pass per grid, or scipy's NaN-aware ``rankdata``, took seconds; here every step is a
row-wise numpy reduction over the whole grid, with the same rules as ``daily_correlations``.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    if values.size == 0:
        return np.full(values.shape, np.nan)
    finite = np.isfinite(values)
    complete = bool(finite.all())  # a full grid (the usual label or return grid) skips masking
    filled = values if complete else np.where(finite, values, np.inf)
    order = np.argsort(filled, axis=1)  # any order within a tie: ties share one rank
    tied = _ties(np.sort(filled, axis=1))  # sorting is faster than gathering by `order`
    n = values.shape[1]
    if not tied.any():
        sorted_ranks = np.arange(1.0, n + 1.0)[None, :]  # no ties among known cells: ordinal
    else:
        position = np.broadcast_to(np.arange(n, dtype=float), values.shape)
        starts = np.ones(values.shape, dtype=bool)
        starts[:, 1:] = ~tied
        ends = np.ones(values.shape, dtype=bool)
        ends[:, :-1] = starts[:, 1:]
        first = np.maximum.accumulate(np.where(starts, position, 0.0), axis=1)
        last = np.minimum.accumulate(np.where(ends, position, n)[:, ::-1], axis=1)[:, ::-1]
        sorted_ranks = (first + last) / 2.0 + 1.0
    ranks = np.empty(values.shape)
    np.put_along_axis(ranks, order, sorted_ranks, axis=1)
    if not complete:
        ranks[~finite] = np.nan
    return ranks


def _ties(ordered: np.ndarray) -> np.ndarray:
    """Whether each cell of a row-sorted grid equals the one before it, both finite (the
    left-out cells, sorted as +inf, tie with nothing). A function of its own so that the
    sorted grid is freed before the ranks are made: the IC decay ranks in several threads."""
    tied = ordered[:, 1:] == ordered[:, :-1]
    tied &= np.isfinite(ordered[:, 1:])
    return tied


def grid_correlations(y_true: np.ndarray, y_pred: np.ndarray, rank: bool = False) -> np.ndarray:
    """``daily_correlations`` for a date x ticker grid (NaN where a ticker has no row): one
    value per grid row, by the same rules (NaN with fewer than ``MIN_NAMES_PER_DATE`` names
    or a constant side). A cell is used where both sides are known."""
    return ForecastGrid(y_pred).correlations(y_true)[int(rank)]


class ForecastGrid:
    """A forecast grid prepared once for per-date correlation with many target grids.

    The IC decay correlates one forecast with a dozen grids of realised returns (the label,
    then each horizon). Its ranks, per-date means and centred values depend only on which
    cells are known, which is the same for every target on most dates; they are computed
    once here and redone only on the dates where some target cell is missing.
    """

    def __init__(self, forecast: np.ndarray) -> None:
        self.values = np.asarray(forecast, dtype=float)
        self.present = np.isfinite(self.values)
        self.ranks = grid_ranks(self.values)
        self._sides = (_Side.of(self.values, self.present), _Side.of(self.ranks, self.present))

    def correlations(self, y_true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(per-date IC, per-date rank IC) of the forecast with ``y_true``, over the cells
        where both are known."""
        known = np.isfinite(y_true) & self.present
        count = known.sum(axis=1)
        # Dates with too few names are NaN whatever the forecast side says.
        stale = np.flatnonzero((known != self.present).any(axis=1) & (count >= MIN_NAMES_PER_DATE))
        masked = np.where(known, y_true, np.nan)
        out = []
        for rank, side in enumerate(self._sides):
            target = _Side.of(grid_ranks(masked) if rank else masked, known)
            daily = _row_pearson(target, side, count)
            if stale.size:
                values = np.where(known[stale], self.values[stale], np.nan)
                fresh = _Side.of(grid_ranks(values) if rank else values, known[stale])
                daily[stale] = _row_pearson(target.rows(stale), fresh, count[stale])
            out.append(daily)
        return out[0], out[1]


@dataclass(frozen=True)
class _Side:
    """One side of a per-row Pearson correlation: its values minus the row mean on the known
    cells (0 elsewhere, so plain sums skip them; NaN-aware reductions copy the grid), each
    row's sum of squares of those, and whether the row is constant.

    Constancy is tested exactly, on the values: a constant side has a spread of exactly 0,
    while its centred values may keep float dust.
    """

    centred: np.ndarray
    squares: np.ndarray
    constant: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray, known: np.ndarray) -> _Side:
        """``values`` must be NaN wherever ``known`` is False."""
        with np.errstate(invalid="ignore", divide="ignore"):
            centred = np.where(known, values, 0.0)
            centred -= (centred.sum(axis=1) / known.sum(axis=1))[:, None]
            centred *= known
            constant = np.fmax.reduce(values, axis=1) == np.fmin.reduce(values, axis=1)
        return cls(centred, np.einsum("ij,ij->i", centred, centred), constant)

    def rows(self, rows: np.ndarray) -> _Side:
        return _Side(self.centred[rows], self.squares[rows], self.constant[rows])


def _row_pearson(x: _Side, y: _Side, count: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row, NaN where it is undefined by the rules above."""
    with np.errstate(invalid="ignore", divide="ignore"):
        daily = np.clip(
            np.einsum("ij,ij->i", x.centred, y.centred) / np.sqrt(x.squares * y.squares), -1.0, 1.0
        )
    defined = (count >= MIN_NAMES_PER_DATE) & ~x.constant & ~y.constant
    return np.where(defined, daily, np.nan)
