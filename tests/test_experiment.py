"""One experiment in process: honest splits, baselines beside metrics, bit-for-bit reruns."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from omegaconf import open_dict

from stockml.config import compose_config
from stockml.data.schema import panel_dates
from stockml.evaluation import portfolio_settings
from stockml.experiment import run_experiment
from stockml.run_files import EVALUATION_FILE, METRICS_FILE, write_run_files
from stockml.summary import summary_table
from stockml.validation.portfolio import PriceGrid, evaluate_portfolio

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
    assert math.isnan(constant.metric("cv_ls_sharpe_mean"))  # it never trades
    assert constant.objective("cv_ls_sharpe_mean") == 0.0
    assert constant.metric("cv_ls_turnover_mean") == 0.0


def test_portfolio_metrics_sit_beside_the_others_per_fold_and_on_the_holdout(result) -> None:
    flat = result.flat_metrics()
    for name in ("ls_sharpe", "ls_net_sharpe", "ls_ann_return", "ls_max_drawdown", "ls_turnover"):
        folds = [fold.metrics[name] for fold in result.cv.folds]
        assert flat[f"cv_{name}_mean"] == pytest.approx(np.mean(folds))
        assert flat[f"test_{name}"] == result.evaluation["holdout"]["metrics"][name]
    assert flat["test_q_spread"] == result.portfolio["q_spread"]
    assert result.metric("cv_ls_net_sharpe_mean") == flat["cv_ls_net_sharpe_mean"]
    # Two tickers: ranked long one, short the other; turnover and costs make net < gross.
    assert result.evaluation["settings"]["mode"] == "long_short"
    assert flat["test_ls_net_sharpe"] < flat["test_ls_sharpe"]


def test_each_fold_has_the_portfolio_of_its_own_forecasts(result) -> None:
    """The folds' portfolios are tasks of a thread pool: each fold's metrics must be those of
    its own out-of-fold forecasts, priced before the holdout."""
    data = result.data
    settings = portfolio_settings(compose_config(SMALL), panel_dates(data.panel).unique())
    prices = PriceGrid(data.panel).truncated(panel_dates(data.X_holdout).min())
    for fold in result.cv.folds:
        frame = fold.predictions_frame(data.X_dev, data.y_dev)
        expected = evaluate_portfolio(frame, prices, settings).metrics
        assert {name: fold.metrics[name] for name in expected} == pytest.approx(
            expected, nan_ok=True, rel=0, abs=0
        )


def test_out_of_fold_period_stitches_the_folds_before_the_holdout(result) -> None:
    document = result.evaluation
    cv_dates = pd.DatetimeIndex(document["cv"]["daily"]["date"])
    fold_dates = pd.DatetimeIndex(
        np.concatenate(
            [
                panel_dates(result.data.X_dev.iloc[fold.test_rows]).unique()
                for fold in result.cv.folds
            ]
        )
    )
    assert cv_dates.equals(fold_dates.sort_values())
    assert cv_dates.max() < panel_dates(result.data.X_holdout).min()
    holdout_dates = pd.DatetimeIndex(document["holdout"]["daily"]["date"])
    assert holdout_dates.equals(panel_dates(result.data.X_holdout).unique())
    assert [fold["fold"] for fold in document["folds"]] == [0, 1, 2]
    assert document["holdout"]["ic_decay"]["ic"][0] == pytest.approx(result.holdout["ic"])


def test_feature_importance_names_the_models_inputs(result) -> None:
    importance = result.evaluation["feature_importance"]
    assert importance["kind"] == "coefficient"
    assert importance["feature"] == result.data.feature_names
    np.testing.assert_allclose(importance["importance"], result.pipeline.named_steps["model"].coef_)
    selected = run_experiment(
        compose_config(
            [
                *SMALL,
                "model=random_forest",
                "model.n_estimators=5",
                "selection=kbest_f",
                "selection.k=3",
            ]
        )
    )
    importance = selected.evaluation["feature_importance"]
    assert importance["kind"] == "impurity" and importance["feature"] == selected.selected_features
    assert len(importance["importance"]) == 3


def test_summary_prints_the_portfolio_beside_the_benchmark(result) -> None:
    lines = summary_table(result).splitlines()
    for name, benchmark in (("ls_net_sharpe", "benchmark_sharpe"), ("q_spread", None)):
        cells = next(line for line in lines if line.startswith(f"{name} ")).split()
        assert float(cells[4]) == pytest.approx(result.portfolio[name], rel=1e-3, abs=1e-4)
        if benchmark:
            assert float(cells[5]) == pytest.approx(result.portfolio[benchmark], rel=1e-3, abs=1e-4)


def test_run_files_write_the_evaluation_document_without_nan(result, tmp_path) -> None:
    written = write_run_files(tmp_path, result, "cv_ic_mean", None)
    assert tmp_path / EVALUATION_FILE in written

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in {EVALUATION_FILE}")

    document = json.loads((tmp_path / EVALUATION_FILE).read_text(), parse_constant=refuse)
    assert document["settings"]["quantiles"] == 5
    assert document["holdout"]["metrics"]["q_spread_t"] is not None
    metrics = json.loads((tmp_path / METRICS_FILE).read_text())
    assert "test_rows" not in metrics["folds"][0] and "ls_sharpe" in metrics["folds"][0]["metrics"]


def test_a_config_recorded_before_the_evaluation_group_gets_its_defaults() -> None:
    cfg = compose_config(SMALL)
    with open_dict(cfg):
        del cfg["evaluation"]
    calendar = pd.bdate_range("2020-01-01", periods=10)
    assert portfolio_settings(cfg, calendar) == portfolio_settings(compose_config(SMALL), calendar)
