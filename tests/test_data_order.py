"""Row order in a file never changes what is loaded: every step that looks at neighbouring
rows (forward fill, adjustment steps, split checks) runs on rows sorted oldest first."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pandas as pd
import pytest

from stockml.data import load_files

HEADER = "Date,Open,High,Low,Close,Volume,Adj Close"
ROWS = [
    "2001-01-02,10,11,9,10.5,1000,5.25",
    "2001-01-03,10.5,12,10,11,1200,5.5",
    "2001-01-04,11,11.5,10.5,,900,5.5",  # close missing: ffill must take 01-03's close
    "2001-01-05,20,21,19,20,800,10",
]


def write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


@pytest.mark.parametrize("adjust", [False, True])
def test_ffill_of_a_newest_first_file_takes_the_previous_day(tmp_path: Path, adjust) -> None:
    oldest_first = write(tmp_path / "up.csv", ROWS)
    newest_first = write(tmp_path / "down.csv", ROWS[::-1])
    with pytest.warns(UserWarning, match="forward-filled 1 values"):
        expected = load_files(oldest_first, missing="ffill", adjust=adjust)
    with pytest.warns(UserWarning, match="forward-filled 1 values"):
        reversed_panel = load_files(newest_first, missing="ffill", adjust=adjust)
    pd.testing.assert_frame_equal(reversed_panel.droplevel("ticker"), expected.droplevel("ticker"))
    if not adjust:
        assert reversed_panel.xs("DOWN").loc["2001-01-04", "close"] == 11.0  # not 01-05's 20


def test_shuffled_real_file_loads_like_the_sorted_one(tmp_path: Path) -> None:
    with files("stockml.data").joinpath("sample", "IBM.csv.gz").open("rb") as handle:
        raw = pd.read_csv(handle, compression="gzip", dtype=str).head(300)
    raw.to_csv(tmp_path / "up.csv", index=False)
    raw.sample(frac=1.0, random_state=0).to_csv(tmp_path / "mixed.csv", index=False)
    pd.testing.assert_frame_equal(
        load_files(tmp_path / "mixed.csv").droplevel("ticker"),
        load_files(tmp_path / "up.csv").droplevel("ticker"),
    )


def test_error_rows_are_file_rows_after_sorting(tmp_path: Path) -> None:
    rows = ROWS[::-1]
    rows[0] = "2001-01-05,20,18,19,20,800,10"  # high < low on the first data row
    with pytest.raises(ValueError, match=r"row 1 \(2001-01-05\): high 18\.0 < low 19\.0"):
        load_files(write(tmp_path / "down.csv", rows), missing="ffill")
