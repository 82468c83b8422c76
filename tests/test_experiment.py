"""One experiment in process: honest splits, baselines beside metrics, bit-for-bit reruns."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stockml.config import compose_config
from stockml.data.schema import panel_dates
from stockml.experiment import run_experiment

SMALL = [
    "data.tickers=[AAPL,MSFT]",
    "data.start=2007-01-01",
    "features=minimal",
    "cv.n_splits=3",
    "cv.train_size=300",
    "cv.test_size=100",
    "tracking.enabled=false",
]


@pytest.fixture(scope="module")
def result():
    return run_experiment(compose_config(SMALL))


def test_holdout_is_the_most_recent_slice_and_purged_from_dev(result) -> None:
    dev_dates = panel_dates(result.data.X_dev)
    holdout_dates = panel_dates(result.data.X_holdout)
    assert dev_dates.max() < holdout_dates.min()
    calendar = panel_dates(result.data.panel).unique().sort_values()
    gap = calendar.get_loc(holdout_dates.min()) - calendar.get_loc(dev_dates.max())
    assert gap == 1 + 1  # one purged date (the horizon) between dev's last date and holdout


def test_cv_folds_only_ever_see_dev_dates(result) -> None:
    last_dev = str(panel_dates(result.data.X_dev).max().date())
    assert len(result.cv.folds) == 3
    for fold in result.cv.folds:
        assert fold.train_end < fold.test_start <= fold.test_end <= last_dev


def test_every_metric_sits_beside_the_naive_baselines(result) -> None:
    flat = result.flat_metrics()
    for name in ("mse", "mae", "rmse", "r2", "directional_accuracy", "ic", "rank_ic"):
        assert f"cv_{name}_mean" in flat and f"test_{name}" in flat
        assert f"baseline_test_{name}" in flat
        assert f"baseline_train_mean_test_{name}" in flat
        assert f"baseline_last_return_test_{name}" in flat
    y = result.data.y_holdout.to_numpy()
    assert flat["baseline_test_mse"] == pytest.approx(float(np.mean(y**2)))
    assert math.isnan(flat["baseline_test_ic"])  # a constant forecast has no correlation


def test_holdout_predictions_cover_every_holdout_row_once(result) -> None:
    predictions = result.predictions
    assert len(predictions) == len(result.data.X_holdout)
    assert not predictions.duplicated(["date", "ticker"]).any()
    refit = result.pipeline.predict(result.data.X_holdout)
    np.testing.assert_array_equal(predictions["prediction"].to_numpy(), refit)


def test_same_config_and_seed_give_identical_metrics(result) -> None:
    again = run_experiment(compose_config([*SMALL]))
    first, second = result.flat_metrics(), again.flat_metrics()
    assert first.keys() == second.keys()
    for key, value in first.items():
        assert value == second[key] or (math.isnan(value) and math.isnan(second[key])), key


def test_random_forest_is_reproducible_and_seed_matters() -> None:
    overrides = [*SMALL, "model=random_forest", "model.n_estimators=10"]
    first = run_experiment(compose_config([*overrides, "seed=1"])).metric("test_mse")
    second = run_experiment(compose_config([*overrides, "seed=1"])).metric("test_mse")
    other = run_experiment(compose_config([*overrides, "seed=2"])).metric("test_mse")
    assert first == second
    assert first != other


def test_a_constant_forecast_scores_zero_ic_for_sweepers_not_nan() -> None:
    constant = run_experiment(compose_config([*SMALL, "model=lasso", "model.alpha=10"]))
    assert math.isnan(constant.metric("cv_ic_mean"))  # reported honestly as undefined
    assert constant.objective("cv_ic_mean") == 0.0  # but no skill, not a failed trial
    assert constant.objective("cv_mse_mean") == constant.metric("cv_mse_mean")
