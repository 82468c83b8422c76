"""load_files: file layouts, formats, column spellings and date formats all give one panel."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pandas as pd
import pytest

from stockml.data import DataValidationError, load_files, load_sample

TICKERS = ("AAPL", "IBM")
ROWS = 40


def raw_sample(ticker: str) -> pd.DataFrame:
    """The first rows of a bundled file exactly as the vendor wrote them (text, unadjusted)."""
    with files("stockml.data").joinpath("sample", f"{ticker}.csv.gz").open("rb") as handle:
        return pd.read_csv(handle, compression="gzip", dtype=str).head(ROWS)


def long_frame() -> pd.DataFrame:
    parts = [raw_sample(ticker).assign(Ticker=ticker) for ticker in TICKERS]
    return pd.concat(parts, ignore_index=True)


@pytest.fixture
def per_ticker_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "per_ticker"
    folder.mkdir()
    for ticker in TICKERS:
        raw_sample(ticker).to_csv(folder / f"{ticker.lower()}.csv", index=False)
    return folder


@pytest.fixture
def expected() -> pd.DataFrame:
    return load_sample(tickers=list(TICKERS), end=raw_sample("IBM")["Date"].iloc[-1])


def test_per_ticker_directory_matches_the_sample(per_ticker_dir: Path, expected) -> None:
    panel = load_files(per_ticker_dir)
    assert list(panel.index.get_level_values("ticker").unique()) == list(TICKERS)
    pd.testing.assert_frame_equal(panel, expected)


def test_directory_equals_one_long_file(per_ticker_dir: Path, tmp_path: Path) -> None:
    long_path = tmp_path / "long.csv"
    long_frame().to_csv(long_path, index=False)
    pd.testing.assert_frame_equal(load_files(long_path), load_files(per_ticker_dir))


def test_parquet_round_trip_equals_csv(tmp_path: Path) -> None:
    frame = long_frame()
    frame.to_csv(tmp_path / "long.csv", index=False)
    typed = frame.astype({column: "float64" for column in frame.columns[1:7]})
    typed["Date"] = pd.to_datetime(typed["Date"])
    typed.to_parquet(tmp_path / "long.parquet")
    pd.testing.assert_frame_equal(
        load_files(tmp_path / "long.parquet"), load_files(tmp_path / "long.csv")
    )


def test_parquet_directory_of_text_columns(tmp_path: Path, expected) -> None:
    for ticker in TICKERS:
        raw_sample(ticker).to_parquet(tmp_path / f"{ticker}.parquet")
    pd.testing.assert_frame_equal(load_files(tmp_path, file_format="parquet"), expected)


def test_gzipped_csv_and_home_relative_path(tmp_path: Path, monkeypatch, expected) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    raw_sample("IBM").to_csv(tmp_path / "ibm.csv.gz", index=False, compression="gzip")
    panel = load_files("~/ibm.csv.gz")
    pd.testing.assert_frame_equal(panel, expected.loc[["IBM"]])


def test_single_file_without_ticker_column_is_named_after_the_file(tmp_path: Path) -> None:
    raw_sample("IBM").to_csv(tmp_path / "my.prices.csv", index=False)
    panel = load_files(tmp_path / "my.prices.csv")
    assert list(panel.index.get_level_values("ticker").unique()) == ["MY.PRICES"]


def test_file_format_overrides_the_suffix(tmp_path: Path, expected) -> None:
    raw_sample("IBM").to_csv(tmp_path / "ibm.txt", index=False)
    with pytest.raises(DataValidationError, match=r"ibm\.txt.*file_format"):
        load_files(tmp_path / "ibm.txt")
    pd.testing.assert_frame_equal(
        load_files(tmp_path / "ibm.txt", file_format="csv"), expected.loc[["IBM"]]
    )


def test_directory_skips_files_that_are_not_data(per_ticker_dir: Path, expected) -> None:
    (per_ticker_dir / "NOTICE").write_text("not a ticker\n")
    (per_ticker_dir / "README.md").write_text("# not a ticker\n")
    pd.testing.assert_frame_equal(load_files(per_ticker_dir), expected)


def test_directory_file_format_restricts_the_files(per_ticker_dir: Path) -> None:
    with pytest.raises(DataValidationError, match=r"no data files \(\.parquet, \.pq\)"):
        load_files(per_ticker_dir, file_format="parquet")


def test_unknown_file_format_value_is_an_error(per_ticker_dir: Path) -> None:
    with pytest.raises(ValueError, match="csv, parquet"):
        load_files(per_ticker_dir, file_format="xlsx")


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_files(tmp_path / "nowhere")


def test_ticker_in_two_files_is_an_error(per_ticker_dir: Path) -> None:
    raw_sample("IBM").to_csv(per_ticker_dir / "IBM.csv.gz", index=False, compression="gzip")
    with pytest.raises(DataValidationError, match=r"ticker IBM appears in both .*ibm\.csv"):
        load_files(per_ticker_dir)


@pytest.mark.parametrize(
    "header",
    [
        "DATE,OPEN,HIGH,LOW,CLOSE,VOLUME,ADJ CLOSE",
        "date,open,high,low,close,volume,adj_close",
        " Date , Open,High,Low,Close,Volume,AdjClose",
        "Date,Open,High,Low,Close,Volume,Adjusted_Close",
    ],
)
def test_column_names_are_matched_loosely(tmp_path: Path, header: str, expected) -> None:
    raw = raw_sample("IBM")
    raw.columns = [name.strip() for name in header.split(",")]
    raw.to_csv(tmp_path / "ibm.csv", index=False)
    pd.testing.assert_frame_equal(load_files(tmp_path / "ibm.csv"), expected.loc[["IBM"]])


def test_custom_ticker_and_date_columns(tmp_path: Path, per_ticker_dir: Path) -> None:
    frame = long_frame().rename(columns={"Ticker": "Symbol", "Date": "Day"})
    frame.to_csv(tmp_path / "long.csv", index=False)
    panel = load_files(tmp_path / "long.csv", ticker_column="symbol", date_column="DAY")
    pd.testing.assert_frame_equal(panel, load_files(per_ticker_dir))


def test_no_adjusted_close_means_no_adjustment(tmp_path: Path) -> None:
    raw_sample("IBM").drop(columns="Adj Close").to_csv(tmp_path / "ibm.csv", index=False)
    with pytest.warns(UserWarning, match="ticker IBM: prices are unadjusted"):
        adjusted = load_files(tmp_path / "ibm.csv")
    pd.testing.assert_frame_equal(adjusted, load_files(tmp_path / "ibm.csv", adjust=False))
    assert adjusted["close"].iloc[0] == 100.25


@pytest.mark.parametrize(
    "date_format",
    ["%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%Y%m%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d 16:00:00"],
)
def test_date_formats(tmp_path: Path, date_format: str, expected) -> None:
    raw = raw_sample("IBM")
    raw["Date"] = pd.to_datetime(raw["Date"]).dt.strftime(date_format)
    raw.to_csv(tmp_path / "ibm.csv", index=False)
    pd.testing.assert_frame_equal(load_files(tmp_path / "ibm.csv"), expected.loc[["IBM"]])


def test_day_first_dates_are_read_day_first(tmp_path: Path) -> None:
    # 01.03.2000 must be the 1st of March: %d.%m.%Y, never confused with US order.
    raw = raw_sample("IBM").head(2)
    raw["Date"] = ["01.03.2000", "02.03.2000"]
    raw.to_csv(tmp_path / "ibm.csv", index=False)
    dates = load_files(tmp_path / "ibm.csv").index.get_level_values("date")
    assert list(dates) == [pd.Timestamp("2000-03-01"), pd.Timestamp("2000-03-02")]


def test_unparseable_date_names_file_and_column(tmp_path: Path) -> None:
    raw = raw_sample("IBM").head(3)
    raw["Date"] = ["2000-03-01", "yesterday", "2000-03-03"]
    raw.to_csv(tmp_path / "ibm.csv", index=False)
    pattern = r"ibm\.csv: ticker IBM, row 2: column Date value 'yesterday'"
    with pytest.raises(DataValidationError, match=pattern) as caught:
        load_files(tmp_path / "ibm.csv")
    assert "\n" not in str(caught.value)
