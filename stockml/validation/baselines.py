"""Trivial forecasts every model must beat before its scores mean anything.

Daily returns are mostly noise, so an R2 near zero or an MSE that "looks small" says nothing
by itself. Predicting zero (a random walk) and predicting the training-set mean (drift only)
cost nothing and know nothing about individual stocks; a model that does not beat them on
the same test rows has learned nothing usable. Their IC and rank IC are NaN by design: a
constant forecast ranks no stock above another.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stockml.validation.metrics import regression_metrics

BASELINE_NAMES: tuple[str, ...] = ("zero", "train_mean")


def baseline_metrics(y_true: Any, y_train: Any, dates: Any = None) -> dict[str, dict[str, float]]:
    """``regression_metrics`` of each baseline forecast on ``y_true``, keyed by baseline name.

    ``y_train`` supplies the mean for ``train_mean``; pass the training labels of the same
    fold so the baseline knows no more than the model did.
    """
    train = np.asarray(y_train, dtype=float)
    if train.size == 0 or np.isnan(train).any():
        raise ValueError("baseline_metrics: y_train must be non-empty and free of NaN")
    n_rows = len(y_true)
    forecasts = {"zero": np.zeros(n_rows), "train_mean": np.full(n_rows, train.mean())}
    return {name: regression_metrics(y_true, forecasts[name], dates) for name in BASELINE_NAMES}
