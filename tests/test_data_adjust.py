"""Adjustment: prices by the vendor's factor, volume by splits only, and a warning per ticker
when a file cannot be adjusted, listing the moves that look like unadjusted splits."""

from __future__ import annotations

import warnings
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stockml.data import load_files

DATES = pd.bdate_range("2001-01-02", periods=7).strftime("%Y-%m-%d")
CLOSE = np.array([100.0, 102.0, 101.0, 51.0, 52.0, 50.0, 50.5])  # 2:1 split on the 4th bar
VOLUME = np.array([1000.0, 1000.0, 1000.0, 2000.0, 2000.0, 2000.0, 2000.0])  # shares double
SPLIT_AT, DIVIDEND_AT, DIVIDEND = 3, 5, 2.0  # a 2.0 dividend goes ex on the 6th bar


def vendor_frame(dividend: float = DIVIDEND, close: np.ndarray = CLOSE) -> pd.DataFrame:
    """Bars with an adjusted close built the way vendors do: back-adjusted for both events."""
    factor = np.ones(len(close))
    factor[:SPLIT_AT] /= 2.0
    factor[:DIVIDEND_AT] *= 1.0 - dividend / close[DIVIDEND_AT - 1]
    return pd.DataFrame(
        {
            "Date": DATES,
            "Open": close,
            "High": close * 1.01,
            "Low": close * 0.99,
            "Close": close,
            "Volume": VOLUME,
            "Adj Close": close * factor,
        }
    )


def load_quietly(path: Path, **kwargs) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fully adjusted file loads without a word
        return load_files(path, **kwargs).droplevel("ticker")


@pytest.mark.parametrize("newest_first", [False, True])
def test_volume_is_split_adjusted_only(tmp_path: Path, newest_first: bool) -> None:
    frame = vendor_frame()
    frame.iloc[:: -1 if newest_first else 1].to_csv(tmp_path / "acme.csv", index=False)
    panel = load_quietly(tmp_path / "acme.csv")
    np.testing.assert_allclose(panel["volume"], 2000.0)  # not 2080 before the dividend
    np.testing.assert_allclose(panel["close"], frame["Adj Close"])
    np.testing.assert_allclose(panel["open"], frame["Adj Close"])


def test_split_column_tells_a_large_dividend_from_a_split(tmp_path: Path) -> None:
    # A dividend of a third of the price steps the factor like a 3:2 split would.
    close = np.array([100.0, 102.0, 101.0, 51.0, 52.0, 35.0, 35.5])  # it goes ex at 52 -> 35
    frame = vendor_frame(dividend=close[DIVIDEND_AT - 1] / 3.0, close=close)
    frame["Split Coefficient"] = [1, 1, 1, 2, 1, 1, 1]
    frame.to_csv(tmp_path / "acme.csv", index=False)
    np.testing.assert_allclose(load_quietly(tmp_path / "acme.csv")["volume"], 2000.0)


def test_split_column_without_adjusted_close_adjusts_for_splits(tmp_path: Path) -> None:
    frame = vendor_frame().drop(columns="Adj Close")
    frame["Stock Splits"] = [0, 0, 0, 2, 0, 0, 0]  # Yahoo's spelling: 0 on ordinary days
    frame.to_csv(tmp_path / "acme.csv", index=False)
    with pytest.warns(UserWarning, match="split-adjusted from the split column only") as record:
        panel = load_files(tmp_path / "acme.csv").droplevel("ticker")
    assert len(record) == 1
    np.testing.assert_allclose(panel["close"], [50, 51, 50.5, 51, 52, 50, 50.5])
    np.testing.assert_allclose(panel["volume"], 2000.0)


def test_split_on_a_dropped_bar_still_adjusts_the_bars_before_it(tmp_path: Path) -> None:
    frame = vendor_frame().drop(columns="Adj Close")
    frame["split_coefficient"] = [1, 1, 1, 2, 1, 1, 1]
    frame.loc[SPLIT_AT, "High"] = np.nan  # the split bar is dropped under missing=drop
    frame.to_csv(tmp_path / "acme.csv", index=False)
    with pytest.warns(UserWarning):
        panel = load_files(tmp_path / "acme.csv").droplevel("ticker")
    assert len(panel) == 6
    np.testing.assert_allclose(panel["volume"], 2000.0)


def test_negative_split_ratio_is_an_error(tmp_path: Path) -> None:
    frame = vendor_frame()
    frame["Split Factor"] = [1, 2, 1, -2, 1, 1, 1]
    frame.to_csv(tmp_path / "acme.csv", index=False)
    pattern = r"row 4 \(2001-01-05\): column Split Factor has negative split ratio -2\.0$"
    with pytest.raises(ValueError, match=pattern):
        load_files(tmp_path / "acme.csv")


def test_stale_adjusted_close_that_keeps_a_split_is_flagged(tmp_path: Path) -> None:
    frame = vendor_frame().assign(**{"Adj Close": CLOSE})  # the vendor never adjusted it
    frame.to_csv(tmp_path / "acme.csv", index=False)
    with pytest.warns(UserWarning) as record:
        load_files(tmp_path / "acme.csv")
    assert [str(item.message).split(": ", 1)[1] for item in record] == [
        "ticker ACME: adjusted prices still jump like unadjusted split(s): 2001-01-05 (2:1)"
    ]


def unadjusted_warnings(path: Path, **kwargs) -> list[str]:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        load_files(path, **kwargs)
    return [str(item.message) for item in record]


def test_unadjusted_file_warns_once_per_ticker_and_flags_splits(tmp_path: Path) -> None:
    # A 2:1 split, a -26% crash, a 1:10 reverse split, a -59% crash: only the splits are
    # within the tolerance of a split ratio.
    close = np.array([40.0, 41.0, 20.4, 20.0, 14.8, 15.0, 150.0, 148.0, 60.0, 61.0])
    frame = pd.DataFrame(
        {
            "Date": pd.bdate_range("2001-01-02", periods=len(close)).strftime("%Y-%m-%d"),
            "Open": close,
            "High": close,
            "Low": close,
            "Close": close,
            "Volume": 1000.0,
        }
    )
    long = pd.concat([frame.assign(Ticker="AAA"), frame.assign(Ticker="BBB")])
    long.to_csv(tmp_path / "long.csv", index=False)
    messages = unadjusted_warnings(tmp_path / "long.csv")
    assert len(messages) == 2
    assert all("\n" not in message for message in messages)
    first = messages[0]
    assert "long.csv: ticker AAA: prices are unadjusted (no adjusted-close or split " in first
    assert "data.adjust=false" in first
    assert first.endswith("probable unadjusted split(s): 2001-01-04 (2:1), 2001-01-10 (1:10)")
    assert "ticker BBB" in messages[1]
    assert unadjusted_warnings(tmp_path / "long.csv", adjust=False) == []


def test_real_unadjusted_file_flags_its_two_splits(tmp_path: Path) -> None:
    with files("stockml.data").joinpath("sample", "AAPL.csv.gz").open("rb") as handle:
        raw = pd.read_csv(handle, compression="gzip", dtype=str)
    raw.drop(columns="Adj Close").to_csv(tmp_path / "aapl.csv", index=False)
    (message,) = unadjusted_warnings(tmp_path / "aapl.csv")
    assert message.endswith("probable unadjusted split(s): 2000-06-21 (2:1), 2005-02-28 (2:1)")
