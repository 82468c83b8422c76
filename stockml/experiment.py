"""One experiment, start to finish: data -> CV -> final fit -> holdout -> baselines ->
factor and portfolio evaluation.

It returns plain results and writes nothing; recording (files, MLflow) is the caller's job, so
the same function serves the CLI, sweeps, the job queue and tests.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import overload

import numpy as np
import pandas as pd
from hydra.utils import instantiate
from omegaconf import DictConfig
from sklearn.pipeline import Pipeline

from stockml.data.schema import DATE_LEVEL, panel_dates
from stockml.dataset import ModellingData, build_modelling_data
from stockml.evaluation import (
    REPORTED_METRICS,
    CrossValidationResult,
    cross_validate_pipeline,
    evaluate_forecasts,
    portfolio_settings,
)
from stockml.memory import release_freed_memory
from stockml.pipeline import build_pipeline, fit_clone
from stockml.reporting.schema import EvaluationDocument, FeatureImportance
from stockml.tuning.inner_search import SearchResult, run_search
from stockml.validation import baseline_metrics, regression_metrics
from stockml.validation.portfolio import PORTFOLIO_METRICS, evaluation_threads

CORRELATION_METRICS = frozenset({"ic", "rank_ic", "icir", "rank_icir"})
# Undefined when a forecast never ranks the names apart (no trades, no spread): no skill, 0.
NO_SKILL_METRICS = CORRELATION_METRICS | {
    "ls_sharpe",
    "ls_net_sharpe",
    "q_spread",
    "q_spread_t",
    "q_monotonicity",
}


@dataclass
class ExperimentResult:
    data: ModellingData
    pipeline: Pipeline
    cv: CrossValidationResult
    holdout: dict[str, float]
    baselines: dict[str, dict[str, float]]
    predictions: pd.DataFrame
    portfolio: dict[str, float]  # the holdout's portfolio and quantile metrics
    evaluation: EvaluationDocument
    search: SearchResult | None = None
    selected_features: list[str] | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def flat_metrics(self) -> dict[str, float]:
        """Metric names as logged to MLflow and returned to sweepers."""
        flat: dict[str, float] = {}
        for name, stats in self.cv.summary().items():
            flat[f"cv_{name}_mean"] = stats["mean"]
            flat[f"cv_{name}_std"] = stats["std"]
        for name in REPORTED_METRICS:
            flat[f"test_{name}"] = self.holdout.get(name, math.nan)
            flat[f"baseline_test_{name}"] = self.baselines["zero"].get(name, math.nan)
            for baseline, values in self.baselines.items():
                if baseline != "zero":
                    flat[f"baseline_{baseline}_test_{name}"] = values.get(name, math.nan)
        for name in PORTFOLIO_METRICS:
            flat[f"test_{name}"] = self.portfolio.get(name, math.nan)
        return flat

    @overload
    def objective(self, key: str) -> float: ...
    @overload
    def objective(self, key: Sequence[str]) -> list[float]: ...
    def objective(self, key: str | Sequence[str]) -> float | list[float]:
        """`metric(key)` as a sweeper should see it: an undefined correlation, Sharpe ratio or
        quantile spread counts as 0.

        A constant forecast (a lasso that zeroed every coefficient) has no IC and trades
        nothing; to an optimiser that is "no skill", not a crashed trial that counts towards
        the failure cap.
        A list of keys (a multi-objective sweep) gives one value per key, in order.
        """
        if not isinstance(key, str):
            return [self.objective(one) for one in key]
        value = self.metric(key)
        no_skill = key.removeprefix("cv_").removesuffix("_mean") in NO_SKILL_METRICS
        return 0.0 if no_skill and math.isnan(value) else value

    def metric(self, key: str) -> float:
        flat = self.flat_metrics()
        if key not in flat:
            raise KeyError(f"unknown metric {key!r}; known: {', '.join(sorted(flat))}")
        return flat[key]


def holdout_predictions(data: ModellingData, predictions: np.ndarray) -> pd.DataFrame:
    """One row per (date, ticker) of the holdout: realised label beside the forecast."""
    index = data.X_holdout.index
    return pd.DataFrame(
        {
            "date": panel_dates(data.X_holdout),
            "ticker": index.get_level_values("ticker"),
            "y_true": data.y_holdout.to_numpy(),
            "prediction": predictions,
        }
    )


def selected_features(pipeline: Pipeline, feature_names: list[str]) -> list[str] | None:
    """The features the fitted selector kept, or None when the pipeline selects nothing."""
    selector = pipeline.named_steps.get("selector")
    if selector is None or selector == "passthrough" or not hasattr(selector, "get_support"):
        return None
    return [name for name, kept in zip(feature_names, selector.get_support(), strict=True) if kept]


def feature_importance(pipeline: Pipeline, feature_names: list[str]) -> FeatureImportance | None:
    """What the fitted model says about its inputs, by feature name.

    Linear models give coefficients (on the scaled features, so comparable across features
    when a scaler is on), tree ensembles their impurity importances; a model with neither
    reports the selector's kept features, if any. A selector shrinks the model's inputs, so
    names come from its support, not from the full feature list.
    """
    kept = selected_features(pipeline, feature_names)
    names = kept if kept is not None else feature_names
    model = pipeline.named_steps["model"]
    for attribute, kind in (("coef_", "coefficient"), ("feature_importances_", "impurity")):
        values = np.ravel(getattr(model, attribute, []))
        if values.size == len(names):
            return {"feature": names, "importance": values.astype(float).tolist(), "kind": kind}
    if kept is not None:
        return {"feature": kept, "importance": [1.0] * len(kept), "kind": "selected"}
    return None


def run_experiment(cfg: DictConfig) -> ExperimentResult:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    data = build_modelling_data(cfg)
    timings["data_s"] = time.perf_counter() - started
    # its stages (load, labels, features, assemble, split) too, so metrics.json says where
    # data_s went on a large universe
    timings |= {f"data_{stage}": seconds for stage, seconds in data.timings.items()}

    pipeline = build_pipeline(cfg)
    splitter = instantiate(cfg.cv, _convert_="all")
    started = time.perf_counter()
    search = run_search(cfg, pipeline, data.X_dev, data.y_dev, splitter)
    if search is not None:
        pipeline.set_params(**search.best_params)
    timings["search_s"] = time.perf_counter() - started

    started = time.perf_counter()
    cv = cross_validate_pipeline(pipeline, data.X_dev, data.y_dev, splitter)
    timings["cv_s"] = time.perf_counter() - started

    started = time.perf_counter()
    release_freed_memory()  # the final fit is the run's peak: start it from the smallest heap
    fitted = fit_clone(pipeline, data.X_dev, data.y_dev)
    predictions = fitted.predict(data.X_holdout)
    timings["fit_s"] = time.perf_counter() - started

    started = time.perf_counter()
    dates = panel_dates(data.X_holdout)
    y_true = data.y_holdout.to_numpy()
    with evaluation_threads(2) as pool:  # the model's and the baselines' scores, side by side
        model_task = pool.submit(regression_metrics, y_true, predictions, dates=dates)
        baselines_task = pool.submit(
            baseline_metrics,
            y_true,
            data.y_dev.to_numpy(),
            dates=dates,
            last_return=data.last_return_holdout,
        )
        holdout, baselines = model_task.result(), baselines_task.result()
    timings["scoring_s"] = time.perf_counter() - started

    started = time.perf_counter()
    holdout_frame = holdout_predictions(data, predictions)
    cv, portfolio, evaluation = evaluate_forecasts(
        data,
        cv,
        holdout_frame,
        portfolio_settings(cfg, pd.DatetimeIndex(data.panel.index.unique(DATE_LEVEL))),
        feature_importance(fitted, data.feature_names),
    )
    timings["evaluation_s"] = time.perf_counter() - started
    return ExperimentResult(
        data=data,
        pipeline=fitted,
        cv=cv,
        holdout=holdout,
        baselines=baselines,
        predictions=holdout_frame,
        portfolio=portfolio,
        evaluation=evaluation,
        search=search,
        selected_features=selected_features(fitted, data.feature_names),
        timings=timings,
    )
