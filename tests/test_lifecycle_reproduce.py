"""stockml-reproduce: a recorded run re-runs to identical metrics; changed data is named."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from stockml_runs import FAST, run_stockml

from stockml.data import load_sample
from stockml.lifecycle.cli import reproduce_main
from stockml.lifecycle.reproduce import metric_differences

SMALL = [
    "data=csv",
    "data.path=prices",
    "data.start=2008-01-01",
    *FAST,
    "store.enabled=false",
    "tracking.log_plots=false",
]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with CSV prices (AAPL, MSFT) and one recorded run on them."""
    root = tmp_path_factory.mktemp("reproduce")
    prices = root / "prices"
    prices.mkdir()
    panel = load_sample(tickers=["AAPL", "MSFT"], start="2007-06-01", adjust=False)
    for ticker, bars in panel.groupby(level="ticker"):
        bars.droplevel("ticker").to_csv(prices / f"{ticker}.csv", index_label="date")
    completed = run_stockml(root, *SMALL)
    assert completed.returncode == 0, completed.stderr
    return root


def run_dir(root: Path) -> Path:
    (metrics,) = root.glob("outputs/runs/*/*/metrics.json")
    return metrics.parent


@pytest.mark.slow
def test_reproduce_by_run_id_gives_identical_metrics(
    recorded: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = recorded.parent / "identical"
    shutil.copytree(recorded, workspace)
    monkeypatch.chdir(workspace)
    run_id = json.loads((run_dir(workspace) / "metrics.json").read_text())["mlflow_run_id"]

    code = reproduce_main([run_id, "--tracking-uri", f"sqlite:///{workspace}/outputs/mlflow.db"])

    out = capsys.readouterr().out
    assert code == 0, out
    assert "metrics identical" in out
    assert "fingerprint differs" not in out
    assert len(list(workspace.glob("outputs/runs/*/*/metrics.json"))) == 2


@pytest.mark.slow
def test_changed_data_is_named_before_running_and_fails(
    recorded: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = recorded.parent / "changed"
    shutil.copytree(recorded, workspace)
    monkeypatch.chdir(workspace)
    recorded_fingerprint = json.loads((run_dir(workspace) / "metrics.json").read_text())[
        "data_fingerprint"
    ]
    csv = workspace / "prices" / "AAPL.csv"
    bars = pd.read_csv(csv)
    row = len(bars) - 10  # inside the holdout, and inside [low, high] so it still loads
    bars.loc[row, "close"] = (bars.loc[row, "high"] + bars.loc[row, "low"]) / 2
    bars.to_csv(csv, index=False)

    code = reproduce_main([str(run_dir(workspace).relative_to(workspace))])

    out = capsys.readouterr().out
    assert code == 1
    assert f"data fingerprint differs: recorded {recorded_fingerprint}, now " in out
    assert out.index("data fingerprint differs") < out.index("metrics differ")
    assert "holdout.mse" in out


def test_unknown_run_is_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert reproduce_main(["no-such-run"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "stockml-reproduce: error: 'no-such-run' is neither a run directory nor an MLflow run id"
    )


def test_differences_ignore_timings_and_catch_any_changed_leaf() -> None:
    recorded = {
        "value": 0.1,
        "cv": {"ic": {"mean": 0.1, "std": None}},
        "folds": [{"fold": 0, "metrics": {"mse": 1.0}}],
        "timings": {"fit_s": 1.0},
        "mlflow_run_id": "a",
    }
    same = {**recorded, "timings": {"fit_s": 2.0}, "mlflow_run_id": "b"}
    assert metric_differences(recorded, same) == []

    changed = json.loads(json.dumps(same))
    changed["folds"][0]["metrics"]["mse"] = math.nextafter(1.0, 2.0)
    changed["cv"]["ic"]["std"] = 0.0
    keys = [difference.key for difference in metric_differences(recorded, changed)]
    assert keys == ["cv.ic.std", "folds.0.metrics.mse"]
