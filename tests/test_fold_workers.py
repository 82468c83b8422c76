"""Folds in parallel: the same results as one after another, and only when memory allows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from design_matrices import panel_design
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info

import stockml.evaluation as evaluation
import stockml.fold_workers as fold_workers_module
from stockml.evaluation import cross_validate_pipeline
from stockml.fold_workers import fold_bytes, fold_threads, fold_workers, threads_of_own
from stockml.pipeline import fit_clone
from stockml.validation import ExpandingWindowSplit, PurgedKFold, WalkForwardSplit


def _design(n_dates: int = 300, n_tickers: int = 4) -> tuple[pd.DataFrame, pd.Series]:
    return panel_design(
        n_dates=n_dates, n_tickers=n_tickers, n_columns=6, seed=2, signal=0.3
    )


WALK = WalkForwardSplit(n_splits=5, horizon=1)  # each fold: a sixth of the rows, as slices
EXPANDING = ExpandingWindowSplit(n_splits=5, horizon=1)  # late folds train on most rows
PURGED = PurgedKFold(n_splits=5, horizon=1)  # training rows on both sides: copied


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fold_workers_module, "job_cores", lambda: 2)


@pytest.mark.parametrize(("splitter", "expected"), [(WALK, 2), (EXPANDING, 1), (PURGED, 1)])
def test_folds_run_together_only_within_the_final_fits_memory(
    two_cores: None, splitter: object, expected: int
) -> None:
    X, y = _design()
    pipeline = make_pipeline(StandardScaler(), Ridge())
    splits = list(splitter.split(X, y))  # type: ignore[attr-defined]
    assert fold_workers(pipeline, X, splits) == expected
    row_bytes = 6 * 4
    largest = sorted((fold_bytes(row_bytes, *split) for split in splits), reverse=True)
    assert (largest[0] + largest[1] <= row_bytes * len(X)) == (expected == 2)


def test_fold_bytes_counts_the_copy_of_scattered_rows() -> None:
    run, scattered = np.arange(10, 20), np.r_[0:5, 15:20]
    assert fold_bytes(8, run, run) == 8 * 20  # the steps' matrices only
    assert fold_bytes(8, scattered, run) == 8 * (10 * 2 + 10)  # plus take_rows' copy


def test_the_thread_budget_caps_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = _design()
    splits = list(WALK.split(X, y))
    monkeypatch.setattr(fold_workers_module, "job_cores", lambda: 1)  # a parallel sweep's job
    assert fold_workers(make_pipeline(StandardScaler(), Ridge()), X, splits) == 1


def test_steps_with_threads_of_their_own_run_folds_one_at_a_time(two_cores: None) -> None:
    X, y = _design()
    splits = list(WALK.split(X, y))
    own = make_pipeline(StandardScaler(), RandomForestRegressor(n_jobs=None))
    single = make_pipeline(StandardScaler(), RandomForestRegressor(n_jobs=1))
    assert threads_of_own(own) and fold_workers(own, X, splits) == 1
    assert not threads_of_own(single) and fold_workers(single, X, splits) == 2
    assert threads_of_own(make_pipeline(LinearRegression()))  # n_jobs=None: could thread


def _blas_threads() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_every_fit_has_one_blas_thread_and_parallel_folds_one_of_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """fit_clone limits BLAS (the same numbers on any machine); parallel folds limit all."""
    outside = _blas_threads()
    seen: list[set[int]] = []
    fit = Ridge.fit

    def recording_fit(self, X, y, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(_blas_threads())
        return fit(self, X, y, *args, **kwargs)

    monkeypatch.setattr(Ridge, "fit", recording_fit)
    X, y = _design()
    fit_clone(make_pipeline(StandardScaler(), Ridge()), X, y)
    assert seen == [{1}] and _blas_threads() == outside
    with fold_threads(1):
        assert _blas_threads() == outside
    with fold_threads(2):
        assert {pool["num_threads"] for pool in threadpool_info()} == {1}
    assert _blas_threads() == outside


@pytest.mark.parametrize("splitter", [WALK, PURGED])
def test_parallel_folds_are_the_serial_folds(
    splitter: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = _design()
    pipeline = make_pipeline(StandardScaler(), Ridge(alpha=3.0))
    monkeypatch.setattr(evaluation, "fold_workers", lambda *_: 1)
    serial = cross_validate_pipeline(pipeline, X, y, splitter)
    monkeypatch.setattr(evaluation, "fold_workers", lambda *_: 3)
    parallel = cross_validate_pipeline(pipeline, X, y, splitter)
    assert [f.fold for f in parallel.folds] == list(range(5))
    for ours, theirs in zip(parallel.folds, serial.folds, strict=True):
        np.testing.assert_array_equal(ours.predictions, theirs.predictions)
        np.testing.assert_array_equal(ours.test_rows, theirs.test_rows)
        assert ours.metrics == theirs.metrics
        assert (ours.train_start, ours.test_end) == (theirs.train_start, theirs.test_end)


def test_a_failing_fold_fails_the_parallel_cv(monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = _design()
    y = y.copy()
    y.iloc[len(y) // 2] = np.nan  # Ridge refuses NaN targets: the folds training on it fail
    monkeypatch.setattr(evaluation, "fold_workers", lambda *_: 2)
    with pytest.raises(ValueError, match="NaN"):
        cross_validate_pipeline(make_pipeline(StandardScaler(), Ridge()), X, y, WALK)
