"""The grid correlations against a plain pandas per-date reference, on ragged grids with ties."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr, spearmanr

from stockml.validation.cross_section import ForecastGrid, grid_correlations, grid_ranks
from stockml.validation.metrics import mean_daily_correlation


def ragged_grid(seed: int, shape: tuple[int, int] = (40, 9)) -> tuple[np.ndarray, np.ndarray]:
    """A label grid with ties (rounded values), a forecast grid, tickers missing on some
    dates, and the edge cases the rules name: a date with two names, a constant forecast."""
    rng = np.random.default_rng(seed)
    label = np.round(rng.normal(size=shape), 1)
    forecast = rng.normal(size=shape)
    label[rng.random(shape) < 0.15] = np.nan
    forecast[rng.random(shape) < 0.15] = np.nan
    forecast[3, 2:] = np.nan  # at most two names that day
    forecast[5] = 0.25  # no signal that day
    label[7, :] = np.nan  # an empty date
    return label, forecast


def per_date_reference(label: np.ndarray, forecast: np.ndarray, rank: bool) -> np.ndarray:
    """One pandas correlation per date over the names with both sides, by the stated rules."""
    out = []
    for x, y in zip(label, forecast, strict=True):
        pair = pd.DataFrame({"x": x, "y": y}).dropna()
        if len(pair) < 3 or pair["x"].nunique() == 1 or pair["y"].nunique() == 1:
            out.append(math.nan)
        else:
            out.append(pair["x"].corr(pair["y"], method="spearman" if rank else "pearson"))
    return np.array(out)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ranks_equal_pandas_average_ranks(seed) -> None:
    label, forecast = ragged_grid(seed)
    for grid in (label, forecast):
        expected = pd.DataFrame(grid).rank(axis=1, method="average").to_numpy()
        np.testing.assert_array_equal(grid_ranks(grid), expected)
    assert (pd.DataFrame(label).apply(pd.Series.duplicated, axis=1) & ~np.isnan(label)).any(
        axis=None
    )  # ties really occur


def test_ranks_of_a_full_grid_equal_pandas_average_ranks() -> None:
    """No missing cell: the masking is skipped; ties and tie-free rows alike."""
    rng = np.random.default_rng(9)
    for grid in (np.round(rng.normal(size=(20, 7)), 1), rng.normal(size=(20, 7))):
        expected = pd.DataFrame(grid).rank(axis=1, method="average").to_numpy()
        np.testing.assert_array_equal(grid_ranks(grid), expected)


def test_ranks_of_an_empty_or_all_missing_grid_are_missing() -> None:
    assert grid_ranks(np.empty((0, 4))).shape == (0, 4)
    assert np.isnan(grid_ranks(np.full((2, 3), np.nan))).all()


@pytest.mark.parametrize("rank", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_correlations_equal_a_pandas_per_date_reference(seed, rank) -> None:
    label, forecast = ragged_grid(seed)
    got = grid_correlations(label, forecast, rank=rank)
    expected = per_date_reference(label, forecast, rank)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    assert np.isnan(got[[3, 5, 7]]).all()
    assert np.isfinite(got).sum() > 30


def test_one_forecast_grid_correlates_with_targets_missing_different_cells() -> None:
    """The forecast's ranks and centred values are reused across targets; dates where a
    target misses some of the forecast's cells must be redone with those cells left out."""
    label, forecast = ragged_grid(3)
    prepared = ForecastGrid(forecast)
    for drop in (slice(-4, None), slice(0, 6), slice(10, 30)):
        target = label.copy()
        target[drop, ::2] = np.nan
        ic, rank_ic = prepared.correlations(target)
        for got, rank in ((ic, False), (rank_ic, True)):
            expected = per_date_reference(target, forecast, rank)
            np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


def test_with_no_defined_date_the_mean_is_the_pooled_correlation() -> None:
    label, forecast = ragged_grid(4, shape=(30, 2))  # two names: no per-date IC
    both = np.isfinite(label) & np.isfinite(forecast)
    for rank, reference in ((False, pearsonr), (True, spearmanr)):
        daily = grid_correlations(label, forecast, rank=rank)
        assert np.isnan(daily).all()
        assert mean_daily_correlation(daily, label, forecast, rank=rank) == pytest.approx(
            reference(label[both], forecast[both])[0]
        )
    nothing = np.full((3, 2), np.nan)
    assert math.isnan(mean_daily_correlation(nothing[:, 0], nothing, forecast[:3]))


def test_the_mean_of_defined_dates_skips_undefined_ones() -> None:
    label, forecast = ragged_grid(5)
    daily = grid_correlations(label, forecast)
    assert mean_daily_correlation(daily, label, forecast) == np.nanmean(daily)
