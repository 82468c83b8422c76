"""Defaults that fit the data: the last-return baseline on a ticker younger than the label
horizon, and CV folds that cover the whole development period of the data a user starts with."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hydra.utils import instantiate

from stockml.config import compose_config
from stockml.data.schema import panel_dates
from stockml.dataset import build_modelling_data
from stockml.experiment import run_experiment
from stockml.validation import baseline_metrics, regression_metrics

# GOOG starts trading on 2004-08-19, inside this holdout, and 21 bars is longer than the
# minimal features' warm-up: its first holdout rows have features but no trailing return.
LATE_TICKER = [
    "data.start=2003-01-01",
    "holdout.start=2004-09-01",
    "features=minimal",
    "target.horizon=21",
    "tracking.enabled=false",
]


def test_last_return_baseline_predicts_zero_where_no_trailing_return_exists_yet() -> None:
    y_true = np.array([0.02, -0.01, 0.03, 0.01])
    trailing = np.array([np.nan, 0.01, -0.02, np.nan])
    dates = [1, 1, 2, 2]
    scores = baseline_metrics(y_true, [0.0, 0.1], dates=dates, last_return=trailing)
    expected = regression_metrics(y_true, np.array([0.0, 0.01, -0.02, 0.0]), dates=dates)
    assert scores["last_return"] == pytest.approx(expected, nan_ok=True)
    assert set(scores) == {"zero", "train_mean", "last_return"}


def test_a_ticker_starting_inside_the_holdout_gets_every_baseline_on_the_same_rows() -> None:
    result = run_experiment(compose_config(LATE_TICKER))
    holdout = result.data.last_return_holdout
    assert holdout.isna().any()  # the case this test is about really occurs
    assert set(holdout[holdout.isna()].index.get_level_values("ticker")) == {"GOOG"}
    for name in ("zero", "train_mean", "last_return"):
        assert math.isfinite(result.baselines[name]["mse"])
    assert math.isfinite(result.holdout["mse"])


def covered_dev_dates(overrides: list[str]) -> tuple[int, int]:
    """(development dates inside some fold's train or test block, all development dates)."""
    cfg = compose_config([*overrides, "tracking.enabled=false"])
    data = build_modelling_data(cfg)
    dates = panel_dates(data.X_dev)
    covered = np.zeros(len(dates), dtype=bool)
    for train, test in instantiate(cfg.cv, _convert_="all").split(data.X_dev, data.y_dev):
        covered[train] = covered[test] = True
    return int(dates[covered].nunique()), int(dates.nunique())


@pytest.mark.parametrize("cv", ["walk_forward", "expanding", "purged_kfold"])
@pytest.mark.parametrize(
    "data", [["features=minimal"], ["data=synthetic", "data.n_tickers=5", "features=minimal"]]
)
def test_default_folds_span_the_whole_development_period(cv: str, data: list[str]) -> None:
    covered, total = covered_dev_dates([*data, f"cv={cv}"])
    assert covered == total


def test_default_walk_forward_fits_the_readme_synthetic_command() -> None:
    covered, total = covered_dev_dates(["data=synthetic", "data.n_tickers=50", "data.signal=0.05"])
    assert covered == total
