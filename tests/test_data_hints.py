"""A file that does not fit the defaults fails in one line naming the option that reads it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hydra.utils import instantiate

from stockml.config import compose_config
from stockml.data import DataValidationError, load_files

# These files carry no adjusted close on purpose; the warning it causes is tested elsewhere.
pytestmark = pytest.mark.filterwarnings("ignore:.*prices are unadjusted:UserWarning")

ROWS = [
    ("2005-12-29", "10", "11", "9", "10.5", "1000"),
    ("2005-12-30", "10.5", "12", "10", "11", "1200"),
    ("2005-12-31", "11", "11.5", "10.5", "11", "900"),
]


def frame(date_header: str = "Date") -> pd.DataFrame:
    return pd.DataFrame(ROWS, columns=[date_header, "Open", "High", "Low", "Close", "Volume"])


def failure(path: Path, **kwargs) -> str:
    with pytest.raises(DataValidationError) as caught:
        load_files(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    assert path.name in message
    return message


@pytest.mark.parametrize("header", ["Timestamp", "Datetime", "time", "Trade Date"])
def test_timestamp_column_names_data_date_column(tmp_path: Path, header: str) -> None:
    frame(header).to_csv(tmp_path / "acme.csv", index=False)
    assert f"set data.date_column={header}" in failure(tmp_path / "acme.csv")
    assert len(load_files(tmp_path / "acme.csv", date_column=header)) == 3


def test_missing_prices_alone_name_no_date_option(tmp_path: Path) -> None:
    frame().drop(columns="Volume").to_csv(tmp_path / "acme.csv", index=False)
    assert "data.date_column" not in failure(tmp_path / "acme.csv")


@pytest.mark.parametrize("header", ["Symbol", "Name"])
def test_long_file_with_another_ticker_header_names_data_ticker_column(
    tmp_path: Path, header: str
) -> None:
    long = pd.concat([frame().assign(**{header: name}) for name in ("AAA", "BBB")])
    long.to_csv(tmp_path / "long.csv", index=False)
    message = failure(tmp_path / "long.csv")
    assert f"set data.ticker_column={header}" in message
    assert "read as one ticker (LONG)" in message
    # Asking for one of its tickers must not end in "unknown ticker AAA; available: LONG".
    assert f"set data.ticker_column={header}" in failure(tmp_path / "long.csv", tickers=["AAA"])
    panel = load_files(tmp_path / "long.csv", ticker_column=header)
    assert sorted(panel.index.get_level_values("ticker").unique()) == ["AAA", "BBB"]


def test_ticker_like_header_is_preferred(tmp_path: Path) -> None:
    long = pd.concat(
        [
            frame().assign(Exchange=exchange, Symbol=name)
            for name, exchange in [("A", "X"), ("B", "Y")]
        ]
    )
    long.to_csv(tmp_path / "long.csv", index=False)
    assert "set data.ticker_column=Symbol" in failure(tmp_path / "long.csv")


def test_true_duplicate_dates_keep_the_duplicate_message(tmp_path: Path) -> None:
    pd.concat([frame(), frame().iloc[[1]]]).assign(Exchange="X").to_csv(
        tmp_path / "acme.csv", index=False
    )
    message = failure(tmp_path / "acme.csv")
    assert "duplicate date 2005-12-30 in rows 2, 4" in message
    assert "ticker_column" not in message


def test_day_first_dates_name_data_date_format(tmp_path: Path) -> None:
    day_first = frame()
    day_first["Date"] = ["29/12/2005", "30/12/2005", "31/12/2005"]
    day_first.to_csv(tmp_path / "acme.csv", index=False)
    message = failure(tmp_path / "acme.csv")
    assert "value '29/12/2005' is not a date in a known format" in message
    assert "they read as %d/%m/%Y: set data.date_format=%d/%m/%Y" in message
    panel = load_files(tmp_path / "acme.csv", date_format="%d/%m/%Y")
    frame().to_csv(tmp_path / "iso.csv", index=False)
    pd.testing.assert_frame_equal(
        panel.droplevel("ticker"), load_files(tmp_path / "iso.csv").droplevel("ticker")
    )


def test_date_format_is_used_alone(tmp_path: Path) -> None:
    # 01/02/2005 is the 1st of February with %d/%m/%Y, even though %m/%d/%Y also reads it.
    ambiguous = frame().head(2)
    ambiguous["Date"] = ["01/02/2005", "02/02/2005"]
    ambiguous.to_csv(tmp_path / "acme.csv", index=False)
    dates = load_files(tmp_path / "acme.csv", date_format="%d/%m/%Y").index.get_level_values("date")
    assert list(dates) == [pd.Timestamp("2005-02-01"), pd.Timestamp("2005-02-02")]
    message = failure(tmp_path / "acme.csv", date_format="%Y.%m.%d")
    assert "value '01/02/2005' does not match data.date_format '%Y.%m.%d'" in message


def test_unreadable_dates_without_a_guess_still_name_the_option(tmp_path: Path) -> None:
    odd = frame()
    odd["Date"] = ["day 1", "day 2", "day 3"]
    odd.to_csv(tmp_path / "acme.csv", index=False)
    assert "set data.date_format to the column's strftime pattern" in failure(tmp_path / "acme.csv")


@pytest.mark.parametrize("option", ["csv", "parquet"])
def test_options_are_config_keys_that_reach_the_loader(tmp_path: Path, option: str) -> None:
    day_first = frame("Timestamp").assign(Symbol="ACME")
    day_first["Timestamp"] = ["29/12/2005", "30/12/2005", "31/12/2005"]
    if option == "csv":
        day_first.to_csv(tmp_path / "long.csv", index=False)
    else:
        day_first.to_parquet(tmp_path / "long.parquet")
    cfg = compose_config(
        [
            f"data={option}",
            f"data.path={tmp_path}",
            "data.date_format=%d/%m/%Y",
            "data.date_column=Timestamp",
            "data.ticker_column=Symbol",
        ]
    )
    panel = instantiate(cfg.data)
    assert panel.index.get_level_values("ticker").unique().tolist() == ["ACME"]
    assert panel.index.get_level_values("date")[-1] == pd.Timestamp("2005-12-31")
