"""The rolling report's per-date IC follows the same rules as every other IC in stockml."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr

from stockml.lifecycle.rolling import daily_ic
from stockml.validation import regression_metrics


def forecasts(n_tickers: int, n_dates: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    dates = pd.bdate_range("2020-01-01", periods=n_dates)
    frame = pd.DataFrame(
        [(date, f"T{i}") for date in dates for i in range(n_tickers)], columns=["date", "ticker"]
    )
    frame["y_true"] = rng.normal(size=len(frame))
    frame["prediction"] = frame["y_true"] + rng.normal(size=len(frame))
    return frame


def test_two_tickers_give_no_per_date_ic_instead_of_plus_or_minus_one() -> None:
    ic = daily_ic(forecasts(n_tickers=2))
    assert len(ic) == 6 and ic.isna().all()


def test_per_date_ic_is_pearson_per_date_and_averages_to_the_reported_ic() -> None:
    frame = forecasts(n_tickers=4)
    frame.loc[frame["date"] == frame["date"].iloc[0], "prediction"] = 0.5  # constant: undefined
    ic = daily_ic(frame)
    for date, day in frame.groupby("date"):
        if day["prediction"].nunique() == 1:
            assert np.isnan(ic[date])
        else:
            assert ic[date] == pytest.approx(pearsonr(day["y_true"], day["prediction"])[0])
    metrics = regression_metrics(frame["y_true"], frame["prediction"], dates=frame["date"])
    assert ic.mean() == pytest.approx(metrics["ic"])  # NaN dates skipped by both
