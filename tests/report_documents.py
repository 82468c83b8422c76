"""Synthetic, seeded evaluation documents for the report's unit and browser tests.

It fills the `EvaluationDocument` TypedDict with random series of the right shapes, so the
report code is tested against the contract alone, in milliseconds (the end-to-end tests use
real runs). Some values are `None` on purpose (the contract's undefined
number) so the figures must cope with gaps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stockml.reporting.schema import (
    SCHEMA_VERSION,
    EvaluationDocument,
    FoldEvaluation,
    PeriodEvaluation,
)

FOLD_METRICS = ("ic", "rank_ic", "mse", "ls_sharpe", "ls_net_sharpe")


def _maybe_none(values: np.ndarray, rng: np.random.Generator) -> list[float | None]:
    """The values with about 1% of them undefined."""
    return [None if rng.random() < 0.01 else float(v) for v in values]


def synthetic_period(
    dates: pd.DatetimeIndex, rng: np.random.Generator, quantiles: int = 5, decay: int = 10,
    n_sample: int = 2000,
) -> PeriodEvaluation:  # fmt: skip
    n = len(dates)
    gross = rng.normal(4e-4, 0.01, n)
    turnover = rng.uniform(0.0, 0.6, n)
    iso = [d.isoformat() for d in dates]
    prediction = rng.normal(0.0, 0.01, n_sample)
    return {
        "metrics": {
            "ls_sharpe": float(rng.normal(1, 0.3)),
            "ls_net_sharpe": float(rng.normal(0.7, 0.3)),
            "ls_ann_return": float(rng.normal(0.08, 0.02)),
            "ls_max_drawdown": float(-rng.uniform(0.05, 0.3)),
            "ls_turnover": float(turnover.mean()),
            "q_spread": float(rng.normal(0.002, 0.001)),
            "q_spread_t": None,
        },
        "daily": {
            "date": iso,
            "gross": _maybe_none(gross, rng),
            "net": _maybe_none(gross - 1e-3 * turnover, rng),
            "benchmark": _maybe_none(rng.normal(3e-4, 0.012, n), rng),
            "turnover": _maybe_none(turnover, rng),
        },
        "ic_by_date": {
            "date": iso,
            "ic": _maybe_none(rng.normal(0.03, 0.1, n), rng),
            "rank_ic": _maybe_none(rng.normal(0.03, 0.1, n), rng),
        },
        "quantile_returns": {
            "quantile": list(range(1, quantiles + 1)),
            "mean_return": [float(v) for v in np.linspace(-1e-3, 1e-3, quantiles)],
        },
        "ic_decay": {
            "horizon": list(range(1, decay + 1)),
            "ic": [float(v) for v in 0.05 * np.exp(-np.arange(decay) / 4)],
            "rank_ic": [float(v) for v in 0.04 * np.exp(-np.arange(decay) / 4)],
        },
        "forecast_vs_realised": {
            "prediction": prediction.tolist(),
            "y_true": (0.3 * prediction + rng.normal(0.0, 0.02, n_sample)).tolist(),
        },
    }


def synthetic_document(
    n_dates: int = 60, n_folds: int = 3, n_features: int = 8, seed: int = 0, cv: bool = True,
    n_sample: int = 2000,
) -> EvaluationDocument:  # fmt: skip
    """A document whose holdout has `n_dates` business days, after `n_folds` CV folds of
    `n_dates` days each (the OOF period)."""
    rng = np.random.default_rng(seed)
    dev = pd.bdate_range("2015-01-01", periods=n_folds * n_dates)
    holdout = pd.bdate_range(dev[-1] + pd.offsets.BDay(6), periods=n_dates)
    folds: list[FoldEvaluation] = [
        {
            "fold": k,
            "test_start": dev[k * n_dates].date().isoformat(),
            "test_end": dev[(k + 1) * n_dates - 1].date().isoformat(),
            "metrics": {name: float(rng.normal(0.02, 0.05)) for name in FOLD_METRICS},
        }
        for k in range(n_folds)
    ]
    return {
        "schema_version": SCHEMA_VERSION,
        "settings": {
            "quantiles": 5,
            "top_k": None,
            "cost_bps": 10.0,
            "horizon": 5,
            "max_decay_horizon": 10,
            "periods_per_year": 252.0,
            "mode": "long_short",
        },
        "holdout": synthetic_period(holdout, rng, n_sample=n_sample),
        "cv": synthetic_period(dev, rng, n_sample=n_sample) if cv else None,
        "folds": folds,
        "feature_importance": {
            "feature": [f"feature_{i}" for i in range(n_features)],
            "importance": rng.normal(0.0, 1.0, n_features).tolist(),
            "kind": "coefficient",
        },
    }
