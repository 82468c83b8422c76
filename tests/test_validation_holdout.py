"""The holdout is the most recent dates, and dev never holds a label that reaches into it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_validate

from stockml.data.synthetic import synthetic_panel
from stockml.target import forward_log_return, make_dataset
from stockml.validation import ExpandingWindowSplit, split_holdout


def _dataset(n_tickers: int, n_days: int, horizon: int) -> tuple[pd.DataFrame, pd.Series]:
    panel = synthetic_panel(n_tickers=n_tickers, n_days=n_days, seed=3)
    features = panel[["close"]].groupby(level="ticker").pct_change()
    return make_dataset(features, forward_log_return(panel, horizon))


def _positions(X: pd.DataFrame, part: pd.DataFrame) -> np.ndarray:
    """Date positions of ``part``'s rows among all of X's dates (purged ones included)."""
    unique = X.index.get_level_values("date").unique().sort_values()
    return unique.get_indexer(part.index.get_level_values("date"))


@settings(max_examples=40, deadline=None)
@given(
    n_tickers=st.integers(1, 3),
    horizon=st.integers(1, 5),
    fraction=st.floats(0.05, 0.5),
)
def test_holdout_dates_follow_every_dev_date_by_more_than_the_horizon(
    n_tickers: int, horizon: int, fraction: float
) -> None:
    X, y = _dataset(n_tickers, 60, horizon)
    X_dev, y_dev, X_hold, y_hold = split_holdout(X, y, fraction=fraction, horizon=horizon)
    dev, hold = _positions(X, X_dev), _positions(X, X_hold)
    assert hold.min() > dev.max() + horizon
    assert hold.min() == dev.max() + horizon + 1  # purge exactly the horizon, no more
    assert X_dev.index.equals(y_dev.index) and X_hold.index.equals(y_hold.index)
    n_dates = X.index.get_level_values("date").nunique()
    assert len(np.unique(hold)) == max(1, round(fraction * n_dates))
    first_hold = X_hold.index.get_level_values("date").min()
    assert len(X_hold) == (X.index.get_level_values("date") >= first_hold).sum()


def test_start_selects_every_date_on_or_after_it() -> None:
    X, y = _dataset(2, 30, 2)
    dates = X.index.get_level_values("date")
    start = dates.unique()[20]
    X_dev, _, X_hold, _ = split_holdout(X, y, fraction=None, start=str(start.date()), horizon=2)
    assert X_hold.index.get_level_values("date").min() == start
    assert len(X_hold) == (dates >= start).sum()
    assert X_dev.index.get_level_values("date").max() == dates.unique()[17]


def test_splitters_only_see_dev_rows() -> None:
    X, y = _dataset(2, 80, 1)
    X_dev, y_dev, X_hold, _ = split_holdout(X, y, fraction=0.25)
    scores = cross_validate(Ridge(), X_dev, y_dev, cv=ExpandingWindowSplit(n_splits=3))
    assert len(scores["test_score"]) == 3
    assert X_dev.index.get_level_values("date").max() < X_hold.index.get_level_values("date").min()


def test_empty_holdout_is_refused_with_the_date_count() -> None:
    X, y = _dataset(2, 20, 1)
    with pytest.raises(ValueError, match=r"holdout would be empty.*among 18 dates"):
        split_holdout(X, y, start="2030-01-01")


def test_empty_dev_is_refused_with_the_date_count() -> None:
    X, y = _dataset(1, 6, 2)  # 3 dates with a feature and a label
    with pytest.raises(
        ValueError, match=r"development set would be empty: 3 dates, 2 held out.*at least 5"
    ):
        split_holdout(X, y, fraction=0.5, horizon=2)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, None])
def test_fraction_outside_zero_one_is_refused(fraction: float | None) -> None:
    X, y = _dataset(1, 20, 1)
    with pytest.raises(ValueError, match="fraction must lie strictly between 0 and 1"):
        split_holdout(X, y, fraction=fraction)


def test_misaligned_labels_are_refused() -> None:
    X, y = _dataset(2, 20, 1)
    with pytest.raises(ValueError, match="y must have X's index"):
        split_holdout(X, y.iloc[::-1])


def test_a_frame_without_dates_is_refused_not_cut_by_row() -> None:
    X, y = _dataset(3, 30, horizon=1)
    flat_X, flat_y = X.reset_index(drop=True), y.reset_index(drop=True)
    with pytest.raises(ValueError, match=r"^split_holdout: X has no 'date' index level"):
        split_holdout(flat_X, flat_y, fraction=0.2)
    by_time = X.reset_index(level="ticker")  # a DatetimeIndex still carries the dates
    X_dev, _, X_hold, _ = split_holdout(by_time, y.set_axis(by_time.index), fraction=0.2)
    assert X_dev.index.max() < X_hold.index.min()
