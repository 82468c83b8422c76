"""Small design matrices shaped like `make_design_matrix`'s, for the CV and fitting tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def panel_design(
    *, n_dates: int, n_tickers: int, n_columns: int, seed: int, signal: float
) -> tuple[pd.DataFrame, pd.Series]:
    """A time-ordered float32 (date, ticker) matrix in one block, and a label that is
    ``signal`` times its first column plus noise."""
    index = pd.MultiIndex.from_product(
        [pd.bdate_range("2020-01-01", periods=n_dates), [f"T{i}" for i in range(n_tickers)]],
        names=["date", "ticker"],
    )
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((n_columns, len(index)), dtype=np.float32)
    columns = [chr(ord("a") + i) for i in range(n_columns)]
    X = pd.DataFrame(values.T, index=index, columns=columns, copy=False)
    y = pd.Series(values[0] * signal + rng.standard_normal(len(index)), index=index, name="y")
    return X, y
