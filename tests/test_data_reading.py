"""Files that cannot be read fail with one line naming the file and the fault, and only the
files (and rows) of the requested tickers are read at all."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from stockml.data import DataValidationError, load_files

# These files carry no adjusted close on purpose; the warning it causes is tested elsewhere.
pytestmark = pytest.mark.filterwarnings("ignore:.*prices are unadjusted:UserWarning")

HEADER = "Date,Open,High,Low,Close,Volume"
ROWS = [f"2001-01-{day:02d},10,11,9,10.5,1000" for day in range(2, 30)]
TEXT = "\n".join([HEADER, *ROWS]) + "\n"


def failure(path: Path, **kwargs) -> str:
    with pytest.raises(DataValidationError) as caught:
        load_files(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("acme.csv", b"", "acme.csv: file is empty"),
        ("acme.csv", b"\n\n", "acme.csv: file is empty"),
        ("acme.csv.gz", gzip.compress(b""), "acme.csv.gz: file is empty"),
        ("acme.csv", (HEADER + "\n").encode(), "acme.csv: file has a header but no data rows"),
        (
            "acme.csv",
            bytes(range(128, 256)) * 3,
            "acme.csv: not UTF-8 text (byte 0x80 at offset 0)",
        ),
        ("acme.csv", gzip.compress(TEXT.encode()), "it holds gzip data: name it .csv.gz"),
        ("acme.csv", TEXT.encode("utf-16"), "it is UTF-16 text: save it as UTF-8"),
        ("acme.csv.gz", gzip.compress(TEXT.encode())[:60], "acme.csv.gz: gzip data is truncated"),
        ("acme.csv.gz", TEXT.encode(), "acme.csv.gz: not gzip data although the name ends in .gz"),
        ("acme.parquet", b"", "acme.parquet: not a readable Parquet file"),
        ("acme.parquet", TEXT.encode(), "acme.parquet: not a readable Parquet file"),
    ],
    ids=[
        "empty",
        "blank-lines",
        "empty-gzip",
        "header-only",
        "binary",
        "gzip-named-csv",
        "utf16",
        "truncated-gzip",
        "text-named-gz",
        "empty-parquet",
        "text-named-parquet",
    ],
)
def test_unreadable_file_names_itself_and_the_fault(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    assert expected in failure(write_bytes(tmp_path / name, content))


def test_corrupt_gzip_stream_is_named(tmp_path: Path) -> None:
    packed = bytearray(gzip.compress((TEXT * 20).encode()))
    packed[12:40] = b"\xff" * 28  # inside the deflate stream
    assert "acme.csv.gz: gzip data is corrupt" in failure(
        write_bytes(tmp_path / "acme.csv.gz", packed)
    )


def test_parquet_with_a_date_index_loads_like_the_csv(tmp_path: Path) -> None:
    (tmp_path / "acme.csv").write_text(TEXT)
    frame = pd.read_csv(tmp_path / "acme.csv", parse_dates=["Date"]).set_index("Date")
    frame.to_parquet(tmp_path / "acme.parquet")
    pd.testing.assert_frame_equal(
        load_files(tmp_path / "acme.parquet"), load_files(tmp_path / "acme.csv")
    )


@pytest.fixture
def folder_with_a_broken_file(tmp_path: Path) -> Path:
    (tmp_path / "good.csv").write_text(TEXT)
    (tmp_path / "broken.csv.gz").write_bytes(gzip.compress(TEXT.encode())[:60])
    (tmp_path / "bad.csv").write_text(
        TEXT.replace("2001-01-05,10,11,9,10.5", "2001-01-05,10,x,9,1")
    )
    return tmp_path


def test_files_not_asked_for_are_not_read(folder_with_a_broken_file: Path) -> None:
    panel = load_files(folder_with_a_broken_file, tickers=["good"])
    assert list(panel.index.get_level_values("ticker").unique()) == ["GOOD"]
    assert len(panel) == len(ROWS)


def test_every_file_is_read_when_no_ticker_is_named(folder_with_a_broken_file: Path) -> None:
    assert "bad.csv: ticker BAD, row 4 (2001-01-05): column High" in failure(
        folder_with_a_broken_file
    )


def test_requested_ticker_in_a_long_file_is_found(folder_with_a_broken_file: Path) -> None:
    long = pd.concat(
        [pd.read_csv(folder_with_a_broken_file / "good.csv").assign(Ticker=t) for t in "XY"]
    )
    long.to_csv(folder_with_a_broken_file / "long.csv", index=False)
    # The long file must be opened to find X, and then the broken file is opened too.
    assert "broken.csv.gz: gzip data is truncated" in failure(
        folder_with_a_broken_file, tickers=["x"]
    )
    (folder_with_a_broken_file / "broken.csv.gz").unlink()
    (folder_with_a_broken_file / "bad.csv").unlink()
    panel = load_files(folder_with_a_broken_file, tickers=["x", "good"])
    assert sorted(panel.index.get_level_values("ticker").unique()) == ["GOOD", "X"]


def test_bad_rows_of_other_tickers_in_a_long_file_are_not_parsed(tmp_path: Path) -> None:
    rows = [f"{row},AAA" for row in ROWS] + [f"{row},BBB" for row in ROWS]
    rows[len(ROWS) + 3] = "2001-01-05,10,oops,9,10.5,1000,BBB"
    (tmp_path / "long.csv").write_text("\n".join([HEADER + ",Ticker", *rows]) + "\n")
    assert "long.csv: tickers from column Ticker, row 32 (2001-01-05): column High" in failure(
        tmp_path / "long.csv"
    )
    panel = load_files(tmp_path / "long.csv", tickers=["aaa"])
    assert list(panel.index.get_level_values("ticker").unique()) == ["AAA"]
    # Row numbers stay those of the file when only some rows are parsed.
    assert "Ticker, row 32 (2001-01-05)" in failure(tmp_path / "long.csv", tickers=["BBB"])


def test_unknown_ticker_still_lists_every_available_one(folder_with_a_broken_file: Path) -> None:
    (folder_with_a_broken_file / "broken.csv.gz").unlink()
    message = failure(folder_with_a_broken_file, tickers=["nope"])
    assert "unknown ticker(s) NOPE; available: BAD, GOOD" in message
