"""Grid, random and Bayesian search inside a run: find a known optimum, never see the holdout."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.pipeline import Pipeline

from stockml.config import compose_config
from stockml.data.schema import panel_dates
from stockml.experiment import run_experiment
from stockml.tuning.inner_search import run_search
from stockml.tuning.param_space import parse_space
from stockml.validation import ExpandingWindowSplit

BEST_ALPHA = 3.0


class OffsetRegressor(RegressorMixin, BaseEstimator):
    """Predicts the first feature plus (alpha - 3)^2: its CV MSE is smallest exactly at alpha=3."""

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = alpha

    def fit(self, X, y):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict(self, X):
        return np.asarray(X)[:, 0] + (self.alpha - BEST_ALPHA) ** 2


def toy_problem(n_dates: int = 120, n_tickers: int = 3):
    rng = np.random.default_rng(0)
    index = pd.MultiIndex.from_product(
        [pd.bdate_range("2020-01-01", periods=n_dates), [f"T{i}" for i in range(n_tickers)]],
        names=["date", "ticker"],
    )
    X = pd.DataFrame({"x": rng.normal(size=len(index)), "z": rng.normal(size=len(index))}, index)
    y = X["x"].rename("target")
    return X, y


def search_cfg(method: str, **optimizer):
    return OmegaConf.create(
        {
            "seed": 0,
            "model": {"search_space": {"alpha": {"type": "float", "low": 1.0, "high": 5.0}}},
            "optimizer": {
                "method": method,
                "metric": "mse",
                "grid_points": 5,
                "max_candidates": 100,
                "n_trials": 25,
                "pruning": False,
                **optimizer,
            },
        }
    )


@pytest.mark.parametrize(
    ("method", "tolerance"), [("grid", 0.0), ("random", 0.35), ("bayesian", 0.35)]
)
def test_each_method_finds_the_known_optimum(method: str, tolerance: float) -> None:
    X, y = toy_problem()
    pipeline = Pipeline([("model", OffsetRegressor())])
    result = run_search(search_cfg(method), pipeline, X, y, ExpandingWindowSplit(n_splits=3))
    assert result is not None
    assert abs(result.best_params["model__alpha"] - BEST_ALPHA) <= tolerance
    assert result.best_score == pytest.approx(result.trials["score_mean"].min())
    expected = 5 if method == "grid" else 25
    assert result.n_candidates == expected


def test_pruning_stops_hopeless_candidates_early() -> None:
    X, y = toy_problem()
    pipeline = Pipeline([("model", OffsetRegressor())])
    cfg = search_cfg("bayesian", pruning=True, pruning_startup=3, n_trials=25)
    result = run_search(cfg, pipeline, X, y, ExpandingWindowSplit(n_splits=4))
    pruned = result.trials[result.trials["state"] == "PRUNED"]
    assert len(pruned) > 0
    assert (pruned["folds"] < 4).all()


def test_grid_larger_than_the_cap_is_refused() -> None:
    X, y = toy_problem()
    cfg = search_cfg("grid", grid_points=50, max_candidates=10)
    with pytest.raises(ValueError, match=r"50 candidates, more than optimizer\.max_candidates=10"):
        run_search(cfg, Pipeline([("model", OffsetRegressor())]), X, y, ExpandingWindowSplit(3))


def test_unknown_method_and_bad_space_are_refused() -> None:
    X, y = toy_problem()
    pipeline = Pipeline([("model", OffsetRegressor())])
    with pytest.raises(ValueError, match=r"optimizer\.method must be one of"):
        run_search(search_cfg("annealing"), pipeline, X, y, ExpandingWindowSplit(3))
    with pytest.raises(ValueError, match="log scale needs low > 0"):
        parse_space({"alpha": {"type": "float", "low": 0.0, "high": 1.0, "log": True}})
    with pytest.raises(ValueError, match="type must be one of"):
        parse_space({"alpha": {"type": "decimal", "low": 0.0, "high": 1.0}})


def test_int_and_log_ranges_mean_the_same_in_every_method() -> None:
    (spec,) = parse_space({"k": {"type": "int", "low": 5, "high": 30, "step": 5}})
    assert spec.grid_values(3) == [5, 10, 15, 20, 25, 30]
    assert spec.distribution() == [5, 10, 15, 20, 25, 30]
    (log_spec,) = parse_space({"a": {"type": "float", "low": 1e-3, "high": 1e1, "log": True}})
    np.testing.assert_allclose(log_spec.grid_values(5), [1e-3, 1e-2, 1e-1, 1.0, 10.0])
    draws = log_spec.distribution().rvs(size=2000, random_state=0)
    assert draws.min() >= 1e-3 and draws.max() <= 10.0


class RecordingSplit(ExpandingWindowSplit):
    """An ExpandingWindowSplit that remembers every date it was ever asked to split."""

    seen_dates: ClassVar[list[pd.Timestamp]] = []

    def split(self, X, y=None, groups=None):
        RecordingSplit.seen_dates.extend(panel_dates(X).unique())
        yield from super().split(X, y, groups)


def test_search_and_cv_never_see_a_holdout_date() -> None:
    RecordingSplit.seen_dates = []
    cfg = compose_config(
        [
            "data.tickers=[AAPL,MSFT]",
            "data.start=2009-01-01",
            "features=minimal",
            "optimizer=random",
            "optimizer.n_trials=3",
            "cv=expanding",
            "cv._target_=test_inner_search.RecordingSplit",
            "cv.n_splits=3",
            "tracking.enabled=false",
        ]
    )
    result = run_experiment(cfg)
    assert result.search is not None and result.search.n_candidates == 3
    holdout_start = panel_dates(result.data.X_holdout).min()
    assert RecordingSplit.seen_dates and max(RecordingSplit.seen_dates) < holdout_start
    assert result.pipeline.named_steps["model"].alpha == result.search.best_params["model__alpha"]


def test_linear_regression_has_nothing_to_tune_and_runs_as_configured(caplog) -> None:
    cfg = compose_config(["model=linear", "optimizer=grid"])
    X, y = toy_problem()
    from stockml.pipeline import build_pipeline

    assert run_search(cfg, build_pipeline(cfg), X, y, ExpandingWindowSplit(3)) is None
    assert "nothing to tune" in caplog.text


def test_select_features_preset_searches_k_and_reports_the_chosen_features() -> None:
    cfg = compose_config(
        [
            "experiment=select_features",
            "data.tickers=[AAPL,MSFT,IBM]",
            "data.start=2009-01-01",
            "cv=expanding",
            "cv.n_splits=3",
            "selection.search_space.k.high=25",
            "tracking.enabled=false",
        ]
    )
    result = run_experiment(cfg)
    assert result.search is not None
    assert sorted(result.search.trials["selector__k"]) == [5, 15, 25]
    best_k = result.search.best_params["selector__k"]
    assert result.selected_features is not None and len(result.selected_features) == best_k
    assert set(result.selected_features) <= set(result.data.feature_names)
    support = result.pipeline.named_steps["selector"].get_support()
    assert result.selected_features == list(result.data.X_dev.columns[support])


@pytest.mark.parametrize(
    "model",
    [
        "ridge",
        "lasso",
        "random_forest",
        "gradient_boosting",
        "hist_gradient_boosting",
        "lightgbm",
        "xgboost",
    ],
)
def test_tune_presets_pick_bayesian_search_for_their_model(model: str) -> None:
    cfg = compose_config([f"experiment=tune_{model}"])
    assert cfg.optimizer.method == "bayesian"
    assert cfg.model.search_space, model
