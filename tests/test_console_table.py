"""The one console table formatter: alignment, missing values, DataFrames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from stockml.console_table import MISSING, format_number, frame_table, table


def test_numbers_align_right_text_left_and_cells_split_back() -> None:
    rows = [["ridge", 0.123456, 12], ["random_forest", -0.5, 3]]
    header, *body = table(["model", "ic", "n"], rows).splitlines()
    assert header.split() == ["model", "ic", "n"]
    assert [line.split() for line in body] == [
        ["ridge", "0.1235", "12"],
        ["random_forest", "-0.5", "3"],
    ]
    # left-aligned text starts in one column, right-aligned numbers end in one
    assert body[0].startswith("ridge ") and body[1].startswith("random_forest ")
    assert body[0].index("0.1235") + len("0.1235") == body[1].index("-0.5") + len("-0.5")
    assert all(not line.endswith(" ") for line in [header, *body])


def test_missing_and_non_finite_values_show_as_a_dash() -> None:
    assert format_number(None) == format_number(math.nan) == format_number(np.inf) == MISSING
    assert format_number(np.float32("nan")) == MISSING
    assert format_number(np.int64(7)) == "7" and format_number(True) == "True"


def test_a_rule_sits_under_the_header_as_wide_as_each_column() -> None:
    lines = table(["a", "bb"], [["xyz", "1"]], rule=True).splitlines()
    assert lines[1] == "---  --"


def test_a_frame_prints_daily_dates_without_a_time_and_keeps_intraday_times() -> None:
    daily = pd.DataFrame({"start": pd.to_datetime(["2020-01-02"]), "ic": [0.5]})
    assert frame_table(daily).splitlines()[1].split() == ["2020-01-02", "0.5"]
    intraday = pd.DataFrame({"start": pd.to_datetime(["2020-01-02 09:30"]), "ic": [0.5]})
    assert frame_table(intraday).splitlines()[1].split()[:2] == ["2020-01-02", "09:30:00"]
