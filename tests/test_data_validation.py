"""Bad input data: every problem is a one-line error naming file, ticker and column or row,
or a reported repair under the ``missing`` policy."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from stockml.data import DataValidationError, load_files

HEADER = "Date,Open,High,Low,Close,Volume,Adj Close"
GOOD_ROWS = [
    "2001-01-02,10,11,9,10.5,1000,5.25",
    "2001-01-03,10.5,12,10,11,1200,5.5",
    "2001-01-04,11,11.5,10.5,11,900,5.5",
    "2001-01-05,11,11.2,10.8,11.1,800,5.55",
]


def write_csv(folder: Path, rows: list[str], name: str = "acme.csv", header: str = HEADER) -> Path:
    path = folder / name
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def failure(path: Path, **kwargs) -> str:
    """The message of the DataValidationError loading ``path`` raises, checked to be one line."""
    with pytest.raises(DataValidationError) as caught:
        load_files(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


def with_row(index: int, row: str) -> list[str]:
    rows = list(GOOD_ROWS)
    rows[index] = row
    return rows


def test_good_rows_load(tmp_path: Path) -> None:
    panel = load_files(write_csv(tmp_path, GOOD_ROWS))
    assert panel.shape == (4, 5)
    assert panel["close"].iloc[0] == pytest.approx(5.25)  # adjusted by 5.25 / 10.5


def test_missing_required_columns_are_named(tmp_path: Path) -> None:
    path = write_csv(tmp_path, ["2001-01-02,10,11,10.5"], header="Date,Open,High,Close")
    message = failure(path)
    assert "acme.csv" in message
    assert "ticker ACME" in message
    assert "missing required column(s) low, volume" in message
    assert "found Date, Open, High, Close" in message


def test_missing_date_column_uses_the_configured_name(tmp_path: Path) -> None:
    path = write_csv(tmp_path, GOOD_ROWS)
    assert "missing required column(s) timestamp" in failure(path, date_column="timestamp")


def test_unparseable_date_names_file_row_and_column(tmp_path: Path) -> None:
    message = failure(write_csv(tmp_path, with_row(2, "2001-01-32,11,11.5,10.5,11,900,5.5")))
    assert "acme.csv: ticker ACME, row 3: column Date value '2001-01-32'" in message


def test_empty_date_is_an_error(tmp_path: Path) -> None:
    message = failure(write_csv(tmp_path, with_row(1, ",11,11.5,10.5,11,900,5.5")))
    assert "acme.csv: ticker ACME, row 2: column Date is empty" in message


def test_ambiguous_columns_are_an_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path, ["2001-01-02,10,11,9,10.5,1000,10"], header=HEADER + ",CLOSE")
    message = failure(path)
    assert "acme.csv" in message
    assert "'Close' and 'CLOSE'" in message


def test_non_numeric_value_names_the_first_bad_row(tmp_path: Path) -> None:
    rows = with_row(2, "2001-01-04,11,11.5,ten,11,900,5.5")
    rows[3] = "2001-01-05,x,11.2,oops,11.1,800,5.55"
    message = failure(write_csv(tmp_path, rows))
    assert "acme.csv: ticker ACME, row 3 (2001-01-04)" in message
    assert "column Low" in message
    assert "'ten'" in message


def test_infinite_value_is_not_a_number(tmp_path: Path) -> None:
    message = failure(write_csv(tmp_path, with_row(1, "2001-01-03,10.5,inf,10,11,1200,5.5")))
    assert "row 2 (2001-01-03)" in message
    assert "column High" in message


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("2001-01-03,0,12,10,11,1200,5.5", "open"),
        ("2001-01-03,10.5,12,-1,11,1200,5.5", "low"),
        ("2001-01-03,10.5,12,10,11,1200,0", "adj_close"),
    ],
)
def test_non_positive_price_is_an_error(tmp_path: Path, row: str, column: str) -> None:
    message = failure(write_csv(tmp_path, with_row(1, row)))
    assert "acme.csv: ticker ACME, row 2 (2001-01-03)" in message
    assert f"column {column} has non-positive price" in message


def test_negative_volume_is_an_error_but_zero_is_not(tmp_path: Path) -> None:
    assert "column volume is negative" in failure(
        write_csv(tmp_path, with_row(1, "2001-01-03,10.5,12,10,11,-5,5.5"))
    )
    panel = load_files(write_csv(tmp_path, with_row(1, "2001-01-03,10.5,12,10,11,0,5.5")))
    assert panel["volume"].iloc[1] == 0.0


def test_high_below_low_names_the_date(tmp_path: Path) -> None:
    message = failure(write_csv(tmp_path, with_row(2, "2001-01-04,11,10,11.5,11,900,5.5")))
    assert "acme.csv: ticker ACME, row 3 (2001-01-04): high 10.0 < low 11.5" in message


@pytest.mark.parametrize(
    ("row", "column"),
    [("2001-01-04,12,11.5,10.5,11,900,5.5", "open"), ("2001-01-04,11,11.5,10.5,10,900,5", "close")],
)
def test_open_or_close_outside_the_range_is_an_error(tmp_path: Path, row: str, column: str) -> None:
    message = failure(write_csv(tmp_path, with_row(2, row)))
    assert "ticker ACME, row 3 (2001-01-04)" in message
    assert f"column {column}" in message
    assert "outside low 10.5 .. high 11.5" in message


def test_duplicate_dates_are_an_error(tmp_path: Path) -> None:
    message = failure(write_csv(tmp_path, with_row(3, "2001-01-03,11,11.2,10.8,11.1,800,5.55")))
    assert "acme.csv: ticker ACME: duplicate date 2001-01-03 in rows 2, 4" in message


def test_blank_ticker_in_a_long_file_is_an_error(tmp_path: Path) -> None:
    rows = [f"{row},ACME" for row in GOOD_ROWS]
    rows[1] = GOOD_ROWS[1] + ","
    message = failure(write_csv(tmp_path, rows, name="long.csv", header=HEADER + ",Ticker"))
    assert "long.csv, row 2: column ticker is empty" in message


def test_long_file_errors_name_the_ticker(tmp_path: Path) -> None:
    rows = [f"{row},ACME" for row in GOOD_ROWS] + [f"{row},BETA" for row in GOOD_ROWS]
    rows[5] = "2001-01-03,10.5,9,10,11,1200,5.5,BETA"
    message = failure(write_csv(tmp_path, rows, name="long.csv", header=HEADER + ",Ticker"))
    assert "long.csv: ticker BETA, row 6 (2001-01-03): high 9.0 < low 10.0" in message


def test_checks_apply_only_to_rows_inside_the_date_range(tmp_path: Path) -> None:
    path = write_csv(tmp_path, with_row(0, "2001-01-02,10,8,9,10.5,1000,5.25"))
    assert "high 8.0 < low 9.0" in failure(path)
    assert len(load_files(path, start="2001-01-03")) == 3


def test_missing_drop_reports_rows_per_ticker(tmp_path: Path, caplog) -> None:
    rows = [f"{row},ACME" for row in GOOD_ROWS] + [f"{row},BETA" for row in GOOD_ROWS]
    rows[1] = "2001-01-03,10.5,12,,11,1200,5.5,ACME"
    rows[2] = "2001-01-04,11,11.5,10.5,11,,5.5,ACME"
    rows[7] = "2001-01-05,,11.2,10.8,11.1,800,5.55,BETA"
    path = write_csv(tmp_path, rows, name="long.csv", header=HEADER + ",Ticker")
    with caplog.at_level(logging.WARNING), pytest.warns(UserWarning) as record:
        panel = load_files(path)
    message = str(record[0].message)
    assert "ACME: dropped 2 rows" in message
    assert "BETA: dropped 1 rows" in message
    assert "long.csv" in message
    assert "ACME: dropped 2 rows" in caplog.text
    assert panel.xs("ACME").index.strftime("%Y-%m-%d").tolist() == ["2001-01-02", "2001-01-05"]
    assert len(panel.xs("BETA")) == 3


def test_missing_adjusted_close_counts_only_when_adjusting(tmp_path: Path) -> None:
    path = write_csv(tmp_path, with_row(1, "2001-01-03,10.5,12,10,11,1200,"))
    with pytest.warns(UserWarning, match="dropped 1 rows"):
        assert len(load_files(path)) == 3
    assert len(load_files(path, adjust=False)) == 4


def test_missing_ffill_fills_from_the_previous_row(tmp_path: Path) -> None:
    rows = with_row(0, "2001-01-02,,11,9,10.5,1000,5.25")
    rows[2] = "2001-01-04,11,,10.5,11,900,5.5"
    path = write_csv(tmp_path, rows)
    with pytest.warns(UserWarning, match="forward-filled 1 values, dropped 1 leading rows"):
        panel = load_files(path, missing="ffill", adjust=False)
    acme = panel.xs("ACME")
    assert acme.index.strftime("%Y-%m-%d").tolist() == [
        "2001-01-03",
        "2001-01-04",
        "2001-01-05",
    ]
    assert acme.loc["2001-01-04", "high"] == 12.0
    assert not np.isnan(acme.to_numpy()).any()


def test_missing_raise_names_the_first_row_and_column(tmp_path: Path) -> None:
    rows = with_row(2, "2001-01-04,11,11.5,10.5,,900,5.5")
    message = failure(write_csv(tmp_path, rows), missing="raise")
    assert "acme.csv: ticker ACME, row 3 (2001-01-04): column close is missing" in message


def test_complete_data_loads_silently(tmp_path: Path, recwarn) -> None:
    load_files(write_csv(tmp_path, GOOD_ROWS), missing="raise")
    load_files(write_csv(tmp_path, GOOD_ROWS))
    assert len(recwarn) == 0
