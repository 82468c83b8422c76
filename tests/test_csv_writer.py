"""`write_csv`: the same columns back from `pandas.read_csv` as pandas' own writer gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stockml.csv_writer import round_significant, write_csv


def test_round_significant_matches_printf_rounding() -> None:
    values = np.array([1.23456789012345, -2.5e-7, 123456789012.6, 0.0, np.nan, np.inf, 1e-300])
    expected = [float(f"{value:.10g}") for value in values]
    np.testing.assert_array_equal(round_significant(values, 10), expected)


@pytest.mark.parametrize(
    "dates",
    [
        pd.bdate_range("2021-03-01", periods=4),
        pd.to_datetime(
            ["2021-03-01 09:30", "2021-03-01 10:30", "2021-03-02 09:30", "2021-03-02 10:30"]
        ),
        pd.date_range("2021-03-01 09:30", periods=4, freq="h", tz="America/New_York"),
    ],
    ids=["daily", "intraday", "tz-aware"],
)
def test_reads_back_like_pandas_to_csv(tmp_path: Path, dates: pd.DatetimeIndex) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "date": dates,
            "ticker": ["AAA", "B,B", 'C"C', "DDD"],
            "y_true": rng.normal(0, 0.02, 4),
            "prediction": [1e-5 / 3, np.nan, -7.0, 2.0 / 3],
        }
    )
    write_csv(frame, tmp_path / "ours.csv")
    frame.to_csv(tmp_path / "pandas.csv", index=False, float_format="%.10g")
    ours = pd.read_csv(tmp_path / "ours.csv", parse_dates=["date"])
    theirs = pd.read_csv(tmp_path / "pandas.csv", parse_dates=["date"])
    pd.testing.assert_frame_equal(ours, theirs, check_exact=False, rtol=1e-15, atol=0)
    assert (ours["prediction"].iloc[[0, 3]] == [3.333333333e-06, 0.6666666667]).all()
    if dates[0] == dates[0].normalize():
        assert (tmp_path / "ours.csv").read_text().splitlines()[1].startswith("2021-03-01,")
