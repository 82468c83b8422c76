"""The rolling kernels that call pandas' Cython loops directly give exactly what the public
`Series.rolling(...)` API gives, NaN, infinities and flat stretches included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stockml.data.schema import PRICE_COLUMNS
from stockml.features import kernels
from stockml.features.kernels import TickerWindows
from stockml.features.panel import PanelArrays


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
        (kernels.rolling_min, lambda rolling: rolling.min()),
        (kernels.rolling_max, lambda rolling: rolling.max()),
    ],
    ids=["mean", "sum", "std", "std ddof 0", "skew", "kurt", "min", "max"],
)
def test_kernels_equal_the_public_rolling_api(kernel, public, window: int) -> None:
    values, first_row = _ragged_values()
    windows = TickerWindows(first_row, window)
    expected = public(pd.Series(values).rolling(windows, min_periods=window)).to_numpy()
    np.testing.assert_array_equal(kernel(values, windows), expected)


@pytest.mark.parametrize("window", [1, 2, 5, 20])
def test_rolling_corr_equals_the_public_rolling_api(window: int) -> None:
    """Either side's NaN and infinities mask the other, as pandas' pairwise preparation does."""
    values, first_row = _ragged_values()
    other = np.roll(values, 7) * np.linspace(1.0, 3.0, len(values)) + np.sin(np.arange(365))
    other[[20, 60]] = [np.nan, np.inf]
    windows = TickerWindows(first_row, window)
    rolling = pd.Series(values).rolling(windows, min_periods=window)
    expected = rolling.corr(pd.Series(other)).to_numpy()
    np.testing.assert_array_equal(kernels.rolling_corr(values, other, windows), expected)


@pytest.mark.parametrize("kernel", ["min", "max"])
def test_rolling_extremes_of_equal_length_tickers_treat_infinities_as_pandas_does(
    kernel: str,
) -> None:
    """Equal-length tickers without NaN once took a path of their own that kept infinities
    (pandas counts them as missing, so their windows are NaN)."""
    values = np.exp(np.random.default_rng(1).normal(0, 0.02, 300))
    values[[40, 210]] = [np.inf, -np.inf]
    windows = TickerWindows(np.repeat([0, 100, 200], 100), 6)
    expected = getattr(pd.Series(values).rolling(windows, min_periods=6), kernel)().to_numpy()
    np.testing.assert_array_equal(getattr(kernels, f"rolling_{kernel}")(values, windows), expected)


@pytest.mark.parametrize("window", [2, 5, 20])
def test_rolling_rank_is_pandas_average_rank_across_count_chunks(
    window: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting chunks shorter than the window (forced here) change no count; on tie-heavy
    values the share below (ties half) is pandas' average rank, rescaled, to the last bit."""
    monkeypatch.setattr(kernels, "RANK_CHUNK", 7)
    values, first_row = _ragged_values()
    values = np.round(np.nan_to_num(values, nan=3.0, posinf=9.0, neginf=0.0), 1)
    windows = TickerWindows(first_row, window)
    pandas_rank = pd.Series(values).rolling(windows, min_periods=window).rank(method="average")
    expected = ((pandas_rank - 1) / (window - 1)).to_numpy()
    np.testing.assert_array_equal(kernels.rolling_rank(values, windows), expected)


@pytest.mark.parametrize("start", [0, 3])
def test_ewm_is_the_plain_recursion_to_the_last_bit(start: int) -> None:
    """y[start] = x[start], then y[t] = (1 - a) y[t-1] + a x[t] along each row, NaN before."""
    padded = np.exp(np.random.default_rng(2).normal(0, 0.3, (3, 40)))
    padded[1, 20] = np.nan
    alpha = 2.0 / 13.0
    expected = np.full(padded.shape, np.nan)
    expected[:, start] = padded[:, start]
    for column in range(start + 1, padded.shape[1]):
        expected[:, column] = (1 - alpha) * expected[:, column - 1] + alpha * padded[:, column]
    np.testing.assert_array_equal(kernels.ewm(padded, alpha, start), expected)
    assert np.isnan(kernels.ewm(padded[:, :2], alpha, start=2)).all()


@pytest.mark.parametrize("window", [1, 3, 8])
def test_a_panels_shared_windows_are_the_windows_of_its_rows(window: int) -> None:
    """`PanelArrays.windows` passes in the row ends and cut-short rows it shares between
    lengths; they are what the windows would find alone, tickers shorter than a window too."""
    lengths = np.array([5, 2, 9])
    arrays = PanelArrays({name: np.ones(16) for name in PRICE_COLUMNS}, lengths)
    shared, alone = arrays.windows(window), TickerWindows(arrays.first_row, window)
    for got, expected in zip(shared.bounds, alone.bounds, strict=True):
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(shared.partial, alone.partial)


@pytest.mark.parametrize("window", [1, 2, 5, 20])
def test_rolling_sums_of_whole_numbers_equal_pandas_loop(window: int) -> None:
    """Volumes and signed volumes (whole numbers, NaN and infinities included) take running
    totals, fractional or huge values pandas' loop; both give `Rolling.sum` to the last bit."""
    values, first_row = _ragged_values()
    windows = TickerWindows(first_row, window)
    for numbers in (np.round(values * 1e3), np.round(values * 1e3) * np.sign(values - 40), values):
        expected = pd.Series(numbers).rolling(windows, min_periods=window).sum().to_numpy()
        np.testing.assert_array_equal(kernels.rolling_sum(numbers, windows), expected)
