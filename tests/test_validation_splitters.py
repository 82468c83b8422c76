"""Splitters never put a date on both sides, always leave ``gap`` dates out, and fit sklearn."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import (
    GridSearchCV,
    RandomizedSearchCV,
    cross_val_score,
    cross_validate,
)

from stockml.data.synthetic import synthetic_panel
from stockml.target import forward_log_return, make_dataset
from stockml.validation import ExpandingWindowSplit, PurgedKFold, WalkForwardSplit
from stockml.validation.metrics import make_metric_scorer

FAST = settings(max_examples=60, deadline=None)


def _shuffled_panel(n_dates: int, n_tickers: int, seed: int) -> pd.DataFrame:
    """A ragged panel (random rows missing, every date kept) in random row order."""
    dates = pd.bdate_range("2020-01-01", periods=n_dates, name="date")
    tickers = [f"T{i}" for i in range(n_tickers)]
    index = pd.MultiIndex.from_product([tickers, dates], names=["ticker", "date"])
    rng = np.random.default_rng(seed)
    ticker_pos = np.repeat(np.arange(n_tickers), n_dates)
    date_pos = np.tile(np.arange(n_dates), n_tickers)
    keep = (rng.random(len(index)) < 0.7) | (ticker_pos == date_pos % n_tickers)
    frame = pd.DataFrame({"x": rng.normal(size=len(index))}, index=index)[keep]
    return frame.iloc[rng.permutation(len(frame))]


def _check(
    splitter: Any, X: pd.DataFrame, gap: int, gap_after: int | None
) -> list[tuple[set[int], set[int]]]:
    """Assert the leak-free properties; return each fold's (train, test) date positions.

    ``gap_after=None`` means no training date may follow a test date.
    """
    codes = pd.factorize(X.index.get_level_values("date"), sort=True)[0]
    splits = list(splitter.split(X))
    assert len(splits) == splitter.get_n_splits(X)
    folds, claimed = [], set()
    for train, test in splits:
        for idx in (train, test):
            assert idx.dtype.kind == "i" and idx.size > 0
            assert np.array_equal(idx, np.unique(idx))
        assert not set(train) & set(test)
        train_dates, test_dates = set(codes[train]), set(codes[test])
        assert not train_dates & test_dates
        # all tickers of a date fall on the same side
        assert set(test) == set(np.flatnonzero(np.isin(codes, list(test_dates))))
        assert set(train) == set(np.flatnonzero(np.isin(codes, list(train_dates))))
        distance = np.array(sorted(test_dates))[:, None] - np.array(sorted(train_dates))[None, :]
        assert (distance[distance > 0] - 1 >= gap).all()
        if gap_after is None:
            assert (distance > 0).all()
        else:
            assert (-distance[distance < 0] - 1 >= gap_after).all()
        assert not claimed & test_dates
        claimed |= test_dates
        folds.append((train_dates, test_dates))
    return folds


gaps = st.one_of(st.none(), st.integers(0, 3))
sizes = st.one_of(st.none(), st.integers(1, 5))


@FAST
@given(
    n_dates=st.integers(2, 50),
    n_tickers=st.integers(1, 3),
    n_splits=st.integers(2, 5),
    horizon=st.integers(1, 4),
    extra_gap=gaps,
    test_size=sizes,
    min_train=sizes,
    seed=st.integers(0, 2**16),
)
def test_expanding_window_is_leak_free(
    n_dates: int,
    n_tickers: int,
    n_splits: int,
    horizon: int,
    extra_gap: int | None,
    test_size: int | None,
    min_train: int | None,
    seed: int,
) -> None:
    gap = horizon if extra_gap is None else horizon + extra_gap
    splitter = ExpandingWindowSplit(
        n_splits=n_splits,
        horizon=horizon,
        gap=None if extra_gap is None else gap,
        test_size=test_size,
        min_train_size=min_train,
    )
    X = _shuffled_panel(n_dates, n_tickers, seed)
    needed = gap + n_splits * (test_size or 1) + (min_train or 1)
    event("refused" if n_dates < needed else "split")
    if n_dates < needed:
        with pytest.raises(ValueError, match=f"needs at least {needed} dates but the data has"):
            list(splitter.split(X))
        return
    folds = _check(splitter, X, gap, gap_after=None)
    sizes_ = {len(test) for _, test in folds}
    assert len(sizes_) == 1 and (test_size is None or sizes_ == {test_size})
    assert max(folds[-1][1]) == n_dates - 1  # the last test block ends at the last date
    default_train = len(folds[0][1]) if test_size is None else 1
    assert len(folds[0][0]) >= (min_train or default_train)
    for (train, test), (next_train, next_test) in itertools.pairwise(folds):
        assert min(train) == 0 and train < next_train  # anchored and growing
        assert max(test) < min(next_test)


@FAST
@given(
    n_dates=st.integers(2, 50),
    n_tickers=st.integers(1, 3),
    n_splits=st.integers(2, 5),
    horizon=st.integers(1, 4),
    extra_gap=gaps,
    test_size=sizes,
    train_size=sizes,
    seed=st.integers(0, 2**16),
)
def test_walk_forward_is_leak_free(
    n_dates: int,
    n_tickers: int,
    n_splits: int,
    horizon: int,
    extra_gap: int | None,
    test_size: int | None,
    train_size: int | None,
    seed: int,
) -> None:
    gap = horizon if extra_gap is None else horizon + extra_gap
    splitter = WalkForwardSplit(
        n_splits=n_splits,
        train_size=train_size,
        test_size=test_size,
        horizon=horizon,
        gap=None if extra_gap is None else gap,
    )
    X = _shuffled_panel(n_dates, n_tickers, seed)
    needed = gap + n_splits * (test_size or 1) + (train_size or 1)
    event("refused" if n_dates < needed else "split")
    if n_dates < needed:
        with pytest.raises(ValueError, match=f"needs at least {needed} dates but the data has"):
            list(splitter.split(X))
        return
    folds = _check(splitter, X, gap, gap_after=None)
    windows = {len(train) for train, _ in folds}
    assert len(windows) == 1 and (train_size is None or windows == {train_size})
    for train, test in folds:  # each window is contiguous and ends exactly gap dates early
        assert train == set(range(min(train), max(train) + 1))
        assert min(test) - max(train) - 1 == gap
    assert max(folds[-1][1]) == n_dates - 1


@FAST
@given(
    n_dates=st.integers(2, 50),
    n_tickers=st.integers(1, 3),
    n_splits=st.integers(2, 6),
    horizon=st.integers(1, 4),
    extra_gap=gaps,
    embargo=st.integers(0, 4),
    seed=st.integers(0, 2**16),
)
def test_purged_kfold_is_leak_free(
    n_dates: int,
    n_tickers: int,
    n_splits: int,
    horizon: int,
    extra_gap: int | None,
    embargo: int,
    seed: int,
) -> None:
    gap = horizon if extra_gap is None else horizon + extra_gap
    splitter = PurgedKFold(
        n_splits=n_splits,
        horizon=horizon,
        gap=None if extra_gap is None else gap,
        embargo=embargo,
    )
    X = _shuffled_panel(n_dates, n_tickers, seed)
    try:
        folds = _check(splitter, X, gap, gap_after=gap + embargo)
    except ValueError as error:
        event("refused")
        needed = int(str(error).split("needs at least ")[1].split()[0])
        assert needed > n_dates
        list(splitter.split(np.zeros((needed, 1)), groups=np.arange(needed)))  # enough
        return
    assert set().union(*(test for _, test in folds)) == set(range(n_dates))
    blocks = [sorted(test) for _, test in folds]
    assert all(block == list(range(block[0], block[-1] + 1)) for block in blocks)
    assert [block[0] for block in blocks] == sorted(block[0] for block in blocks)
    assert max(map(len, blocks)) - min(map(len, blocks)) <= 1


def test_purged_kfold_reports_the_exact_minimum() -> None:
    splitter = PurgedKFold(n_splits=3, horizon=1, rows_are_dates=True)
    with pytest.raises(ValueError, match="needs at least 4 dates but the data has 3"):
        list(splitter.split(np.zeros((3, 1))))
    assert len(list(splitter.split(np.zeros((4, 1))))) == 3


def test_dates_come_from_groups_when_x_has_no_date_level() -> None:
    groups = np.repeat(np.arange(10), 3)[::-1]  # 3 rows per date, reversed; test blocks of 2
    splits = list(
        ExpandingWindowSplit(n_splits=2, horizon=2).split(np.zeros((30, 1)), groups=groups)
    )
    for train, test in splits:
        assert groups[train].max() + 2 < groups[test].min()
    np.testing.assert_array_equal(np.sort(groups[splits[-1][1]]), np.repeat([8, 9], 3))


def test_each_row_is_a_date_only_when_stated() -> None:
    splitter = WalkForwardSplit(n_splits=2, train_size=3, test_size=2, gap=1, rows_are_dates=True)
    splits = list(splitter.split(range(9)))
    assert [(list(a), list(b)) for a, b in splits] == [([1, 2, 3], [5, 6]), ([3, 4, 5], [7, 8])]


@pytest.mark.parametrize("cls", [ExpandingWindowSplit, WalkForwardSplit, PurgedKFold])
def test_a_panel_as_a_bare_array_is_refused_not_split_by_row(
    cls: type, modelling_frame: tuple[pd.DataFrame, pd.Series]
) -> None:
    """Rows of a (date, ticker)-sorted panel taken as dates would share dates across a split."""
    X, y = modelling_frame
    with pytest.raises(ValueError, match=r"no 'date' index level and no groups.*rows_are_dates"):
        next(cls(n_splits=2, horizon=2).split(X.to_numpy(), y.to_numpy()))
    with pytest.raises(ValueError, match="no 'date' index level"):
        next(cls(n_splits=2, horizon=2).split(X.reset_index(drop=True)))
    with pytest.raises(ValueError, match="rows_are_dates must be True or False, got 'yes'"):
        next(cls(n_splits=2, horizon=2, rows_are_dates="yes").split(X.to_numpy()))


def test_a_datetime_index_gives_the_dates(modelling_frame: tuple[pd.DataFrame, pd.Series]) -> None:
    """A panel indexed by timestamps alone (tickers as a column) still splits on dates."""
    X, _ = modelling_frame
    stacked = X.reset_index(level="ticker")
    stacked.index = pd.DatetimeIndex(stacked.index.get_level_values("date"), name=None)
    dates = stacked.index
    for train, test in PurgedKFold(n_splits=3, horizon=2).split(stacked):
        assert not set(dates[train]) & set(dates[test])


@pytest.mark.parametrize("cls", [ExpandingWindowSplit, WalkForwardSplit, PurgedKFold])
def test_gap_smaller_than_horizon_is_refused(cls: type) -> None:
    message = (
        "gap=0 is smaller than the label horizon 5: training labels would overlap the test period"
    )
    with pytest.raises(ValueError, match=message):
        cls(horizon=5, gap=0)


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (ExpandingWindowSplit, {"n_splits": 1}, "n_splits must be an integer >= 2"),
        (WalkForwardSplit, {"train_size": -3}, "train_size must be an integer >= 1"),
        (WalkForwardSplit, {"test_size": 0}, "test_size must be an integer >= 1"),
        (ExpandingWindowSplit, {"min_train_size": -1}, "min_train_size must be an integer >= 1"),
        (PurgedKFold, {"embargo": -1}, "embargo must be an integer >= 0"),
        (PurgedKFold, {"horizon": 0}, "horizon must be an integer >= 1"),
        (PurgedKFold, {"n_splits": 2.5}, "n_splits must be an integer >= 2"),
    ],
)
def test_bad_parameters_are_refused(cls: type, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cls(**kwargs)


def test_too_few_dates_says_how_many_are_needed() -> None:
    X = _shuffled_panel(10, 2, seed=0)
    with pytest.raises(ValueError, match="needs at least 11 dates but the data has 10"):
        list(ExpandingWindowSplit(n_splits=5, horizon=5).split(X))


def test_params_are_stored_as_given_and_shown_in_repr() -> None:
    splitter = PurgedKFold(n_splits=3, horizon=2, embargo=1)
    assert splitter.gap is None
    assert repr(splitter) == (
        "PurgedKFold(embargo=1, gap=None, horizon=2, n_splits=3, rows_are_dates=False)"
    )


@pytest.fixture(scope="module")
def modelling_frame() -> tuple[pd.DataFrame, pd.Series]:
    panel = synthetic_panel(n_tickers=4, n_days=120, seed=1, signal=0.1)
    returns = panel["close"].groupby(level="ticker").pct_change()
    features = pd.DataFrame({"r1": returns, "r2": returns.groupby(level="ticker").shift(1)})
    return make_dataset(features, forward_log_return(panel, horizon=2))


SPLITTERS = [
    ExpandingWindowSplit(n_splits=3, horizon=2),
    WalkForwardSplit(n_splits=3, train_size=40, test_size=15, horizon=2),
    PurgedKFold(n_splits=4, horizon=2, embargo=3),
]


@pytest.mark.parametrize("splitter", SPLITTERS, ids=repr)
def test_works_in_sklearn_model_selection(
    splitter: Any, modelling_frame: tuple[pd.DataFrame, pd.Series]
) -> None:
    X, y = modelling_frame
    scores = cross_validate(Ridge(), X, y, cv=splitter, scoring=make_metric_scorer("ic"))
    assert len(scores["test_score"]) == splitter.get_n_splits()
    assert len(cross_val_score(Ridge(), X, y, cv=splitter)) == splitter.get_n_splits()
    grid = GridSearchCV(
        Ridge(), {"alpha": [0.1, 10.0]}, cv=splitter, scoring=make_metric_scorer("mse")
    ).fit(X, y)
    assert grid.best_params_["alpha"] in (0.1, 10.0)
    search = RandomizedSearchCV(
        Ridge(), {"alpha": [0.1, 1.0, 10.0]}, n_iter=2, cv=splitter, random_state=0
    ).fit(X, y)
    assert len(search.cv_results_["mean_test_score"]) == 2


@pytest.mark.parametrize("splitter", SPLITTERS, ids=repr)
def test_get_params_set_params_and_clone(splitter: Any) -> None:
    params = splitter.get_params()
    assert params["horizon"] == 2 and params["rows_are_dates"] is False
    copy = clone(splitter).set_params(rows_are_dates=True)
    assert copy.get_params() == {**params, "rows_are_dates": True}
    assert splitter.rows_are_dates is False
