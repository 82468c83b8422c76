"""The lean design matrix is `make_dataset` of the full transform, value for value and row
for row, whatever the panel's shape: it only skips work, never changes an answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stockml.data import synthetic_panel
from stockml.dataset import make_design_matrix, row_positions
from stockml.features import FeatureBuilder
from stockml.target import RowCodes, TargetSpec, forward_log_return, make_dataset, time_order

BUILDER = FeatureBuilder(preset="full", dtype="float64")


def _ragged_panel() -> pd.DataFrame:
    """Tickers starting on different dates, one with a missing day and a zero-volume bar."""
    parts = []
    for number, (start, length) in enumerate([(0, 420), (30, 300), (5, 380)]):
        part = synthetic_panel(1, start + length, seed=number).iloc[start:]
        parts.append(part.rename(index={"SYN0000": f"T{number}"}, level="ticker"))
    panel = pd.concat(parts)
    panel = panel.drop(index=panel.index[500])  # a day T1 did not trade
    panel.loc[panel.index[900], "volume"] = 0.0  # log volume NaN: rows dropped mid-series
    return panel


@pytest.mark.parametrize(
    "panel",
    [synthetic_panel(4, 400, seed=1), _ragged_panel()],
    ids=["rectangular", "ragged"],
)
@pytest.mark.parametrize("block_rows", [2**18, 500])
def test_design_matrix_is_make_dataset_of_the_transform(
    panel: pd.DataFrame, block_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected_X, expected_y = make_dataset(BUILDER.transform(panel), forward_log_return(panel, 2))
    monkeypatch.setattr("stockml.features.builder.BLOCK_ROWS", block_rows)
    X, y = make_design_matrix(panel, BUILDER, TargetSpec(horizon=2))
    assert X.index.equals(expected_X.index) and y.index.equals(expected_X.index)
    assert list(X.columns) == list(expected_X.columns)
    np.testing.assert_array_equal(X.to_numpy(), expected_X.to_numpy())
    np.testing.assert_array_equal(y.to_numpy(), expected_y.to_numpy())
    assert y.name == expected_y.name


def test_design_matrix_has_the_builder_dtype_and_no_nan() -> None:
    panel = _ragged_panel()
    X, y = make_design_matrix(
        panel, FeatureBuilder(preset="technical", dtype="float32"), TargetSpec()
    )
    assert (X.dtypes == np.float32).all()
    assert not X.isna().any().any() and not y.isna().any()
    dates = X.index.get_level_values("date")
    assert dates.is_monotonic_increasing


def test_trailing_log_return_stays_within_each_ticker() -> None:
    """The last-return baseline by position equals pandas' per-ticker shift, row for row."""
    panel = _ragged_panel()
    log_close = np.log(panel["close"])
    expected = (log_close - log_close.groupby(level="ticker").shift(3)).to_numpy()
    rows = np.random.default_rng(0).permutation(len(panel))
    np.testing.assert_array_equal(TargetSpec(horizon=3).trailing(panel, rows), expected[rows])


@pytest.mark.parametrize("shuffled", [False, True], ids=["by ticker", "any order"])
def test_time_order_is_the_two_key_sort(shuffled: bool) -> None:
    """The date-only stable sort of ticker-grouped rows is the (date, ticker) lexsort."""
    panel = _ragged_panel()
    if shuffled:
        panel = panel.iloc[np.random.default_rng(0).permutation(len(panel))]
    codes = RowCodes.of(panel.index)
    keep = np.random.default_rng(1).random(len(panel)) < 0.7
    rows = np.flatnonzero(keep)
    expected = rows[np.lexsort((codes.tickers[rows], codes.dates[rows]))]
    np.testing.assert_array_equal(time_order(codes, keep), expected)


@pytest.mark.parametrize("shuffled", [False, True], ids=["by ticker", "any order"])
def test_row_positions_are_get_indexer(shuffled: bool) -> None:
    """The binary search on level codes finds the rows `get_indexer` finds, in their order."""
    panel = _ragged_panel()
    if shuffled:
        panel = panel.iloc[np.random.default_rng(0).permutation(len(panel))]
    rows = np.random.default_rng(1).permutation(len(panel))[:300]
    taken = panel.index.take(rows)
    np.testing.assert_array_equal(row_positions(panel.index, taken), rows)
    np.testing.assert_array_equal(row_positions(panel.index, taken), panel.index.get_indexer(taken))
