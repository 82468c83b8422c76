"""Trivial forecasts every model must beat before its scores mean anything.

Daily returns are mostly noise, so an R2 near zero or an MSE that "looks small" says nothing
by itself. Predicting zero (a random walk) and predicting the training-set mean (drift only)
cost nothing and know nothing about individual stocks; a model that does not beat them on
the same test rows has learned nothing usable. Their IC and rank IC are NaN by design: a
constant forecast ranks no stock above another. The last-return baseline (momentum: the
trailing return over the label horizon persists) does rank stocks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stockml.validation.metrics import regression_metrics

BASELINE_NAMES: tuple[str, ...] = ("zero", "train_mean")


def baseline_metrics(
    y_true: Any, y_train: Any, dates: Any = None, last_return: Any = None
) -> dict[str, dict[str, float]]:
    """``regression_metrics`` of each baseline forecast on ``y_true``, keyed by baseline name.

    ``y_train`` supplies the mean for ``train_mean``; pass the training labels of the same
    fold so the baseline knows no more than the model did. ``last_return`` (one trailing
    return per row of ``y_true``) adds the ``last_return`` baseline, scored on the same rows.
    """
    train = np.asarray(y_train, dtype=float)
    if train.size == 0 or np.isnan(train).any():
        raise ValueError("baseline_metrics: y_train must be non-empty and free of NaN")
    n_rows = len(y_true)
    forecasts = {"zero": np.zeros(n_rows), "train_mean": np.full(n_rows, train.mean())}
    if last_return is not None:
        forecasts["last_return"] = last_return_forecast(last_return)
    return {
        name: regression_metrics(y_true, forecast, dates=dates)
        for name, forecast in forecasts.items()
    }


def last_return_forecast(last_return: Any) -> np.ndarray:
    """The trailing returns as a forecast, 0 (the random walk) where there is none yet.

    A ticker younger than the label horizon (one that started trading inside the holdout,
    say) has complete features before it has a full trailing return. Dropping those rows
    would score the baseline on other rows than the model; predicting 0 there keeps the
    rows identical and is what "no momentum known yet" means.
    """
    return np.nan_to_num(np.asarray(last_return, dtype=float), nan=0.0)
