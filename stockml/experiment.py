"""One experiment, start to finish: data -> CV -> final fit -> holdout -> baselines.

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
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from stockml.data.schema import panel_dates
from stockml.dataset import ModellingData, build_modelling_data
from stockml.evaluation import REPORTED_METRICS, CrossValidationResult, cross_validate_pipeline
from stockml.pipeline import build_pipeline
from stockml.tuning.inner_search import SearchResult, run_search
from stockml.validation import baseline_metrics, regression_metrics

CORRELATION_METRICS = frozenset({"ic", "rank_ic", "icir", "rank_icir"})


@dataclass
class ExperimentResult:
    data: ModellingData
    pipeline: Pipeline
    cv: CrossValidationResult
    holdout: dict[str, float]
    baselines: dict[str, dict[str, float]]
    predictions: pd.DataFrame
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
        return flat

    @overload
    def objective(self, key: str) -> float: ...
    @overload
    def objective(self, key: Sequence[str]) -> list[float]: ...
    def objective(self, key: str | Sequence[str]) -> float | list[float]:
        """`metric(key)` as a sweeper should see it: an undefined correlation counts as 0.

        A constant forecast (a lasso that zeroed every coefficient) has no IC at all; to an
        optimiser that is "no skill", not a crashed trial that counts towards the failure cap.
        A list of keys (a multi-objective sweep) gives one value per key, in order.
        """
        if not isinstance(key, str):
            return [self.objective(one) for one in key]
        value = self.metric(key)
        correlation = key.removeprefix("cv_").removesuffix("_mean") in CORRELATION_METRICS
        return 0.0 if correlation and math.isnan(value) else value

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


def run_experiment(cfg: DictConfig) -> ExperimentResult:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    data = build_modelling_data(cfg)
    timings["data_s"] = time.perf_counter() - started

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
    fitted = clone(pipeline).fit(data.X_dev, data.y_dev)
    predictions = fitted.predict(data.X_holdout)
    timings["fit_s"] = time.perf_counter() - started

    started = time.perf_counter()
    dates = panel_dates(data.X_holdout)
    y_true = data.y_holdout.to_numpy()
    holdout = regression_metrics(y_true, predictions, dates=dates)
    baselines = baseline_metrics(
        y_true, data.y_dev.to_numpy(), dates=dates, last_return=data.last_return_holdout
    )
    timings["scoring_s"] = time.perf_counter() - started
    return ExperimentResult(
        data=data,
        pipeline=fitted,
        cv=cv,
        holdout=holdout,
        baselines=baselines,
        predictions=holdout_predictions(data, predictions),
        search=search,
        selected_features=selected_features(fitted, data.feature_names),
        timings=timings,
    )
