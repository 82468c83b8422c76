"""Scores for return forecasts: error sizes, direction, and cross-sectional correlation.

Error metrics (MSE, MAE, RMSE, R2) say how close forecasts are; for trading, what matters
more is whether they *rank* stocks correctly on each day, which the information coefficient
(IC, Pearson) and rank IC (Spearman) measure. On a panel the IC is computed per date across
tickers and averaged, because a pooled correlation is dominated by market-wide moves that
no cross-sectional strategy can trade; ICIR (mean / std of the daily IC) says how steady it is.

Undefined values are NaN, never an exception or a warning: a constant forecast has no
correlation with anything, and a constant target has no R2.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.metrics import make_scorer

from stockml.validation.cross_section import ForecastGrid, date_grid

METRIC_NAMES: tuple[str, ...] = (
    "mse",
    "mae",
    "rmse",
    "r2",
    "directional_accuracy",
    "ic",
    "rank_ic",
)

GREATER_IS_BETTER: dict[str, bool] = {
    "mse": False,
    "mae": False,
    "rmse": False,
    "r2": True,
    "directional_accuracy": True,
    "ic": True,
    "rank_ic": True,
    "icir": True,
    "rank_icir": True,
}

Metric = Callable[[np.ndarray, np.ndarray], float]


def _mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean((y_true - y_pred) ** 2))


def _mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(np.abs(y_true - y_pred)))


def _rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.sqrt(_mse(y_true, y_pred)))


def _r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """``1 - SS_res / SS_tot``; NaN when the target is constant (no variance to explain)."""
    if _is_constant(y_true):
        return float("nan")
    total = float(np.sum((y_true - y_true.mean()) ** 2))
    return 1.0 - float(np.sum((y_true - y_pred) ** 2)) / total


def _directional_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of calls with ``sign(pred) == sign(true)``, over rows where both are non-zero.

    A zero forecast makes no call and a zero return has no direction, so neither counts as a
    hit or a miss; "predict 0" therefore has no directional accuracy at all (NaN) rather than
    a score near 0 that any model would appear to beat.
    """
    called = (y_pred != 0) & (y_true != 0)
    if not called.any():
        return float("nan")
    return float(np.mean(np.sign(y_pred[called]) == np.sign(y_true[called])))


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation; NaN when either side is constant (or has fewer than 2 rows)."""
    if len(x) < 2 or _is_constant(x) or _is_constant(y):
        return float("nan")
    dx, dy = x - x.mean(), y - y.mean()
    return float(np.clip(dx @ dy / np.sqrt((dx @ dx) * (dy @ dy)), -1.0, 1.0))


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    if _is_constant(x) or _is_constant(y):  # undefined; ranking every row would not change it
        return float("nan")
    return _pearson(rankdata(x), rankdata(y))


def _is_constant(values: np.ndarray) -> bool:
    # Exact comparison on purpose: a mean-centred constant can leave float dust that a
    # variance test would mistake for signal.
    return bool(values.min() == values.max())


# The correlations, by ``rank``: per date on a panel, pooled otherwise (see regression_metrics).
_IC: tuple[str, str] = ("ic", "rank_ic")
_POOLED: dict[str, Metric] = {
    "mse": _mse,
    "mae": _mae,
    "rmse": _rmse,
    "r2": _r2,
    "directional_accuracy": _directional_accuracy,
    "ic": _pearson,
    "rank_ic": _spearman,
}


def regression_metrics(y_true: Any, y_pred: Any, *, dates: Any = None) -> dict[str, float]:
    """Every metric in ``METRIC_NAMES`` plus ``icir`` and ``rank_icir``.

    Without ``dates``, IC and rank IC are pooled correlations over all rows and both ICIRs
    are NaN. With ``dates`` (one per row), IC and rank IC are averages of per-date
    correlations across tickers; dates where the correlation is undefined or meaningless
    (fewer than ``MIN_NAMES_PER_DATE`` rows, constant forecast or target) are skipped, and if
    none remain the pooled value is used (ICIR then NaN). So a panel of one or two tickers
    reports the pooled time-series correlation: across two names the per-date correlation is
    always +1 or -1, a coin-flip hit rate rather than an IC. ICIR is the mean over the
    standard deviation (ddof=1) of the per-date series, NaN when that is undefined.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Realised returns.
    y_pred : array-like of shape (n_samples,)
        Forecasts.
    dates : array-like of shape (n_samples,) or None, default=None
        Each row's date; makes IC and rank IC cross-sectional (per date, then averaged).

    Returns
    -------
    dict of str to float
        ``mse``, ``mae``, ``rmse``, ``r2``, ``directional_accuracy``, ``ic``, ``rank_ic``,
        ``icir`` and ``rank_icir``; NaN where undefined.

    Examples
    --------
    >>> from stockml.validation import regression_metrics
    >>> y_true = [0.01, -0.02, 0.03, 0.02, -0.01, 0.0]
    >>> y_pred = [0.02, -0.01, 0.01, 0.01, 0.0, -0.01]
    >>> scores = regression_metrics(y_true, y_pred)
    >>> round(scores["mae"], 4), scores["directional_accuracy"]
    (0.0117, 1.0)

    With dates, the IC is the mean of each date's correlation across tickers:

    >>> scores = regression_metrics(y_true, y_pred, dates=["d1"] * 3 + ["d2"] * 3)
    >>> round(scores["ic"], 4), round(scores["rank_ic"], 4), round(scores["icir"], 2)
    (0.6958, 0.5, 11.94)
    """
    y_true, y_pred = _as_vectors(y_true, y_pred)
    scores = {name: metric(y_true, y_pred) for name, metric in _POOLED.items() if name not in _IC}
    daily = dict.fromkeys(_IC, np.empty(0))
    if dates is not None:
        if len(dates) != len(y_true):
            raise ValueError(f"dates has {len(dates)} entries but y_true has {len(y_true)}")
        for name, series in zip(_IC, _daily_correlations(y_true, y_pred, dates)[1], strict=True):
            daily[name] = series[np.isfinite(series)]
    for name, series in daily.items():
        # The pooled correlation (a sort of every row for the rank IC) only when no date has one.
        scores[name] = float(series.mean()) if series.size else _POOLED[name](y_true, y_pred)
    for name, series in daily.items():
        scores[f"{name}ir"] = _information_ratio(series)
    return scores


def daily_correlations(y_true: Any, y_pred: Any, dates: Any, rank: bool = False) -> pd.Series:
    """The per-date IC (rank IC with ``rank``) between forecast and target, indexed by date.

    NaN on a date where the correlation is undefined or meaningless, by the rules of
    ``regression_metrics`` (fewer than ``MIN_NAMES_PER_DATE`` rows, a constant side), so a
    per-date report and the averaged metric always agree on which dates count.
    """
    uniques, (ic, rank_ic) = _daily_correlations(*_as_vectors(y_true, y_pred), dates)
    return pd.Series(rank_ic if rank else ic, index=pd.Index(uniques, name="date"), name=_IC[rank])


def _daily_correlations(
    y_true: np.ndarray, y_pred: np.ndarray, dates: Any
) -> tuple[pd.Index, tuple[np.ndarray, np.ndarray]]:
    """(sorted distinct dates, (per-date IC, per-date rank IC)), from one date grid.

    The rows are laid out by date once (`date_grid`) and both correlations are whole-grid
    passes; a pandas groupby per correlation (with a grouped rank) was most of a large run's
    scoring time, and a CV fold and each baseline score again. A side that is constant over
    all rows (the zero and train-mean baselines) is constant on every date: no grid at all.
    """
    if _is_constant(y_true) or _is_constant(y_pred):
        uniques = pd.factorize(pd.Index(dates), sort=True)[1]
        return uniques, (np.full(len(uniques), np.nan), np.full(len(uniques), np.nan))
    uniques, (true, pred) = date_grid(dates, y_true, y_pred)
    return uniques, ForecastGrid(pred).correlations(true)


def mean_daily_correlation(
    daily: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, rank: bool = False
) -> float:
    """The IC (rank IC with ``rank``) of a date x ticker grid exactly as ``regression_metrics``
    reports it for the same rows, from its per-date values ``daily`` (`grid_correlations`):
    their mean where any is defined, else the pooled correlation of the cells where both
    grids are known (NaN when there are none)."""
    if np.isfinite(daily).any():
        return float(np.nanmean(daily))
    known = np.isfinite(y_true) & np.isfinite(y_pred)
    if not known.any():
        return float("nan")
    return _POOLED[_IC[rank]](y_true[known], y_pred[known])


def _information_ratio(daily: np.ndarray) -> float:
    if daily.size < 2:
        return float("nan")
    spread = float(daily.std(ddof=1))
    return float(daily.mean()) / spread if spread > 0 else float("nan")


def _as_vectors(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    true = np.asarray(y_true, dtype=float).reshape(-1)
    pred = np.asarray(y_pred, dtype=float).reshape(-1)
    if true.shape != pred.shape:
        raise ValueError(f"y_true has {true.size} values but y_pred has {pred.size}")
    if true.size == 0:
        raise ValueError("regression_metrics needs at least one row")
    if np.isnan(true).any() or np.isnan(pred).any():
        raise ValueError("y_true and y_pred must not contain NaN; drop those rows first")
    return true, pred


def make_metric_scorer(name: str) -> Callable[..., float]:
    """A scikit-learn scorer for one metric, for ``GridSearchCV(scoring=...)``.

    Scorers see only ``y`` and predictions, not dates, so ``ic`` and ``rank_ic`` are the
    pooled correlations of each test fold. Loss metrics are negated by scikit-learn, as usual.
    The scorer pickles, so it works with ``n_jobs > 1``.
    """
    if name not in _POOLED:
        raise ValueError(f"unknown metric {name!r}; choose one of {', '.join(METRIC_NAMES)}")
    return make_scorer(_score, greater_is_better=GREATER_IS_BETTER[name], metric=name)


def _score(y_true: Any, y_pred: Any, metric: str) -> float:
    return _POOLED[metric](*_as_vectors(y_true, y_pred))
