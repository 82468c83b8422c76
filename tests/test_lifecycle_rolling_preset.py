"""`stockml experiment=rolling_retrain`: the rolling walk-forward as an ordinary run."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from stockml_runs import run_stockml

pytestmark = pytest.mark.slow


def test_rolling_preset_writes_its_stitched_forecasts_into_the_run_dir(tmp_path: Path) -> None:
    completed = run_stockml(
        tmp_path,
        "experiment=rolling_retrain",
        "rolling.step=40",
        "rolling.start=2011-06-01",
        "data.tickers=[AAPL,MSFT,IBM]",
        "data.start=2009-01-01",
        "data.end=2012-06-30",
        "features=minimal",
        "tracking.enabled=false",
        "store.enabled=false",
    )
    assert completed.returncode == 0, completed.stderr
    (run_dir,) = [p.parent for p in tmp_path.glob("outputs/runs/*/*/rolling_metrics.json")]
    assert (run_dir / ".hydra" / "config.yaml").is_file()
    windows = pd.read_csv(run_dir / "rolling_windows.csv", parse_dates=["test_start", "test_end"])
    predictions = pd.read_csv(run_dir / "rolling_predictions.csv", parse_dates=["date"])
    assert windows["test_start"].min() >= pd.Timestamp("2011-06-01")
    assert len(windows) == -(-predictions["date"].nunique() // 40)  # ceil: one fit per 40 dates
    assert not predictions.duplicated(["date", "ticker"]).any()
    document = json.loads((run_dir / "rolling_metrics.json").read_text())
    assert document["settings"]["rolling"]["step"] == 40
    assert set(document["metrics"]) >= {"mse", "ic", "rank_ic"}
    headline = json.loads((run_dir / "metrics.json").read_text())  # as every run writes it
    assert headline["optimized_metric"] == "cv_ic_mean"
    # the value a sweep would select on is the IC of the forecasts before the holdout only
    assert headline["value"] == pytest.approx(headline["validation"]["ic"])
    assert headline["value"] != pytest.approx(document["metrics"]["ic"])
    assert headline["holdout"]["ic"] is not None
