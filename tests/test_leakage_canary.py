"""Leakage canary: on a market with nothing to predict, stockml must find nothing.

A pure random walk has no out-of-sample information coefficient (IC) for any honest model, so
a clearly non-zero IC through stockml's real path (composed config -> `run_experiment`: causal
features, forward labels, purged holdout, walk-forward folds) can only come from a leak.
A flexible model (a random forest) is used on purpose: it exploits a leak that a linear model
might miss. The canary is only worth something if it can fail both ways, so two controls
run through the same evaluation:

- positive control: with real AR(1) momentum (`data.signal=0.1`) the same pipeline finds IC
  clearly above the canary's bound, so a broken pipeline (shuffled labels, dead features)
  cannot pass by scoring zero everywhere;
- leak control: a feature that peeks at the label (the future return plus noise) makes the
  same evaluation show a large IC, so a real leak would trip the canary.

With 20 tickers the per-date IC has a standard deviation of about 1/sqrt(20) = 0.22; the CV
mean averages 600 test dates (s.e. ~0.01) and the holdout ~235 dates (s.e. ~0.015), so the
0.05 bound sits at more than 3 standard errors for a seeded, deterministic run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import stockml.dataset
from stockml.config import compose_config
from stockml.experiment import ExperimentResult, run_experiment
from stockml.validation import regression_metrics

CANARY_OVERRIDES = [
    "data=synthetic",
    "data.n_tickers=20",
    "data.n_days=1200",
    "features=minimal",
    "model=random_forest",
    "model.n_estimators=50",
    # 5 walk-forward folds must fit into the ~940 development dates of 1200 days.
    "cv.train_size=300",
    "cv.test_size=120",
    "tracking.enabled=false",
    "seed=7",
]
NO_SIGNAL_BOUND = 0.05
MIN_ROWS = 20_000


def _evaluate(signal: float) -> ExperimentResult:
    return run_experiment(compose_config([*CANARY_OVERRIDES, f"data.signal={signal}"]))


def _ics(result: ExperimentResult) -> dict[str, float]:
    """Out-of-sample ICs as stockml reports them (per date) plus the pooled holdout IC."""
    summary = result.cv.summary()
    holdout = result.predictions
    pooled = regression_metrics(holdout["y_true"], holdout["prediction"])
    return {
        "cv_ic_mean": summary["ic"]["mean"],
        "cv_rank_ic_mean": summary["rank_ic"]["mean"],
        "test_ic": result.holdout["ic"],
        "test_rank_ic": result.holdout["rank_ic"],
        "test_pooled_ic": pooled["ic"],
    }


def _leak_label_into_features(
    monkeypatch: pytest.MonkeyPatch, noise_scale: float, seed: int = 0
) -> None:
    """Make stockml's modelling data carry the label, blurred by noise, as a feature.

    It patches the one place where features meet labels, so everything downstream (holdout
    split, folds, scaler, model, metrics) runs unchanged, exactly as it would with a
    look-ahead bug in a feature.
    """
    real: Callable[..., tuple[pd.DataFrame, pd.Series]] = stockml.dataset.make_design_matrix

    def leaky_make_design_matrix(*args: Any) -> tuple[pd.DataFrame, pd.Series]:
        X, y = real(*args)
        noise = np.random.default_rng(seed).normal(0.0, noise_scale * y.std(), len(y))
        return X.assign(peek=y.to_numpy() + noise), y

    monkeypatch.setattr(stockml.dataset, "make_design_matrix", leaky_make_design_matrix)


@pytest.fixture(scope="module")
def no_signal() -> ExperimentResult:
    return _evaluate(signal=0.0)


def test_canary_has_enough_rows_for_its_bound(no_signal: ExperimentResult) -> None:
    """The bound above assumes this sample size; a smaller panel would make it flaky."""
    rows = len(no_signal.data.X_dev) + len(no_signal.data.X_holdout)
    assert rows >= MIN_ROWS
    assert len(no_signal.cv.folds) == 5


def test_random_walk_has_no_out_of_sample_ic(no_signal: ExperimentResult) -> None:
    ics = _ics(no_signal)
    leaking = {name: value for name, value in ics.items() if not abs(value) < NO_SIGNAL_BOUND}
    assert not leaking, f"IC on a pure random walk (a leak?): {leaking}; all: {ics}"


def test_positive_control_real_momentum_is_found() -> None:
    ics = _ics(_evaluate(signal=0.1))
    missed = {name: value for name, value in ics.items() if not value > NO_SIGNAL_BOUND}
    assert not missed, f"AR(1) momentum of 0.1 not found (pipeline broken?): {missed}"


def test_leak_control_a_peeking_feature_trips_the_canary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Noise twice the label's spread: the peek correlates ~0.45 with the label, a partial
    # leak rather than the answer itself, and still far beyond the canary's bound.
    _leak_label_into_features(monkeypatch, noise_scale=2.0)
    ics = _ics(_evaluate(signal=0.0))
    assert min(ics.values()) > 0.3, f"a leaked label went unnoticed: {ics}"
