"""What a formula reads: the whole panel's price columns, its date codes and preset features.

Formulas are evaluated on the whole (ticker-major) panel at once, not on the builder's blocks
of tickers, because a cross-sectional operator needs every ticker of a date.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from stockml.data.schema import PRICE_COLUMNS, panel_dates
from stockml.features.panel import PanelArrays

if TYPE_CHECKING:
    from stockml.features.spec import Feature


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
        codes, _ = pd.factorize(panel_dates(panel))
        return cls(arrays, codes, features, shared)

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
