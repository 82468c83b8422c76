"""The rolling kernels give what the public `Series.rolling(...)` API gives, NaN, infinities
and flat stretches included: to the last bit where they call pandas' loops or only compare
values (skew, kurtosis, min, max, rank), within rounding where they sum windows pairwise
(mean, sum, std, correlation), which is at least as close to exact as pandas."""

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


def _exact_spread(
    values: np.ndarray, other: np.ndarray | None, first_row: np.ndarray, window: int
) -> np.ndarray:
    """std (ddof 1) of ``values``, or with ``other`` their correlation, over each full window,
    two-pass in extended precision: what pandas and the kernels are both measured against."""
    result = np.full(len(values), np.nan)
    for row in range(window - 1, len(values)):
        if row - window + 1 < first_row[row]:
            continue
        left = values[row - window + 1 : row + 1].astype(np.longdouble)
        right = left if other is None else other[row - window + 1 : row + 1].astype(np.longdouble)
        if not (np.isfinite(left).all() and np.isfinite(right).all()):
            continue
        left, right = left - left.mean(), right - right.mean()
        if other is None:
            result[row] = np.sqrt((left * left).sum() / (window - 1))
        elif (left * left).sum() * (right * right).sum() > 0:
            result[row] = (left * right).sum() / np.sqrt(
                (left * left).sum() * (right * right).sum()
            )
    return result


def _other(values: np.ndarray) -> np.ndarray:
    other = np.roll(values, 7) * np.linspace(1.0, 3.0, len(values)) + np.sin(np.arange(365))
    other[[20, 60]] = [np.nan, np.inf]
    return other


@pytest.mark.parametrize("window", [1, 2, 4, 5, 20])
@pytest.mark.parametrize(
    ("kernel", "public"),
    [
        (kernels.rolling_skew, lambda rolling: rolling.skew()),
        (kernels.rolling_kurt, lambda rolling: rolling.kurt()),
        (kernels.rolling_min, lambda rolling: rolling.min()),
        (kernels.rolling_max, lambda rolling: rolling.max()),
    ],
    ids=["skew", "kurt", "min", "max"],
)
def test_loop_and_comparison_kernels_equal_the_public_rolling_api(kernel, public, window: int):
    values, first_row = _ragged_values()
    windows = TickerWindows(first_row, window)
    expected = public(pd.Series(values).rolling(windows, min_periods=window)).to_numpy()
    np.testing.assert_array_equal(kernel(values, windows), expected)


@pytest.mark.parametrize("window", [1, 2, 3, 4, 5, 7, 20, 60])
@pytest.mark.parametrize(
    ("kernel", "public"),
    [
        (kernels.rolling_mean, lambda rolling: rolling.mean()),
        (kernels.rolling_sum, lambda rolling: rolling.sum()),
        (kernels.rolling_std, lambda rolling: rolling.std()),
        (lambda v, w: kernels.rolling_std(v, w, ddof=0), lambda rolling: rolling.std(ddof=0)),
        (
            lambda v, w: kernels.rolling_corr(v, _other(v), w),
            lambda rolling: rolling.corr(pd.Series(_other(rolling.obj.to_numpy()))),
        ),
    ],
    ids=["mean", "sum", "std", "std ddof 0", "corr"],
)
def test_window_sum_kernels_match_the_public_rolling_api(kernel, public, window: int) -> None:
    """Same missing rows and the same exact zeros (flat stretches), values within rounding."""
    values, first_row = _ragged_values()
    windows = TickerWindows(first_row, window)
    expected = public(pd.Series(values).rolling(windows, min_periods=window)).to_numpy()
    got = kernel(values, windows)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_array_equal(got == 0.0, expected == 0.0)
    # pandas' own correlations are off by up to ~2e-6 here (see the test against exact values)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("window", [2, 3, 5, 7, 20])
@pytest.mark.parametrize("statistic", ["std", "corr"])
def test_std_and_corr_are_within_1e8_of_exact_on_every_row(statistic: str, window: int) -> None:
    """Also on a $100,000 stock and on short windows, where the one-pass sums alone cancel
    digits: those rows are recomputed (`CONDITION_LIMIT`). pandas' running correlation is
    off by up to ~1e-6 on the same rows."""
    values, first_row = _ragged_values()
    windows = TickerWindows(first_row, window)
    if statistic == "std":
        got, exact = (
            kernels.rolling_std(values, windows),
            _exact_spread(values, None, first_row, window),
        )
    else:
        other = _other(values)
        got = kernels.rolling_corr(values, other, windows)
        exact = _exact_spread(values, other, first_row, window)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(exact))
    np.testing.assert_allclose(got, exact, rtol=1e-8, atol=1e-13, equal_nan=True)


def test_nearly_flat_windows_of_a_high_priced_series_are_recomputed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """1e5 +- 1e-4: the one-pass sums would lose every digit of such a spread (pandas' running
    updates lose about five)."""
    rng = np.random.default_rng(5)
    values = 1e5 + rng.normal(0.0, 1e-4, 300)
    first_row = np.zeros(300, dtype=np.int64)
    windows = TickerWindows(first_row, 5)
    expected = _exact_spread(values, None, first_row, 5)
    recomputed = kernels.rolling_std(values, windows)
    np.testing.assert_allclose(recomputed, expected, rtol=1e-8)
    monkeypatch.setattr(kernels, "EXACT_CHUNK_VALUES", 7)  # two windows per chunk
    np.testing.assert_array_equal(kernels.rolling_std(values, windows), recomputed)
    monkeypatch.setattr(kernels, "CONDITION_LIMIT", np.inf)
    one_pass = kernels.rolling_std(values, windows)
    assert not np.allclose(one_pass, expected, rtol=1e-3, equal_nan=True)


@pytest.mark.parametrize(
    "kernel",
    [
        kernels.rolling_mean,
        kernels.rolling_sum,
        kernels.rolling_std,
        lambda v, w: kernels.rolling_corr(v, np.sqrt(np.abs(v)), w),
    ],
    ids=["mean", "sum", "std", "corr"],
)
def test_a_window_sum_depends_on_nothing_before_its_window(kernel) -> None:
    """Bit for bit, whatever precedes the window: a fold's panel, which starts later, and the
    whole panel give the same numbers (pandas' running sums carry rounding from earlier rows)."""
    rng = np.random.default_rng(6)
    values = 50.0 * np.exp(np.cumsum(rng.normal(0, 0.02, 400)))
    window = 20
    whole = kernel(values, TickerWindows(np.zeros(400, dtype=np.int64), window))
    later = kernel(values[137:], TickerWindows(np.zeros(263, dtype=np.int64), window))
    np.testing.assert_array_equal(later[window - 1 :], whole[137 + window - 1 :])


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
def test_rolling_sums_of_whole_numbers_are_exact(window: int) -> None:
    """Volumes and signed volumes (whole numbers, NaN and infinities included): every
    pairwise sum is exact, so they equal pandas' `Rolling.sum` to the last bit."""
    values, first_row = _ragged_values()
    windows = TickerWindows(first_row, window)
    for numbers in (np.round(values * 1e3), np.round(values * 1e3) * np.sign(values - 40)):
        expected = pd.Series(numbers).rolling(windows, min_periods=window).sum().to_numpy()
        np.testing.assert_array_equal(kernels.rolling_sum(numbers, windows), expected)


@pytest.mark.parametrize("window", [1, 3, 20])
def test_window_sum_kernels_only_read_their_input(window: int) -> None:
    """Features share intermediates (a cached log return feeds several kernels): a kernel that
    wrote into its input would change its neighbours' numbers."""
    values, first_row = _ragged_values()
    values = np.where(np.isinf(values), np.nan, values)  # no infinities: nothing copies it first
    values.flags.writeable = False
    windows = TickerWindows(first_row, window)
    for kernel in (kernels.rolling_mean, kernels.rolling_sum, kernels.rolling_std):
        kernel(values, windows)
    kernels.rolling_corr(values, values[::-1], windows)


@pytest.mark.parametrize(
    "kernel",
    [
        kernels.rolling_mean,
        kernels.rolling_sum,
        kernels.rolling_std,
        kernels.rolling_min,
        kernels.rolling_max,
        kernels.rolling_skew,
        kernels.rolling_rank,
        lambda v, w: kernels.rolling_corr(v, v[::-1], w),
    ],
    ids=["mean", "sum", "std", "min", "max", "skew", "rank", "corr"],
)
def test_a_series_shorter_than_its_window_has_no_value(kernel) -> None:
    """Not an error: a short panel (a new listing, a prediction on a few recent bars) simply has
    no full window yet."""
    values = np.array([1.0, 2.0, 4.0])
    result = kernel(values, TickerWindows(np.zeros(3, dtype=np.int64), 20))
    assert result.shape == (3,)
    assert np.isnan(result).all()
