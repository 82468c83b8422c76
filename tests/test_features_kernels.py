"""The rolling kernels that call pandas' Cython loops directly give exactly what the public
`Series.rolling(...)` API gives, NaN, infinities and flat stretches included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stockml.features import kernels
from stockml.features.kernels import TickerWindows


def _ragged_values() -> tuple[np.ndarray, np.ndarray]:
    """Three tickers of different lengths and price levels, with NaN, +-inf and a constant
    stretch (whose rolling variance rounding can leave slightly negative)."""
    rng = np.random.default_rng(0)
    lengths = [120, 45, 200]
    levels = [5.0, 1e5, 40.0]
    values = np.concatenate(
        [level * np.exp(rng.normal(0, 0.02, n)) for level, n in zip(levels, lengths, strict=True)]
    )
    values[[3, 50, 170]] = np.nan
    values[[10, 180]] = [np.inf, -np.inf]
    values[250:290] = 0.1
    first_row = np.repeat(np.cumsum([0, *lengths[:-1]]), lengths)
    return values, first_row


@pytest.mark.parametrize("window", [1, 2, 4, 5, 20])
@pytest.mark.parametrize(
    ("kernel", "public"),
    [
        (kernels.rolling_mean, lambda rolling: rolling.mean()),
        (kernels.rolling_sum, lambda rolling: rolling.sum()),
        (kernels.rolling_std, lambda rolling: rolling.std()),
        (lambda v, w: kernels.rolling_std(v, w, ddof=0), lambda rolling: rolling.std(ddof=0)),
        (kernels.rolling_skew, lambda rolling: rolling.skew()),
        (kernels.rolling_kurt, lambda rolling: rolling.kurt()),
    ],
    ids=["mean", "sum", "std", "std ddof 0", "skew", "kurt"],
)
def test_kernels_equal_the_public_rolling_api(kernel, public, window: int) -> None:
    values, first_row = _ragged_values()
    windows = TickerWindows(first_row, window)
    expected = public(pd.Series(values).rolling(windows, min_periods=window)).to_numpy()
    np.testing.assert_array_equal(kernel(values, windows), expected)
