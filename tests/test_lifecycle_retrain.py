"""stockml-retrain: a later window, old vs new on the new holdout, and rolling retraining."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from stockml_runs import FAST, run_stockml

from stockml.config import compose_config
from stockml.data import load_sample
from stockml.lifecycle.cli import retrain_main
from stockml.lifecycle.rolling import rolling_retrain

SMALL = [
    "data.tickers=[AAPL,MSFT]",
    "data.start=2008-01-01",
    *FAST,
    "store.enabled=false",
    "tracking.log_plots=false",
]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A workspace with one tracked run on data up to mid-2012, and that run's id."""
    root = tmp_path_factory.mktemp("retrain")
    completed = run_stockml(root, *SMALL, "data.end=2012-06-30")
    assert completed.returncode == 0, completed.stderr
    (metrics,) = root.glob("outputs/runs/*/*/metrics.json")
    return root, json.loads(metrics.read_text())["mlflow_run_id"]


@pytest.mark.slow
def test_retrain_on_later_window_logs_comparison_in_new_run(
    recorded: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    root, old_run_id = recorded
    monkeypatch.chdir(tmp_path)  # elsewhere: the new run must still join the old run's store
    store = f"sqlite:///{root}/outputs/mlflow.db"

    assert retrain_main([old_run_id, "data.end=2013-03-01", "--tracking-uri", store]) == 0

    out = capsys.readouterr().out
    assert f"retrained {old_run_id} as " in out
    client = mlflow.MlflowClient(tracking_uri=store)
    (new_run,) = client.search_runs(["1"], filter_string=f"tags.retrain_of = '{old_run_id}'")
    assert new_run.data.params["data.end"] == "2013-03-01"
    # composed from the snapshot, it still records the options and model name the run had
    old_run = client.get_run(old_run_id)
    assert new_run.data.tags["pipeline"] == old_run.data.tags["pipeline"] == "standard-ridge"
    assert new_run.data.params["model"] == old_run.data.params["model"] == "ridge"
    new_document = json.loads(Path(new_run.data.tags["run_dir"], "metrics.json").read_text())
    assert new_run.data.tags["retrain_compare_rows"] == str(new_document["rows"]["holdout"])
    metrics = new_run.data.metrics
    # The new model on its own holdout rows is exactly the run's holdout score...
    for name in ("mse", "ic", "directional_accuracy"):
        assert metrics[f"retrain_new_test_{name}"] == pytest.approx(metrics[f"test_{name}"])
    # ...and the old model was scored on those same rows, with its own predictions.
    assert metrics["retrain_old_test_mse"] != metrics["retrain_new_test_mse"]
    assert {f"retrain_old_test_{name}" for name in ("mse", "ic", "rank_ic")} <= metrics.keys()


@pytest.mark.slow
def test_rolling_command_records_stitched_metrics_linked_to_the_run(
    recorded: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, run_id = recorded
    monkeypatch.chdir(root)
    store = f"sqlite:///{root}/outputs/mlflow.db"

    assert retrain_main(["--rolling", "--step", "60", run_id, "--tracking-uri", store]) == 0

    assert "stitched out-of-sample" in capsys.readouterr().out
    client = mlflow.MlflowClient(tracking_uri=store)
    (run,) = client.search_runs(["1"], filter_string=f"tags.rolling_of = '{run_id}'")
    (folder,) = root.glob("outputs/rolling/*/*")
    stitched = pd.read_csv(folder / "rolling_predictions.csv")
    assert not stitched.duplicated(["date", "ticker"]).any()
    windows = pd.read_csv(folder / "rolling_windows.csv")
    logged = client.get_metric_history(run.info.run_id, "rolling_window_ic")
    assert len(logged) == windows["ic"].notna().sum() > 0
    assert "rolling_test_mse" in run.data.metrics


def test_rolling_covers_each_window_once_and_never_trains_on_its_labels() -> None:
    horizon, step = 5, 40
    cfg = compose_config(
        [*SMALL, "tracking.enabled=false", f"target.horizon={horizon}", "holdout.fraction=0.1"]
    )
    result = rolling_retrain(cfg, step=step, window=500)

    predictions = result.predictions
    assert not predictions.duplicated(["date", "ticker"]).any()
    windows = result.windows
    assert (
        windows["test_start"].iloc[1:].to_numpy() > windows["test_end"].iloc[:-1].to_numpy()
    ).all()
    assert (predictions.groupby("window")["date"].nunique().iloc[:-1] == step).all()
    # The stitched series runs without gaps from the first scored date to the last label.
    panel = load_sample(tickers=["AAPL", "MSFT"], start="2008-01-01")
    calendar = panel.index.get_level_values("date").unique().sort_values()
    scored = pd.DatetimeIndex(predictions["date"].unique()).sort_values()
    first = calendar.get_loc(scored[0])
    assert list(scored) == list(calendar[first : len(calendar) - horizon])
    # Independently of the code under test: each ticker's bar `horizon` after the last
    # training date comes before the window it scores.
    for window in windows.itertuples():
        for ticker, bars in panel.groupby(level="ticker"):
            dates = bars.index.get_level_values("date")
            label_end = dates[dates.get_loc(window.train_end) + horizon]
            assert label_end < window.test_start, (window.window, ticker)
        assert window.train_start >= calendar[calendar.get_loc(window.test_start) - 500]
    metrics = result.metrics
    assert np.isfinite(metrics["ic"]) and len(result.daily_ic) == len(scored)
