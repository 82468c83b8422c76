"""The stitched out-of-fold forecasts: every fold's rows in (date, ticker) order, whether or
not the folds and the design matrix come in that order already."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stockml.evaluation import CrossValidationResult, FoldResult, stitched_predictions


def design(order: str) -> tuple[pd.DataFrame, pd.Series]:
    dates = pd.bdate_range("2024-01-01", periods=12)
    index = pd.MultiIndex.from_product([dates, ["AA", "BB", "CC"]], names=["date", "ticker"])
    index = index.swaplevel().set_names(["ticker", "date"])  # (ticker, date), in time order
    if order == "by ticker":
        index = index.sort_values()
    index = index.drop(("BB", dates[4]))  # a ragged universe
    X = pd.DataFrame({"f": np.arange(len(index), dtype=float)}, index=index)
    return X, pd.Series(np.linspace(-1.0, 1.0, len(index)), index=index)


def folds(X: pd.DataFrame, blocks: list[np.ndarray]) -> CrossValidationResult:
    rng = np.random.default_rng(0)
    return CrossValidationResult(
        folds=[
            FoldResult(i, "", "", "", "", 0, len(rows), {}, rows, rng.normal(size=len(rows)))
            for i, rows in enumerate(blocks)
        ]
    )


@pytest.mark.parametrize("order", ["by date", "by ticker"])
@pytest.mark.parametrize("fold_order", ["forward", "backward"])
def test_stitched_rows_are_sorted_by_date_then_ticker(order: str, fold_order: str) -> None:
    X, y = design(order)
    n = len(X)
    blocks = [np.arange(6, 16), np.arange(16, 27), np.arange(27, n)]
    if fold_order == "backward":
        blocks = blocks[::-1]
    cv = folds(X, blocks)
    got = stitched_predictions(cv, X, y)
    expected = pd.concat([fold.predictions_frame(X, y) for fold in cv.folds], ignore_index=True)
    expected = expected.sort_values(["date", "ticker"])
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True))
    assert got["date"].is_monotonic_increasing
