"""Intraday bars: horizons, purges, windows and per-date IC count bars, and a whole hourly
run (plain and rolling) goes through the CLI with timestamps intact."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from stockml_runs import run_stockml

from stockml.data import synthetic_panel
from stockml.features import FeatureBuilder
from stockml.lifecycle.metadata import metadata_for
from stockml.lifecycle.predict import write_csv
from stockml.lifecycle.scoring import first_unseen_date
from stockml.target import TargetSpec, forward_log_return, make_dataset
from stockml.validation import WalkForwardSplit, regression_metrics, split_holdout

HOURS = ["09:30", "10:30", "11:30", "12:30", "13:30", "14:30", "15:30"]


@pytest.fixture(scope="module")
def hourly() -> pd.DataFrame:
    return synthetic_panel(n_tickers=3, n_days=40, seed=7, signal=0.1, freq="1h")


def test_synthetic_hourly_bars_fill_weekday_sessions(hourly: pd.DataFrame) -> None:
    stamps = hourly.loc["SYN0000"].index
    assert len(stamps) == 40 * 7
    assert sorted({f"{stamp:%H:%M}" for stamp in stamps}) == HOURS
    assert (stamps.day_of_week < 5).all()
    assert stamps.normalize().nunique() == 40


def test_synthetic_volatility_is_per_day_whatever_the_bar() -> None:
    """Hourly returns are scaled so that a day of them has the daily volatility."""
    hourly = synthetic_panel(n_tickers=20, n_days=200, seed=1, volatility=0.02, freq="1h")
    returns = np.log(hourly["close"]).groupby(level="ticker").diff().dropna()
    assert returns.std() == pytest.approx(0.02 / np.sqrt(7), rel=0.05)


@pytest.mark.parametrize("freq", ["2D", "7h", "0min", "weekly"])
def test_synthetic_refuses_a_frequency_it_cannot_lay_out(freq: str) -> None:
    with pytest.raises(ValueError, match=rf"freq must be '1D' .* got '{freq}'$"):
        synthetic_panel(n_tickers=1, n_days=3, freq=freq)


def test_the_horizon_counts_bars_across_the_night(hourly: pd.DataFrame) -> None:
    labels = forward_log_return(hourly, horizon=2).loc["SYN0000"]
    close = hourly.loc["SYN0000", "close"]
    evening, next_morning = pd.Timestamp("2000-01-03 15:30"), pd.Timestamp("2000-01-04 10:30")
    assert labels[evening] == pytest.approx(np.log(close[next_morning] / close[evening]))


def test_holdout_and_cv_purge_count_bars_not_days(hourly: pd.DataFrame) -> None:
    horizon = 3
    X, y = make_dataset(hourly[["close"]].pct_change(), forward_log_return(hourly, horizon))
    calendar = X.index.get_level_values("date").unique().sort_values()
    X_dev, _, X_hold, _ = split_holdout(X, y, fraction=0.25, horizon=horizon)
    last_dev = calendar.get_loc(X_dev.index.get_level_values("date").max())
    first_hold = calendar.get_loc(X_hold.index.get_level_values("date").min())
    assert first_hold - last_dev - 1 == horizon  # three bars, not three days
    splitter = WalkForwardSplit(n_splits=3, train_size=60, test_size=20, horizon=horizon)
    dev_dates = X_dev.index.get_level_values("date")
    for train, test in splitter.split(X_dev):
        gap = calendar.get_loc(dev_dates[test].min()) - calendar.get_loc(dev_dates[train].max())
        assert gap - 1 == horizon
        assert dev_dates[train].nunique() == 60 and dev_dates[test].nunique() == 20


def test_rolling_windows_count_bars_and_stay_causal(hourly: pd.DataFrame) -> None:
    builder = FeatureBuilder(preset="minimal")
    features = builder.fit_transform(hourly)
    close = hourly.loc["SYN0001", "close"]
    roc = features.loc["SYN0001", "roc_20"]
    np.testing.assert_allclose(roc.iloc[25], close.iloc[25] / close.iloc[5] - 1, rtol=1e-12)
    cut = hourly.groupby(level="ticker").head(150)  # the same bars without the later ones
    pd.testing.assert_frame_equal(builder.transform(cut), features.loc[cut.index])


def test_ic_is_computed_per_bar_timestamp_not_per_calendar_day() -> None:
    """Two bars of one day, each perfectly ranked: IC 1 per bar, but not pooled over the day."""
    dates = pd.to_datetime(["2000-01-03 09:30"] * 3 + ["2000-01-03 10:30"] * 3)
    y_true = np.array([1.0, 2.0, 3.0, 10.0, 20.0, 30.0])
    y_pred = np.array([3.0, 4.0, 5.0, 0.0, 1.0, 2.0])
    assert regression_metrics(y_true, y_pred, dates=dates)["ic"] == pytest.approx(1.0)
    by_day = regression_metrics(y_true, y_pred, dates=dates.normalize())["ic"]
    assert by_day < 0.5


def test_predictions_csv_keeps_bar_times() -> None:
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(["2000-01-03 09:30", "2000-01-03 10:30"]),
            "ticker": ["A", "A"],
            "prediction": [0.1, -0.2],
        }
    )
    buffer = io.StringIO()
    write_csv(frame, buffer)
    assert buffer.getvalue().splitlines()[1:] == [
        "2000-01-03 09:30:00,A,0.1",
        "2000-01-03 10:30:00,A,-0.2",
    ]
    buffer = io.StringIO()
    write_csv(frame.assign(date=frame["date"].dt.normalize() + pd.Timedelta(days=1)), buffer)
    assert buffer.getvalue().splitlines()[1] == "2000-01-04,A,0.1"


def test_a_model_trained_until_midday_is_unseen_only_after_that_bar(
    hourly: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Promotion must not score bars of the last training day that the model saw."""
    # the history probe is slow and beside the point here (absent where predict dropped it)
    monkeypatch.setattr(
        "stockml.lifecycle.metadata.settled_history_rows", lambda builder: 0, raising=False
    )
    X_dev = hourly.loc[hourly.index.get_level_values("date") <= "2000-01-05 12:30"]
    metadata = metadata_for(FeatureBuilder(preset="minimal"), X_dev, TargetSpec(horizon=2))
    assert metadata.trained_until == "2000-01-05 12:30:00"
    first = first_unseen_date(hourly, metadata.trained_until, label_span=2)
    assert first == pd.Timestamp("2000-01-05 14:30")


FAST_HOURLY = [
    "data=synthetic",
    "data.freq=1h",
    "data.n_days=90",
    "data.n_tickers=4",
    "features=minimal",
    "target.horizon=3",
    "cv.n_splits=3",
    "cv.train_size=200",
    "cv.test_size=60",
    "tracking.enabled=false",
    "store.enabled=false",
]


@pytest.mark.slow
def test_a_whole_hourly_run(tmp_path: Path) -> None:
    completed = run_stockml(tmp_path, *FAST_HOURLY)
    assert completed.returncode == 0, completed.stderr
    (run_dir,) = [path.parent for path in tmp_path.glob("outputs/runs/*/*/metrics.json")]
    calendar = synthetic_panel(n_tickers=1, n_days=90, freq="1h").index.get_level_values("date")
    folds = json.loads((run_dir / "metrics.json").read_text())["folds"]
    assert len(folds) == 3
    for fold in folds:
        train_end = calendar.get_loc(pd.Timestamp(fold["train_end"]))
        test_start = calendar.get_loc(pd.Timestamp(fold["test_start"]))
        assert test_start - train_end - 1 == 3, fold  # purge of three bars, times kept
    holdout = pd.read_csv(run_dir / "holdout_predictions.csv", parse_dates=["date"])
    assert holdout["date"].dt.strftime("%H:%M").nunique() == 7
    assert (
        calendar.get_loc(holdout["date"].min())
        - calendar.get_loc(pd.Timestamp(folds[-1]["test_end"]))
        - 1
        == 3
    )  # the holdout purge counts bars too


@pytest.mark.slow
def test_a_rolling_hourly_run(tmp_path: Path) -> None:
    completed = run_stockml(tmp_path, *FAST_HOURLY, "experiment=rolling_retrain", "rolling.step=35")
    assert completed.returncode == 0, completed.stderr
    (run_dir,) = [p.parent for p in tmp_path.glob("outputs/runs/*/*/rolling_metrics.json")]
    predictions = pd.read_csv(run_dir / "rolling_predictions.csv", parse_dates=["date"])
    windows = pd.read_csv(run_dir / "rolling_windows.csv", parse_dates=["test_start"])
    assert predictions["date"].dt.strftime("%H:%M").nunique() == 7
    assert len(windows) == -(-predictions["date"].nunique() // 35)  # one fit per 35 bars
