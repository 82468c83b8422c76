"""Labels look ahead within one ticker only, and the modelling frame drops, never fills."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from stockml.data.schema import make_panel_index
from stockml.target import forward_log_return, make_dataset


def _tiny_panel() -> pd.DataFrame:
    dates = pd.bdate_range("2024-01-01", periods=4, name="date")
    close = [100.0, 110.0, 99.0, 99.0, 10.0, 20.0, 40.0, 10.0]
    frame = pd.DataFrame({"close": close}, index=make_panel_index(["AAA", "BBB"], dates))
    for column in ("open", "high", "low", "volume"):
        frame[column] = frame["close"]
    return frame


def test_forward_log_return_matches_hand_computed_values_per_ticker() -> None:
    target = forward_log_return(_tiny_panel(), horizon=1)
    expected = [
        math.log(110 / 100),
        math.log(99 / 110),
        0.0,
        np.nan,  # AAA's last row: must not look at BBB's first price
        math.log(2.0),
        math.log(2.0),
        math.log(0.25),
        np.nan,
    ]
    assert target.name == "target"
    np.testing.assert_allclose(target.to_numpy(), expected)


def test_longer_horizon_leaves_the_last_h_rows_of_each_ticker_nan() -> None:
    target = forward_log_return(_tiny_panel(), horizon=2)
    np.testing.assert_allclose(
        target.to_numpy(),
        [math.log(0.99), math.log(0.9), np.nan, np.nan, math.log(4), math.log(0.5), np.nan, np.nan],
    )


@pytest.mark.parametrize("horizon", [0, -1, 1.5, True, "1"])
def test_invalid_horizon_is_refused(horizon: object) -> None:
    with pytest.raises(ValueError, match="horizon must be an integer >= 1"):
        forward_log_return(_tiny_panel(), horizon=horizon)  # type: ignore[arg-type]


def test_make_dataset_drops_incomplete_rows_and_sorts_by_date_then_ticker() -> None:
    panel = _tiny_panel()
    features = panel[["close"]].groupby(level="ticker").pct_change().rename(columns=str.upper)
    X, y = make_dataset(features, forward_log_return(panel, horizon=1))
    dates = pd.bdate_range("2024-01-01", periods=4)
    # First row of each ticker: feature warm-up; last row: no label yet.
    assert list(X.index) == [
        ("AAA", dates[1]),
        ("BBB", dates[1]),
        ("AAA", dates[2]),
        ("BBB", dates[2]),
    ]
    assert X.index.names == ["ticker", "date"]
    assert X.index.equals(y.index)
    assert not X.isna().any().any() and not y.isna().any()
    np.testing.assert_allclose(y.to_numpy(), [math.log(0.9), math.log(2), 0.0, math.log(0.25)])


def test_make_dataset_keeps_only_rows_present_in_both() -> None:
    panel = _tiny_panel()
    target = forward_log_return(panel, horizon=1)
    features = panel[["close"]].iloc[1:]
    X, y = make_dataset(features, target.iloc[:-2])
    assert len(X) == len(y) == 4  # AAA d1, d2 and BBB d0, d1
    assert X.index.equals(y.index)


def test_a_gap_in_one_ticker_leaves_labels_undefined_instead_of_stretching_them() -> None:
    dates = pd.bdate_range("2024-01-01", periods=6)
    full = pd.MultiIndex.from_product([["A", "B"], dates], names=["ticker", "date"])
    panel = pd.DataFrame({"close": np.arange(1.0, 13.0)}, index=full)
    panel = panel.drop(index=("B", dates[3]))  # B did not trade on the 4th date
    y = forward_log_return(panel, horizon=1)
    assert np.isnan(y.loc[("B", dates[2])])  # its next bar is two calendar dates away
    assert y.loc[("B", dates[4])] == pytest.approx(np.log(12.0 / 11.0))
    assert y.loc[("A", dates[2])] == pytest.approx(np.log(4.0 / 3.0))
    assert y.index.equals(panel.index)
    # every defined label ends exactly `horizon` panel dates later, where the ticker traded
    for horizon in (1, 2, 3):
        labels = forward_log_return(panel, horizon=horizon).dropna()
        for ticker, date in labels.index:
            end = dates[dates.get_loc(date) + horizon]
            assert (ticker, end) in panel.index
