"""Out-of-sample evaluation: per-fold CV metrics and holdout metrics beside naive baselines.

The loop is ours rather than `sklearn.model_selection.cross_validate` because panel metrics
(IC per date) need each fold's dates, and a researcher wants each fold's date range on record.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from stockml.data.schema import format_stamp, panel_dates
from stockml.messages import InputError
from stockml.validation import METRIC_NAMES, regression_metrics

REPORTED_METRICS: tuple[str, ...] = (*METRIC_NAMES, "icir", "rank_icir")


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


@dataclass
class CrossValidationResult:
    folds: list[FoldResult] = field(default_factory=list)

    def summary(self) -> dict[str, dict[str, float]]:
        """Mean and standard deviation of every metric across folds (NaN folds ignored)."""
        out: dict[str, dict[str, float]] = {}
        for name in REPORTED_METRICS:
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


def iter_folds(
    pipeline: Pipeline, X: pd.DataFrame, y: pd.Series, splitter: object
) -> Iterator[FoldResult]:
    """Fit a fresh clone per fold on its training rows and score it on its test rows, lazily,
    so a search can stop a hopeless candidate after its first folds."""
    dates = panel_dates(X)
    for fold, (train_idx, test_idx) in enumerate(splitter.split(X, y)):  # type: ignore[attr-defined]
        model = clone(pipeline).fit(X.iloc[train_idx], y.iloc[train_idx])
        predictions = model.predict(X.iloc[test_idx])
        metrics = regression_metrics(
            y.iloc[test_idx].to_numpy(), predictions, dates=dates[test_idx]
        )
        train_start, train_end = _date_range(X.index[train_idx])
        test_start, test_end = _date_range(X.index[test_idx])
        yield FoldResult(
            fold=fold,
            train_start=train_start,
            train_end=train_end,
            test_start=test_start,
            test_end=test_end,
            n_train=len(train_idx),
            n_test=len(test_idx),
            metrics=metrics,
        )


def cross_validate_pipeline(
    pipeline: Pipeline, X: pd.DataFrame, y: pd.Series, splitter: object
) -> CrossValidationResult:
    result = CrossValidationResult(folds=list(iter_folds(pipeline, X, y, splitter)))
    if not result.folds:
        raise InputError(f"the splitter {splitter!r} produced no folds")
    return result
