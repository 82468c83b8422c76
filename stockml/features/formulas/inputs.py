"""What a formula reads: the whole panel's price columns, its date codes and preset features.

Formulas are evaluated on the whole (ticker-major) panel at once, not on the builder's blocks
of tickers, because a cross-sectional operator needs every ticker of a date.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from stockml.data.schema import DATE_LEVEL, PRICE_COLUMNS, panel_dates
from stockml.features.panel import PanelArrays

if TYPE_CHECKING:
    from stockml.features.spec import Feature

# A (date, ticker) matrix is used for cross-sections while it has at most this many cells per
# row of the panel: ranking its rows is several times faster than a group-by on date codes.
DENSE_GRID_CELLS_PER_ROW = 4


class FormulaInputs:
    """The panel as flat arrays, plus what only formulas need.

    ``shared`` holds the keys of the subexpressions that occur more than once in the formula
    set: those are computed once and kept (`remember`); the others are freed as soon as their
    parent has used them, so memory stays a few columns per formula.
    """

    def __init__(
        self,
        arrays: PanelArrays,
        date_codes: np.ndarray,
        features: Mapping[str, Feature],
        shared: frozenset[Hashable] = frozenset(),
    ) -> None:
        self.arrays = arrays
        self.date_codes = date_codes
        self.features = features
        self.shared = shared
        self._memo: dict[Hashable, np.ndarray] = {}

    @classmethod
    def from_panel(
        cls,
        panel: pd.DataFrame,
        arrays: PanelArrays,
        features: Mapping[str, Feature],
        shared: frozenset[Hashable] = frozenset(),
    ) -> FormulaInputs:
        index = panel.index
        if isinstance(index, pd.MultiIndex) and DATE_LEVEL in index.names:
            dates = index.codes[index.names.index(DATE_LEVEL)]  # no hashing of timestamps
        else:
            dates = panel_dates(panel)
        codes, _ = pd.factorize(dates)
        return cls(arrays, codes, features, shared)

    def date_grid(self, values: np.ndarray) -> np.ndarray | None:
        """``values`` as a (date, ticker) matrix, NaN where a ticker has no bar, or None when
        that matrix would be mostly holes (tickers listed over different years): a caller
        then groups the rows by date code instead, slower but in memory proportional to rows.
        """
        n_dates, n_tickers = int(self.date_codes.max()) + 1, len(self.arrays.lengths)
        if n_dates * n_tickers > DENSE_GRID_CELLS_PER_ROW * self.arrays.n_rows:
            return None
        grid = np.full((n_dates, n_tickers), np.nan)
        grid[self.date_codes, self.arrays.codes] = values
        return grid

    def from_date_grid(self, grid: np.ndarray) -> np.ndarray:
        """Inverse of `date_grid`: back to the panel's row order."""
        return grid[self.date_codes, self.arrays.codes]

    def column(self, name: str) -> np.ndarray:
        """A price column or a preset feature's values (computed once, on the whole panel)."""
        if name in PRICE_COLUMNS:
            return getattr(self.arrays, name)
        return self.arrays.cached(
            ("formula_input", name), lambda: self.features[name].compute(self.arrays)
        )

    def remember(self, key: Hashable, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """``compute()``, memoised when ``key`` is a shared subexpression."""
        if key not in self.shared:
            return compute()
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def series(self, value: np.ndarray | float) -> np.ndarray:
        """``value`` as a column: constants broadcast to every row."""
        if isinstance(value, np.ndarray):
            return value
        return np.full(self.arrays.n_rows, float(value))

    def masked(self, values: np.ndarray, warmup: int) -> np.ndarray:
        """A copy of ``values`` with each ticker's first ``warmup`` rows and infinities as NaN:
        what an operator mixing rows (a cross-section, a recursive average) may read."""
        clean = np.where(np.isinf(values), np.nan, values)
        if warmup:
            clean[self.arrays.position < warmup] = np.nan
        return clean
