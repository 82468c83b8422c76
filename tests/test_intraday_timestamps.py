"""Timestamps in files: UTC offsets keep the local clock, `timezone` converts, intraday bars
keep their times, and daily and intraday bars never mix."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest
from hydra.utils import instantiate

from stockml.config import compose_config
from stockml.data import DataValidationError, load_files
from stockml.data.parse import Table
from stockml.data.schema import format_stamp, stamp_format
from stockml.data.timestamps import settle_bar_times


def write_bars(path: Path, stamps: list[str], **columns: list[str]) -> Path:
    """A one-ticker CSV with flat, valid bars at ``stamps`` (plus any extra columns)."""
    n = len(stamps)
    close = [f"{10 + 0.1 * i:.2f}" for i in range(n)]
    frame = pd.DataFrame(
        {"date": stamps, "open": close, "high": ["20"] * n, "low": ["5"] * n, "close": close}
    ).assign(volume="100", **columns)
    frame.to_csv(path, index=False)
    return path


def load_warning(path: Path, **kwargs: object) -> tuple[pd.DataFrame, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        panel = load_files(path, adjust=False, **kwargs)  # no unadjusted-prices warning
    return panel, [str(item.message) for item in caught if item.category is UserWarning]


def dates(panel: pd.DataFrame) -> list[str]:
    return [format_stamp(stamp) for stamp in panel.index.get_level_values("date")]


def test_offsets_that_change_with_daylight_saving_keep_each_local_date(tmp_path: Path) -> None:
    """Before: mixed offsets failed as "not a date in a known format"."""
    path = write_bars(
        tmp_path / "spy.csv",
        ["2000-03-01 00:00:00-05:00", "2000-03-02 00:00:00-05:00", "2000-04-03 00:00:00-04:00"],
    )
    panel, messages = load_warning(path)
    assert dates(panel) == ["2000-03-01", "2000-03-02", "2000-04-03"]
    assert len(messages) == 1
    assert "offsets/zones -04:00, -05:00 in 1 file(s): kept each bar's local clock" in messages[0]
    assert "\n" not in messages[0]


def test_utc_evening_bars_land_on_a_weekend_unless_a_timezone_converts_them(
    tmp_path: Path,
) -> None:
    """20:00 in New York on Friday is 01:00 UTC on Saturday: said, and fixable in one option."""
    stamps = ["2000-03-02T01:00:00Z", "2000-03-03T01:00:00Z", "2000-03-04T01:00:00Z"]
    path = write_bars(tmp_path / "late.csv", stamps)
    panel, messages = load_warning(path)
    assert dates(panel) == ["2000-03-02", "2000-03-03", "2000-03-04"]
    assert messages == [
        f"{path}: timestamps with UTC offsets/zones Z in 1 file(s): kept each bar's local clock "
        "time and dropped the offset; set timezone (data.timezone) to convert them to one zone "
        "instead; 1 bar(s) fall on a Saturday or Sunday"
    ]
    panel, messages = load_warning(path, timezone="America/New_York")
    assert dates(panel) == ["2000-03-01", "2000-03-02", "2000-03-03"]  # Wed, Thu, Fri
    assert messages == [
        f"{path}: converted timestamps with UTC offsets/zones Z in 1 file(s) to "
        "America/New_York clock time and dropped the zone"
    ]


def test_timezone_converts_intraday_bars_and_leaves_naive_ones_alone(tmp_path: Path) -> None:
    utc = write_bars(tmp_path / "utc.csv", ["2000-03-01T14:30:00Z", "2000-03-01T15:30:00Z"])
    panel, _ = load_warning(utc, timezone="America/New_York")
    assert dates(panel) == ["2000-03-01 09:30:00", "2000-03-01 10:30:00"]
    naive = write_bars(tmp_path / "naive.csv", ["2000-03-01 09:30", "2000-03-01 10:30"])
    panel, messages = load_warning(naive, timezone="America/New_York")
    assert dates(panel) == ["2000-03-01 09:30:00", "2000-03-01 10:30:00"]
    assert messages == [
        f"{naive}: timezone=America/New_York changed nothing: no timestamp carries a UTC offset "
        "or zone, so all are taken as local times already"
    ]


def test_a_zone_aware_parquet_column_keeps_its_local_clock(tmp_path: Path) -> None:
    path = tmp_path / "aware.parquet"
    stamps = pd.to_datetime(["2000-03-01 09:30", "2000-03-01 10:30"]).tz_localize("Asia/Tokyo")
    frame = pd.DataFrame({"date": stamps, "open": 10.0, "high": 11.0, "low": 9.0, "close": 10.0})
    frame.assign(volume=1.0).to_parquet(path)
    panel, messages = load_warning(path)
    assert dates(panel) == ["2000-03-01 09:30:00", "2000-03-01 10:30:00"]
    assert "offsets/zones Asia/Tokyo" in messages[0]
    panel, _ = load_warning(path, timezone="UTC")
    assert dates(panel) == ["2000-03-01 00:30:00", "2000-03-01 01:30:00"]


def test_an_unknown_timezone_is_refused_before_reading(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"timezone='Mars/Olympus' is not an IANA time zone"):
        load_files(tmp_path / "nothing-here.csv", timezone="Mars/Olympus")


def test_hourly_bars_keep_their_times(tmp_path: Path) -> None:
    """Before: `duplicate date 2000-03-01 in rows 1, 2, 3`."""
    stamps = [f"2000-03-0{day} {hour:02d}:30" for day in (1, 2) for hour in (9, 10, 11)]
    panel, messages = load_warning(write_bars(tmp_path / "hourly.csv", stamps))
    assert dates(panel) == [f"{stamp}:00" for stamp in stamps]
    assert messages == []
    assert stamp_format(panel.index.get_level_values("date")) == "%Y-%m-%d %H:%M:%S"


def test_daily_bars_stamped_at_the_close_are_dated_at_midnight(tmp_path: Path) -> None:
    path = write_bars(tmp_path / "close.csv", ["2000-03-01 16:00", "2000-03-02 16:00"])
    panel, _ = load_warning(path)
    assert dates(panel) == ["2000-03-01", "2000-03-02"]
    assert stamp_format(panel.index.get_level_values("date")) == "%Y-%m-%d"
    # midnight New York written in UTC, which moves with daylight saving: still daily bars
    path = write_bars(tmp_path / "dst.csv", ["2000-03-31T05:00:00Z", "2000-04-03T04:00:00Z"])
    assert dates(load_warning(path)[0]) == ["2000-03-31", "2000-04-03"]


def test_a_repeated_intraday_timestamp_is_named_with_its_time(tmp_path: Path) -> None:
    stamps = ["2000-03-01 09:30", "2000-03-01 10:30", "2000-03-01 10:30"]
    with pytest.raises(
        DataValidationError, match=r"duplicate date 2000-03-01 10:30:00 in rows 2, 3$"
    ):
        load_files(write_bars(tmp_path / "dup.csv", stamps))


def test_daily_and_intraday_files_are_refused_together(tmp_path: Path) -> None:
    write_bars(tmp_path / "day.csv", ["2000-03-01", "2000-03-02"])
    write_bars(tmp_path / "hour.csv", ["2000-03-01 09:30", "2000-03-01 10:30"])
    with pytest.raises(DataValidationError) as refused:
        load_files(tmp_path)
    assert str(refused.value) == (
        f"{tmp_path}: mixes daily bars (ticker DAY in {tmp_path / 'day.csv'}) with intraday "
        f"bars (ticker HOUR in {tmp_path / 'hour.csv'}); load daily and intraday data separately"
    )


def test_daily_bars_inside_an_intraday_file_are_refused(tmp_path: Path) -> None:
    stamps = ["2000-03-01 09:30", "2000-03-01 10:30", "2000-03-02", "2000-03-03 09:30"]
    stamps.append("2000-03-03 10:30")
    with pytest.raises(DataValidationError, match=r"mixes daily bars \(e.g. 2000-03-02\) with "):
        load_files(write_bars(tmp_path / "mixed.csv", stamps))


def test_a_24_hour_file_may_start_and_end_on_a_midnight_bar(tmp_path: Path) -> None:
    stamps = ["2000-03-01 23:00", "2000-03-02 00:00", "2000-03-02 01:00"]
    stamps = ["2000-03-01 00:00", *stamps, "2000-03-03 00:00"]
    panel, _ = load_warning(write_bars(tmp_path / "btc.csv", stamps))
    assert len(panel) == 5


def test_an_end_date_keeps_every_bar_of_that_day(tmp_path: Path) -> None:
    stamps = ["2000-03-01 09:30", "2000-03-01 15:30", "2000-03-02 09:30", "2000-03-02 15:30"]
    path = write_bars(tmp_path / "hourly.csv", stamps)
    panel = load_files(path, start="2000-03-01 10:00", end="2000-03-01", adjust=False)
    assert dates(panel) == ["2000-03-01 15:30:00"]
    assert dates(load_files(path, end="2000-03-02 10:00", adjust=False)) == [
        "2000-03-01 09:30:00",
        "2000-03-01 15:30:00",
        "2000-03-02 09:30:00",
    ]


@pytest.mark.parametrize("group", ["csv", "parquet"])
def test_data_timezone_is_a_config_option(tmp_path: Path, group: str) -> None:
    stamps = ["2000-03-01T14:30:00Z", "2000-03-01T15:30:00Z", "2000-03-01T16:30:00Z"]
    path = write_bars(tmp_path / "utc.csv", stamps)
    if group == "parquet":
        path = tmp_path / "utc.parquet"
        pd.read_csv(tmp_path / "utc.csv").to_parquet(path)
    cfg = compose_config([f"data={group}", f"data.path={path}", "data.timezone=Europe/London"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = instantiate(cfg.data, _convert_="all")
    assert dates(panel) == ["2000-03-01 14:30:00", "2000-03-01 15:30:00", "2000-03-01 16:30:00"]
    cfg = compose_config([f"data={group}", f"data.path={path}", "data.timezone=Asia/Tokyo"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = instantiate(cfg.data, _convert_="all")
    assert dates(panel) == ["2000-03-01 23:30:00", "2000-03-02 00:30:00", "2000-03-02 01:30:00"]


def test_a_ticker_without_rows_does_not_count_as_daily() -> None:
    stamps = pd.to_datetime(["2000-03-01 09:30", "2000-03-01 10:30"])
    hourly = Table("hour.csv", "HOUR", pd.DataFrame({"date": stamps}))
    empty = Table("long.csv", "EMPTY", pd.DataFrame({"date": pd.to_datetime([])}))
    settled, note = settle_bar_times([hourly, empty], "data", timezone=None)
    assert [table.frame["date"].tolist() for table in settled] == [list(stamps), []]
    assert note is None


def test_a_date_format_reads_the_clock_part_of_a_timestamp_with_an_offset(tmp_path: Path) -> None:
    stamps = ["31/03/2000 09:30+01:00", "31/03/2000 10:30+01:00", "03/04/2000 09:30+02:00"]
    path = write_bars(tmp_path / "eu.csv", stamps)
    panel, messages = load_warning(path, date_format="%d/%m/%Y %H:%M%z")
    assert dates(panel) == ["2000-03-31 09:30:00", "2000-03-31 10:30:00", "2000-04-03 09:30:00"]
    assert "offsets/zones +01:00, +02:00" in messages[0]
