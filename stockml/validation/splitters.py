"""Time-ordered cross-validation splitters that cannot leak labels across the split.

All three splitters follow scikit-learn's splitter API, so they plug into ``cross_validate``,
``GridSearchCV`` and ``RandomizedSearchCV`` unchanged. They split the sorted unique *dates*,
not the rows: every ticker of a date falls on the same side, rows may come in any order, and
``gap`` (at least the label horizon) dates are left out between training and test data so no
training label is realised inside the test period.

``horizon`` is how many dates past its own a row's label reaches: the target's horizon plus
its entry lag (`stockml.target.TargetSpec.label_span`, which the cv configs pass), since a
label measured from the bar after the signal ends one bar later.

Dates (or intraday timestamps: a horizon and a gap then count bars) are read from X's
``date`` index level or DatetimeIndex, else from ``groups``. A bare array without groups is
refused unless ``rows_are_dates=True`` says each row is a different date, because on a panel
that guess would put one date on both sides of a split.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import BaseCrossValidator

from stockml.messages import InputError
from stockml.validation._checks import (
    check_int,
    date_positions,
    effective_gap,
    row_dates,
    rows_on,
)

DateSplit = tuple[np.ndarray, np.ndarray]


class _DateSplitter(BaseCrossValidator, BaseEstimator):
    """Turns a subclass's splits of date positions into splits of rows.

    BaseEstimator supplies ``get_params``/``set_params`` from the constructor signature, so a
    splitter can be cloned, logged and tuned like any scikit-learn object.
    """

    # Request ``groups`` under metadata routing: it is the fallback source of dates.
    __metadata_request__split = {"groups": True}  # noqa: RUF012 - sklearn's own convention

    n_splits: int
    rows_are_dates: bool

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[DateSplit]:
        """Yield ``(train, test)`` positional row indices, one pair per fold, in date order."""
        owner = type(self).__name__
        dates = row_dates(owner, X, groups, self.rows_are_dates)
        if len(dates) != len(X):
            raise ValueError(f"{owner}: groups has {len(dates)} entries but X has {len(X)} rows")
        codes, n_dates = date_positions(owner, dates)
        for train_dates, test_dates in self._date_splits(n_dates):
            yield rows_on(codes, train_dates, n_dates), rows_on(codes, test_dates, n_dates)

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """The number of folds; it does not depend on the data."""
        return check_int(type(self).__name__, "n_splits", self.n_splits, 2)

    def _date_splits(self, n_dates: int) -> list[DateSplit]:
        raise NotImplementedError

    def _too_few_dates(self, needed: int, n_dates: int) -> InputError:
        one_line = " ".join(repr(self).split())  # sklearn's repr wraps long parameter lists
        return InputError(f"{one_line} needs at least {needed} dates but the data has {n_dates}")


class _ForwardSplitter(_DateSplitter):
    """Test blocks of equal size at the end of the data, training only on earlier dates.

    Both forward splitters share one layout: ``n_splits`` consecutive test blocks end at the
    last date, and each block trains on dates ending ``gap`` dates before it. They differ only
    in where the training window starts. Unless given, the test size is chosen so that the
    first training window is at least as long as one test block (or the given training size).
    """

    horizon: int
    gap: int | None
    test_size: int | None
    _train_param: str

    def _check_params(self) -> tuple[int, int, int | None, int | None]:
        """Validated ``(n_splits, gap, test_size, train_dates)``; raises on bad values."""
        owner = type(self).__name__
        n_splits = check_int(owner, "n_splits", self.n_splits, 2)
        gap = effective_gap(owner, self.gap, self.horizon)
        test_size = self.test_size
        if test_size is not None:
            test_size = check_int(owner, "test_size", test_size, 1)
        train_dates = getattr(self, self._train_param)
        if train_dates is not None:
            train_dates = check_int(owner, self._train_param, train_dates, 1)
        return n_splits, gap, test_size, train_dates

    def _date_splits(self, n_dates: int) -> list[DateSplit]:
        n_splits, gap, test_size, train_dates = self._check_params()
        needed = gap + n_splits * (test_size or 1) + (train_dates or 1)
        if n_dates < needed:
            raise self._too_few_dates(needed, n_dates)
        if test_size is None:
            if train_dates is None:
                test_size = (n_dates - gap) // (n_splits + 1)
            else:
                test_size = (n_dates - gap - train_dates) // n_splits
        first_test = n_dates - n_splits * test_size
        splits = []
        for fold in range(n_splits):
            test_start = first_test + fold * test_size
            train_end = test_start - gap
            train_start = self._train_start(train_end, first_test - gap, train_dates)
            splits.append(
                (np.arange(train_start, train_end), np.arange(test_start, test_start + test_size))
            )
        return splits

    def _train_start(self, train_end: int, first_train_end: int, train_dates: int | None) -> int:
        raise NotImplementedError


class ExpandingWindowSplit(_ForwardSplitter):
    """Train on every date up to ``gap`` dates before each test block (anchored at the start).

    Like scikit-learn's ``TimeSeriesSplit``, but on dates, with a purge gap of at least the
    label horizon: a training label is never realised inside the test block.

    Parameters
    ----------
    n_splits : int, default=5
        Number of test blocks; they are consecutive and end at the last date.
    horizon : int, default=1
        Label horizon in bars; the smallest ``gap`` allowed.
    gap : int or None, default=None
        Dates left out between training and test; None means ``horizon``.
    test_size : int or None, default=None
        Dates per test block; None gives as many as the first training window gets.
    min_train_size : int or None, default=None
        Training dates of the first fold (later folds have more); None derives it as above.
    rows_are_dates : bool, default=False
        Take each row of a bare array (no ``date`` index, no ``groups``) as its own date.
        Refused otherwise: on a panel that guess would put one date on both sides.

    Examples
    --------
    Ten dates, three folds: each fold trains on everything up to one date before its
    test block (date 3, 5 and 7 are purged: their 1-bar labels end inside the test block).

    >>> import numpy as np
    >>> from stockml.validation import ExpandingWindowSplit
    >>> splitter = ExpandingWindowSplit(n_splits=3, rows_are_dates=True)
    >>> for train, test in splitter.split(np.zeros((10, 1))):
    ...     print(train, test)
    [0 1 2] [4 5]
    [0 1 2 3 4] [6 7]
    [0 1 2 3 4 5 6] [8 9]
    """

    _train_param = "min_train_size"

    def __init__(
        self,
        n_splits: int = 5,
        *,
        horizon: int = 1,
        gap: int | None = None,
        test_size: int | None = None,
        min_train_size: int | None = None,
        rows_are_dates: bool = False,
    ) -> None:
        self.n_splits = n_splits
        self.horizon = horizon
        self.gap = gap
        self.test_size = test_size
        self.min_train_size = min_train_size
        self.rows_are_dates = rows_are_dates
        self._check_params()

    def _train_start(self, train_end: int, first_train_end: int, train_dates: int | None) -> int:
        return 0


class WalkForwardSplit(_ForwardSplitter):
    """Train on a rolling window of ``train_size`` dates ending ``gap`` dates before each test.

    A fixed-length window keeps every fold's model equally informed, so fold scores are
    comparable and regime drift shows up instead of being averaged away.

    Parameters
    ----------
    n_splits : int, default=5
        Number of test blocks; they are consecutive and end at the last date.
    train_size : int or None, default=None
        Dates in every training window; None makes it as long as the first fold allows.
    test_size : int or None, default=None
        Dates per test block; None matches ``ExpandingWindowSplit``'s default.
    horizon : int, default=1
        Label horizon in bars; the smallest ``gap`` allowed.
    gap : int or None, default=None
        Dates left out between training and test; None means ``horizon``.
    rows_are_dates : bool, default=False
        Take each row of a bare array (no ``date`` index, no ``groups``) as its own date.
        Refused otherwise: on a panel that guess would put one date on both sides.

    Examples
    --------
    A panel's rows work the same way (dates from its ``date`` index level, every ticker of a
    date on one side); here each row is a date, so the positions read as dates:

    >>> import numpy as np
    >>> from stockml.validation import WalkForwardSplit
    >>> splitter = WalkForwardSplit(n_splits=2, train_size=4, rows_are_dates=True)
    >>> for train, test in splitter.split(np.zeros((10, 1))):
    ...     print(train, test)
    [1 2 3 4] [6 7]
    [3 4 5 6] [8 9]
    """

    _train_param = "train_size"

    def __init__(
        self,
        n_splits: int = 5,
        *,
        train_size: int | None = None,
        test_size: int | None = None,
        horizon: int = 1,
        gap: int | None = None,
        rows_are_dates: bool = False,
    ) -> None:
        self.n_splits = n_splits
        self.train_size = train_size
        self.test_size = test_size
        self.horizon = horizon
        self.gap = gap
        self.rows_are_dates = rows_are_dates
        self._check_params()

    def _train_start(self, train_end: int, first_train_end: int, train_dates: int | None) -> int:
        return train_end - (train_dates or first_train_end)


class PurgedKFold(_DateSplitter):
    """K contiguous test blocks in date order, training on dates on both sides of each block.

    Training dates before a block end ``gap`` dates before it (purge: their labels are
    realised before the test period). Training dates after a block start ``gap + embargo``
    dates after it: the extra embargo also keeps out dates whose *features* (rolling windows)
    still overlap the test period. Training on the future is acceptable for model selection
    on a development set, never for a final out-of-sample estimate; use a holdout for that.

    Parameters
    ----------
    n_splits : int, default=5
        Number of contiguous test blocks (``numpy.array_split`` of the dates).
    horizon : int, default=1
        Label horizon in bars; the smallest ``gap`` allowed.
    gap : int or None, default=None
        Dates purged on each side of a test block; None means ``horizon``.
    embargo : int, default=0
        Extra dates left out after each test block only.
    rows_are_dates : bool, default=False
        Take each row of a bare array (no ``date`` index, no ``groups``) as its own date.
        Refused otherwise: on a panel that guess would put one date on both sides.

    Examples
    --------
    Two tickers over six business days: each test block holds whole dates (both tickers),
    and the date on each side of it is purged.

    >>> import numpy as np
    >>> import pandas as pd
    >>> from stockml.validation import PurgedKFold
    >>> dates = pd.bdate_range("2024-01-01", periods=6)
    >>> index = pd.MultiIndex.from_product([["AAA", "BBB"], dates], names=["ticker", "date"])
    >>> X = pd.DataFrame({"x": np.arange(12.0)}, index=index)
    >>> for train, test in PurgedKFold(n_splits=3).split(X):
    ...     print(train, test)
    [ 3  4  5  9 10 11] [0 1 6 7]
    [ 0  5  6 11] [2 3 8 9]
    [0 1 2 6 7 8] [ 4  5 10 11]
    """

    def __init__(
        self,
        n_splits: int = 5,
        *,
        horizon: int = 1,
        gap: int | None = None,
        embargo: int = 0,
        rows_are_dates: bool = False,
    ) -> None:
        self.n_splits = n_splits
        self.horizon = horizon
        self.gap = gap
        self.embargo = embargo
        self.rows_are_dates = rows_are_dates
        self._check_params()

    def _check_params(self) -> tuple[int, int, int]:
        """Validated ``(n_splits, dates left out before a block, dates left out after it)``."""
        owner = type(self).__name__
        n_splits = check_int(owner, "n_splits", self.n_splits, 2)
        gap = effective_gap(owner, self.gap, self.horizon)
        return n_splits, gap, gap + check_int(owner, "embargo", self.embargo, 0)

    def _date_splits(self, n_dates: int) -> list[DateSplit]:
        n_splits, before, after = self._check_params()
        splits = _purged_folds(n_dates, n_splits, before, after)
        if splits is None:
            # Every block of size before + after + 2 always works, so the search is bounded.
            enough = max(n_dates + 1, n_splits * (before + after + 2))
            needed = next(
                n
                for n in range(n_dates + 1, enough + 1)
                if _purged_folds(n, n_splits, before, after) is not None
            )
            raise self._too_few_dates(needed, n_dates)
        return splits


def _purged_folds(n_dates: int, n_splits: int, before: int, after: int) -> list[DateSplit] | None:
    """The k-fold date splits, or None when some fold would have no test or no train dates."""
    if n_dates < n_splits:
        return None
    splits = []
    for block in np.array_split(np.arange(n_dates), n_splits):
        first, last = int(block[0]), int(block[-1])
        train = np.concatenate(
            [np.arange(0, max(first - before, 0)), np.arange(last + 1 + after, n_dates)]
        )
        if train.size == 0:
            return None
        splits.append((train, block))
    return splits
