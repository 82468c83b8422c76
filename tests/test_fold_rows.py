"""CV folds read consecutive rows as views of the design matrix, and score exactly as copies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from design_matrices import panel_design
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from stockml.evaluation import iter_folds, take_rows
from stockml.validation import ExpandingWindowSplit, PurgedKFold, WalkForwardSplit


def _design(n_dates: int = 120, n_tickers: int = 3) -> tuple[pd.DataFrame, pd.Series]:
    return panel_design(
        n_dates=n_dates, n_tickers=n_tickers, n_columns=4, seed=1, signal=0.5
    )


def test_consecutive_rows_are_a_view_and_others_a_copy() -> None:
    X, y = _design()
    run = np.arange(10, 40)
    sliced = take_rows(X, run)
    assert np.shares_memory(sliced.to_numpy(), X.to_numpy())
    pd.testing.assert_frame_equal(sliced, X.iloc[run])
    pd.testing.assert_series_equal(take_rows(y, run), y.iloc[run])
    gapped = np.r_[0:10, 20:30]
    taken = take_rows(X, gapped)
    assert not np.shares_memory(taken.to_numpy(), X.to_numpy())
    pd.testing.assert_frame_equal(taken, X.iloc[gapped])
    backwards = np.arange(40, 10, -1)  # consecutive values but not ascending: not a slice
    pd.testing.assert_frame_equal(take_rows(X, backwards), X.iloc[backwards])
    assert take_rows(X, np.array([], dtype=np.intp)).empty


@pytest.mark.parametrize(
    "splitter",
    [
        WalkForwardSplit(n_splits=3, train_size=40, test_size=20, horizon=1),
        ExpandingWindowSplit(n_splits=3, horizon=1),
        PurgedKFold(n_splits=3, horizon=1),  # training rows on both sides: copies
    ],
)
def test_folds_score_exactly_as_with_copied_rows(splitter: object) -> None:
    X, y = _design()
    pipeline = make_pipeline(StandardScaler(), Ridge(alpha=1.0))
    folds = list(iter_folds(pipeline, X, y, splitter))
    assert len(folds) == 3
    for fold, (train, test) in zip(folds, splitter.split(X, y), strict=True):  # type: ignore[attr-defined]
        copied = make_pipeline(StandardScaler(), Ridge(alpha=1.0))
        copied.fit(X.iloc[train], y.iloc[train])
        np.testing.assert_array_equal(fold.predictions, copied.predict(X.iloc[test]))
        assert fold.n_train == len(train) and fold.n_test == len(test)
