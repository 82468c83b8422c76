"""Out-of-sample evaluation: per-fold CV metrics and holdout metrics beside naive baselines.

The loop is ours rather than `sklearn.model_selection.cross_validate` because panel metrics
(IC per date) need each fold's dates, and a researcher wants each fold's date range on record.
Each fold keeps its out-of-fold forecasts, so the portfolio evaluation can score every fold
and the folds stitched together (every development date forecast by a model that did not
train on it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf
from sklearn.pipeline import Pipeline

from stockml.config import config_dir
from stockml.data.schema import DATE_LEVEL, TICKER_LEVEL, format_stamp, panel_dates
from stockml.fold_workers import fold_threads, fold_workers, is_one_run
from stockml.messages import InputError
from stockml.pipeline import fit_clone
from stockml.progress import progress
from stockml.reporting.schema import (
    SCHEMA_VERSION,
    EvaluationDocument,
    FeatureImportance,
    PeriodEvaluation,
)
from stockml.target import TargetSpec
from stockml.validation import METRIC_NAMES, regression_metrics
from stockml.validation.portfolio import (
    PORTFOLIO_METRICS,
    PortfolioResult,
    PortfolioSettings,
    PriceGrid,
    evaluate_portfolio,
    evaluation_threads,
    periods_per_year,
    start_period,
)

if TYPE_CHECKING:  # importing it here would pull the feature code into `stockml --cfg job`
    from stockml.dataset import ModellingData

REPORTED_METRICS: tuple[str, ...] = (*METRIC_NAMES, "icir", "rank_icir")
# Every per-fold metric CrossValidationResult.summary() averages; the portfolio ones are
# added to each fold by `evaluate_forecasts`, after the CV (a search never computes them).
FOLD_METRICS: tuple[str, ...] = (*REPORTED_METRICS, *PORTFOLIO_METRICS)


@dataclass(frozen=True)
class FoldResult:
    """One CV fold: where it sits in time and how the model did on its test dates."""

    fold: int
    train_start: str
    train_end: str
    test_start: str
    test_end: str
    n_train: int
    n_test: int
    metrics: dict[str, float]
    test_rows: np.ndarray = field(repr=False)  # positions of the test rows in X
    predictions: np.ndarray = field(repr=False)  # the fold model's forecast for each of them

    def predictions_frame(self, X: pd.DataFrame, y: pd.Series) -> pd.DataFrame:
        """The fold's out-of-fold forecasts: date, ticker, y_true, prediction per test row."""
        return forecast_rows(X, y, self.test_rows, self.predictions)


def forecast_rows(
    X: pd.DataFrame, y: pd.Series, rows: np.ndarray, predictions: np.ndarray
) -> pd.DataFrame:
    """Date, ticker, y_true and prediction of the rows at positions ``rows`` of ``X``."""
    index = X.index[rows]
    return pd.DataFrame(
        {
            DATE_LEVEL: index.get_level_values(DATE_LEVEL),
            TICKER_LEVEL: index.get_level_values(TICKER_LEVEL),
            "y_true": y.iloc[rows].to_numpy(),
            "prediction": predictions,
        }
    )


@dataclass
class CrossValidationResult:
    folds: list[FoldResult] = field(default_factory=list)

    def summary(self) -> dict[str, dict[str, float]]:
        """Mean and standard deviation of every metric across folds (NaN folds ignored)."""
        out: dict[str, dict[str, float]] = {}
        for name in FOLD_METRICS:
            values = np.array([fold.metrics.get(name, math.nan) for fold in self.folds])
            finite = values[np.isfinite(values)]
            out[name] = {
                "mean": float(finite.mean()) if finite.size else math.nan,
                "std": float(finite.std(ddof=0)) if finite.size else math.nan,
            }
        return out


def _date_range(index: pd.Index) -> tuple[str, str]:
    dates = panel_dates(pd.DataFrame(index=index))
    return format_stamp(dates.min()), format_stamp(dates.max())


def take_rows(frame: pd.DataFrame | pd.Series, positions: np.ndarray) -> pd.DataFrame | pd.Series:
    """``frame.iloc[positions]``, as a view when the positions are one run of consecutive rows.

    Rows are in time order and the splitters' blocks are date ranges, so a fold's test rows
    (and a walk-forward or expanding window's training rows) are such a run: slicing them
    instead of copying keeps a large fold's training matrix out of memory.
    """
    if is_one_run(positions):
        return frame.iloc[positions[0] : positions[-1] + 1]
    return frame.iloc[positions]


def score_fold(
    pipeline: Pipeline,
    X: pd.DataFrame,
    y: pd.Series,
    dates: pd.DatetimeIndex,
    fold: int,
    split: tuple[np.ndarray, np.ndarray],
) -> FoldResult:
    """Fit a fresh clone on the fold's training rows and score it on its test rows."""
    train_idx, test_idx = split
    model = fit_clone(pipeline, take_rows(X, train_idx), take_rows(y, train_idx))
    predictions = model.predict(take_rows(X, test_idx))
    metrics = regression_metrics(
        take_rows(y, test_idx).to_numpy(), predictions, dates=dates[test_idx]
    )
    train_start, train_end = _date_range(X.index[train_idx])
    test_start, test_end = _date_range(X.index[test_idx])
    return FoldResult(
        fold=fold,
        train_start=train_start,
        train_end=train_end,
        test_start=test_start,
        test_end=test_end,
        n_train=len(train_idx),
        n_test=len(test_idx),
        metrics=metrics,
        test_rows=np.asarray(test_idx),
        predictions=np.asarray(predictions, dtype=float),
    )


def iter_folds(
    pipeline: Pipeline, X: pd.DataFrame, y: pd.Series, splitter: object
) -> Iterator[FoldResult]:
    """Score the folds one after another, lazily, so a search can stop a hopeless candidate
    after its first folds."""
    dates = panel_dates(X)
    for fold, split in enumerate(splitter.split(X, y)):  # type: ignore[attr-defined]
        yield score_fold(pipeline, X, y, dates, fold, split)


def _in_threads(
    score: Callable[[tuple[int, tuple[np.ndarray, np.ndarray]]], FoldResult],
    numbered: Iterable[tuple[int, tuple[np.ndarray, np.ndarray]]],
    workers: int,
) -> Iterator[FoldResult]:
    """``map(score, numbered)`` in ``workers`` threads, in order; a failing fold cancels the
    folds not yet started."""
    pool = ThreadPoolExecutor(workers)
    try:
        yield from pool.map(score, numbered)
    finally:
        pool.shutdown(cancel_futures=True)


def cross_validate_pipeline(
    pipeline: Pipeline, X: pd.DataFrame, y: pd.Series, splitter: object
) -> CrossValidationResult:
    """Every fold scored, several at once in threads when the cores and memory allow
    (`stockml.fold_workers`): the same folds, in the same order, either way."""
    workers = fold_workers(pipeline, X, splitter.split(X, y))  # type: ignore[attr-defined]
    # split again, lazily: one after another, only the running fold's row indices are held
    splits = splitter.split(X, y)  # type: ignore[attr-defined]
    n_splits = splitter.get_n_splits(X, y)  # type: ignore[attr-defined]
    dates = panel_dates(X)

    def score(numbered: tuple[int, tuple[np.ndarray, np.ndarray]]) -> FoldResult:
        return score_fold(pipeline, X, y, dates, *numbered)

    with fold_threads(workers):
        folds = (
            _in_threads(score, enumerate(splits), workers)
            if workers > 1
            else map(score, enumerate(splits))
        )
        result = CrossValidationResult(
            folds=list(progress(folds, "CV folds", "fold", total=n_splits))
        )
    if not result.folds:
        raise InputError(f"the splitter {splitter!r} produced no folds")
    return result


def portfolio_settings(cfg: DictConfig, calendar: pd.DatetimeIndex) -> PortfolioSettings:
    """The `evaluation` group, the label's horizon and entry lag, and the bar frequency of
    `calendar`.

    A config recorded before the group existed (a reproduced or retrained old run) gets the
    group's defaults, read from its YAML file: the one place they are written.
    """
    node = cfg.get("evaluation")
    if node is None:
        node = OmegaConf.load(config_dir() / "evaluation" / "default.yaml")
    target = TargetSpec.from_config(cfg.target)
    return PortfolioSettings(
        quantiles=int(node.quantiles),
        top_k=None if node.top_k is None else int(node.top_k),
        cost_bps=float(node.cost_bps),
        horizon=target.horizon,
        max_decay_horizon=int(node.max_decay_horizon),
        periods_per_year=periods_per_year(calendar),
        entry_lag=target.entry_lag,
    )


def stitched_predictions(cv: CrossValidationResult, X: pd.DataFrame, y: pd.Series) -> pd.DataFrame:
    """Every fold's out-of-fold forecasts in date order (the splitters' test blocks are
    disjoint, so each development row appears at most once). One frame of all their rows:
    a frame per fold, concatenated, took twice as long on a large run."""
    rows = np.concatenate([fold.test_rows for fold in cv.folds])
    frame = forecast_rows(X, y, rows, np.concatenate([fold.predictions for fold in cv.folds]))
    if _in_date_ticker_order(X.index, rows):  # the usual case: X is, and folds follow time
        return frame
    return frame.sort_values([DATE_LEVEL, TICKER_LEVEL])


def _in_date_ticker_order(index: pd.MultiIndex, rows: np.ndarray) -> bool:
    """Whether ``index[rows]`` is strictly in (date, ticker) order, read from the index's level
    codes: a multi-key sort of a large development set's rows costs more than this check."""
    levels = [index.names.index(name) for name in (DATE_LEVEL, TICKER_LEVEL)]
    if not all(index.levels[level].is_monotonic_increasing for level in levels):
        return False
    dates, tickers = (index.codes[level][rows].astype(np.int64) for level in levels)
    key = dates * len(index.levels[levels[1]]) + tickers
    return bool(np.all(key[1:] > key[:-1]))


def _finite(metrics: dict[str, float]) -> dict[str, float | None]:
    return {k: (float(v) if math.isfinite(v) else None) for k, v in metrics.items()}


def _start_cv_period(
    cv: CrossValidationResult,
    data: ModellingData,
    prices: PriceGrid,
    settings: PortfolioSettings,
    pool: ThreadPoolExecutor,
) -> Callable[[], tuple[PeriodEvaluation, PortfolioResult]] | None:
    """`start_period` of the stitched out-of-fold forecasts, None without any; their frame
    is dropped on return, as the period's tasks need only its grids."""
    oof = stitched_predictions(cv, data.X_dev, data.y_dev)
    return start_period(oof, prices, settings, pool) if len(oof) else None


def evaluate_forecasts(
    data: ModellingData,
    cv: CrossValidationResult,
    holdout: pd.DataFrame,
    settings: PortfolioSettings,
    importance: FeatureImportance | None,
) -> tuple[CrossValidationResult, dict[str, float], EvaluationDocument]:
    """(the folds with their portfolio metrics added, the holdout's portfolio metrics, the
    evaluation document).

    Out-of-fold numbers read prices before the holdout's first date only: a forward return
    (a held position's next bar, an IC-decay horizon) that would end inside the holdout is
    unknown there, exactly as it was when those dates were forecast.
    """
    prices = PriceGrid(data.panel)
    dev_prices = prices.truncated(panel_dates(data.X_holdout).min())

    def fold_portfolio(fold: FoldResult) -> dict[str, float]:
        frame = fold.predictions_frame(data.X_dev, data.y_dev)
        return evaluate_portfolio(frame, dev_prices, settings).metrics

    # One pool for every task: the holdout's and the folds' tasks run while this thread lays
    # out the out-of-fold rows and their grids.
    with evaluation_threads(max(len(cv.folds), settings.max_decay_horizon + 2)) as pool:
        holdout_done = start_period(holdout, prices, settings, pool)
        fold_tasks = [pool.submit(fold_portfolio, fold) for fold in cv.folds]
        cv_done = _start_cv_period(cv, data, dev_prices, settings, pool)
        holdout_period, portfolio = holdout_done()
        cv_period = cv_done()[0] if cv_done is not None else None
        folds = [
            replace(fold, metrics={**fold.metrics, **task.result()})
            for fold, task in zip(cv.folds, fold_tasks, strict=True)
        ]
    recorded = settings.document(portfolio.mode)
    recorded["target"] = data.target.describe()
    document: EvaluationDocument = {
        "schema_version": SCHEMA_VERSION,
        "settings": recorded,
        "holdout": holdout_period,
        "cv": cv_period,
        "folds": [
            {
                "fold": fold.fold,
                "test_start": fold.test_start,
                "test_end": fold.test_end,
                "metrics": _finite(fold.metrics),
            }
            for fold in folds
        ],
        "feature_importance": importance,
    }
    return CrossValidationResult(folds=folds), portfolio.metrics, document
