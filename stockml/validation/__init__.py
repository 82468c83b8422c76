"""Leak-free validation: date-aware splitters, a purged holdout, metrics and baselines."""

from stockml.validation.baselines import baseline_metrics
from stockml.validation.holdout import split_holdout
from stockml.validation.metrics import METRIC_NAMES, regression_metrics
from stockml.validation.splitters import ExpandingWindowSplit, PurgedKFold, WalkForwardSplit

__all__ = [
    "METRIC_NAMES",
    "ExpandingWindowSplit",
    "PurgedKFold",
    "WalkForwardSplit",
    "baseline_metrics",
    "regression_metrics",
    "split_holdout",
]
