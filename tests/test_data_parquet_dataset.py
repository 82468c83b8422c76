"""data=parquet_dataset: a partitioned Parquet store gives the same panel as loading it all and
filtering, while files outside the selection are never opened."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from stockml.data import DataValidationError, load_dataset, load_sample
from tests.stockml_runs import FAST, run_stockml

WANTED = ["MSFT", "ibm"]  # lower case on purpose: tickers are matched as the parser reads them
START, END = "2005-03-01", "2006-12-31"
LAYOUTS = ("ticker", "year", "plain")


def vendor_rows() -> pd.DataFrame:
    """The bundled sample as one long table, typed as a Parquet store would hold it."""
    parts = []
    for ticker in ("AAPL", "GOOG", "IBM", "MSFT"):
        with files("stockml.data").joinpath("sample", f"{ticker}.csv.gz").open("rb") as handle:
            frame = pd.read_csv(handle, compression="gzip", parse_dates=["Date"])
        parts.append(frame.assign(ticker=ticker))
    return pd.concat(parts, ignore_index=True)


def write_store(root: Path, layout: str) -> Path:
    """The sample written as a dataset: Hive-partitioned by ticker or year, or plain files."""
    rows = vendor_rows()
    if layout == "year":
        rows["year"] = rows["Date"].dt.year
    table = pa.Table.from_pandas(rows, preserve_index=False)
    partitioning = None if layout == "plain" else [layout]
    ds.write_dataset(
        table,
        root,
        format="parquet",
        partitioning=partitioning,
        partitioning_flavor=None if layout == "plain" else "hive",
        max_rows_per_file=4000,  # several files in the plain layout too
        max_rows_per_group=500,
    )
    return root


@pytest.fixture(params=LAYOUTS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return write_store(tmp_path / "store", request.param)


def corrupt(path: Path) -> None:
    path.write_bytes(b"PAR1 this is not a Parquet file")


@pytest.mark.parametrize("adjust", [False, True])
def test_selection_equals_loading_everything_then_filtering(store: Path, adjust: bool) -> None:
    everything = load_dataset(store, adjust=adjust)
    selected = load_dataset(store, tickers=WANTED, start=START, end=END, adjust=adjust)
    if not adjust:
        dates = everything.index.get_level_values("date")
        in_range = (dates >= START) & (dates <= END)
        tickers = everything.index.get_level_values("ticker").isin(["MSFT", "IBM"])
        pd.testing.assert_frame_equal(selected, everything[in_range & tickers])
    # Adjustment anchors volume at the last bar loaded, so the reference is the CSV loader
    # given the same selection: the same checks and adjustment, from another source.
    reference = load_sample(tickers=WANTED, start=START, end=END, adjust=adjust)
    pd.testing.assert_frame_equal(selected, reference)


def test_whole_store_equals_the_csv_sample(store: Path) -> None:
    pd.testing.assert_frame_equal(load_dataset(store), load_sample())


def test_unrequested_ticker_partition_is_never_opened(tmp_path: Path) -> None:
    root = write_store(tmp_path / "store", "ticker")
    # AAPL sorts first: not even the schema may be read from it.
    for path in (root / "ticker=AAPL").glob("*.parquet"):
        corrupt(path)
    panel = load_dataset(root, tickers=WANTED, start=START, end=END)
    assert sorted(panel.index.get_level_values("ticker").unique()) == ["IBM", "MSFT"]
    with pytest.raises(DataValidationError, match="not a readable Parquet dataset"):
        load_dataset(root, tickers=["AAPL"])


def test_years_outside_the_dates_are_never_opened(tmp_path: Path) -> None:
    root = write_store(tmp_path / "store", "year")
    for year in (2000, 2001, 2010):
        for path in (root / f"year={year}").glob("*.parquet"):
            corrupt(path)
    panel = load_dataset(root, start=START, end=END)
    dates = panel.index.get_level_values("date")
    assert dates.min() >= pd.Timestamp(START)
    assert dates.max() <= pd.Timestamp(END)
    with pytest.raises(DataValidationError, match="not a readable Parquet dataset"):
        load_dataset(root, start="2010-06-01")


def test_only_the_parsed_columns_are_read(tmp_path: Path) -> None:
    root = write_store(tmp_path / "store", "plain")
    # A column the parser never reads may hold anything: in the last file, give one a type
    # the schema (taken from the first file) cannot be cast to. Reading it would fail.
    last = sorted(root.glob("*.parquet"))[-1]
    table = pq.read_table(last)
    adjusted = table.schema.get_field_index("Adj Close")
    lists = pa.array([[1.0]] * table.num_rows)
    pq.write_table(table.set_column(adjusted, "Adj Close", lists), last)
    panel = load_dataset(root, adjust=False)
    pd.testing.assert_frame_equal(panel, load_sample(adjust=False))
    with pytest.raises(DataValidationError, match="not a readable Parquet dataset"):
        load_dataset(root, adjust=True)


@pytest.mark.parametrize(
    ("build", "kwargs", "message"),
    [
        (lambda root: None, {}, "no such directory"),
        (lambda root: root.mkdir(), {}, "directory holds no Parquet files"),
        (lambda root: (root.mkdir(), (root / "README.md").write_text("x")), {}, "no Parquet"),
        (lambda root: write_store(root, "ticker"), {"tickers": ["XYZ"]}, "unknown ticker"),
        (lambda root: write_store(root, "plain"), {"tickers": ["XYZ"]}, "unknown ticker"),
        (
            lambda root: write_store(root, "ticker"),
            {"tickers": ["GOOG"], "end": "2002-01-01"},
            "GOOG have no rows",
        ),
        (
            lambda root: write_store(root, "plain"),
            {"ticker_column": "symbol"},
            "no ticker column 'symbol'",
        ),
    ],
)
def test_bad_stores_fail_with_one_line(tmp_path: Path, build, kwargs, message) -> None:
    root = tmp_path / "store"
    build(root)
    with pytest.raises((DataValidationError, FileNotFoundError)) as caught:
        load_dataset(root, **kwargs)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unknown_ticker_lists_the_available_ones(tmp_path: Path) -> None:
    root = write_store(tmp_path / "store", "ticker")
    with pytest.raises(DataValidationError, match="available: AAPL, GOOG, IBM, MSFT"):
        load_dataset(root, tickers=["MSFT", "XYZ"])


def test_a_file_path_points_to_data_parquet(tmp_path: Path) -> None:
    path = tmp_path / "one.parquet"
    vendor_rows().to_parquet(path)
    with pytest.raises(DataValidationError, match="use data=parquet"):
        load_dataset(path)


SELECTION = ["data.tickers=[AAPL,MSFT]", "data.start=2008-01-01", *FAST]
QUIET = ["tracking.enabled=false", "store.enabled=false"]


def predictions(root: Path) -> str:
    (found,) = root.glob("outputs/runs/*/*/holdout_predictions.csv")
    return found.read_text()


@pytest.mark.slow
def test_cli_run_on_a_store_matches_the_same_run_on_the_sample(tmp_path: Path) -> None:
    store = write_store(tmp_path / "store", "ticker")
    on_store, on_sample = tmp_path / "store_run", tmp_path / "sample_run"
    on_store.mkdir()
    on_sample.mkdir()
    completed = run_stockml(
        on_store, "data=parquet_dataset", f"data.path={store}", *SELECTION, *QUIET
    )
    assert completed.returncode == 0, completed.stderr
    assert run_stockml(on_sample, "data=sample", *SELECTION, *QUIET).returncode == 0
    assert predictions(on_store) == predictions(on_sample)


@pytest.mark.slow
def test_cli_bad_store_is_one_line(tmp_path: Path) -> None:
    completed = run_stockml(
        tmp_path, "data=parquet_dataset", f"data.path={tmp_path / 'nowhere'}", *FAST, *QUIET
    )
    assert completed.returncode == 1
    assert completed.stderr.strip().splitlines() == [
        f"stockml: error: {tmp_path / 'nowhere'}: no such directory"
    ]


def test_data_parquet_on_a_partitioned_store_names_the_option(tmp_path: Path) -> None:
    from stockml.data import load_files

    root = write_store(tmp_path / "store", "ticker")
    with pytest.raises(DataValidationError, match="use data=parquet_dataset"):
        load_files(root, file_format="parquet")


def test_a_corrupt_file_a_plain_store_must_scan_fails_in_one_line(tmp_path: Path) -> None:
    root = write_store(tmp_path / "store", "plain")
    corrupt(sorted(root.glob("*.parquet"))[-1])
    with pytest.raises(DataValidationError, match="not a readable Parquet dataset"):
        load_dataset(root, tickers=["XYZ"])
