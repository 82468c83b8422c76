"""Register, promote only a better challenger, and predict from `@champion`."""

from __future__ import annotations

import math
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from stockml_runs import FAST, run_stockml

from stockml.data import load_sample
from stockml.features import FeatureBuilder
from stockml.lifecycle.cli import predict_main, promote_main, register_main
from stockml.lifecycle.promote import beats
from stockml.tracking.identity import logged_model_name

SMALL = [
    "data.tickers=[AAPL,MSFT]",
    "data.start=2008-01-01",
    *FAST,
    "store.enabled=false",
    "tracking.log_plots=false",
]
NAME = "stockml"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two recorded runs: a ridge registered by the `stockml` hook, and a lasso whose huge
    alpha zeroes every coefficient (a constant forecast), registered later by hand."""
    root = tmp_path_factory.mktemp("registry")
    for overrides in (
        ["registry.register=true"],
        ["model=lasso", "model.alpha=10.0", "hydra.run.dir=outputs/bad"],
    ):
        completed = run_stockml(root, *SMALL, *overrides)
        assert completed.returncode == 0, completed.stderr
    return root


def uri(root: Path) -> str:
    return f"sqlite:///{root}/outputs/mlflow.db"


def aliases(root: Path) -> dict[str, str]:
    client = mlflow.MlflowClient(tracking_uri=uri(root), registry_uri=uri(root))
    return {
        alias: str(version) for alias, version in client.get_registered_model(NAME).aliases.items()
    }


@pytest.mark.slow
def test_register_promote_only_better_and_predict_from_champion(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(workspace)
    store = ["--tracking-uri", uri(workspace)]
    assert aliases(workspace) == {"challenger": "1"}  # registered by the stockml hook

    assert promote_main([NAME, *store]) == 0
    assert "promoted: no champion yet" in capsys.readouterr().out
    assert aliases(workspace) == {"challenger": "1", "champion": "1"}

    assert register_main(["outputs/bad", *store]) == 0
    assert f"as {NAME} version 2 (challenger)" in capsys.readouterr().out
    assert promote_main([NAME, *store]) == 0
    out = capsys.readouterr().out
    assert out.startswith("kept champion: challenger v2 ic=nan vs champion v1 ic=")
    assert aliases(workspace) == {"challenger": "2", "champion": "1"}
    client = mlflow.MlflowClient(tracking_uri=uri(workspace), registry_uri=uri(workspace))
    tags = client.get_model_version(NAME, "2").tags
    assert tags["promotion_decision"] == "kept_champion"
    assert tags["promotion_metric"] == "ic"
    assert math.isnan(float(tags["promotion_challenger_score"]))
    assert math.isfinite(float(tags["promotion_champion_score"]))

    # By mse the constant forecast is compared too, on the last 50 labelled dates only.
    assert promote_main([NAME, "--metric", "mse", "--rows", "50", *store]) == 0
    assert " on 100 rows " in capsys.readouterr().out

    assert (
        predict_main(
            [
                f"model=models:/{NAME}@champion",
                "data.tickers=[AAPL,MSFT]",
                "data.start=2011-06-01",
                "out=preds/champion.csv",
                *store,
            ]
        )
        == 0
    )
    predictions = pd.read_csv(workspace / "preds" / "champion.csv", parse_dates=["date"])
    panel = load_sample(tickers=["AAPL", "MSFT"], start="2011-06-01")
    warmup = FeatureBuilder(preset="minimal").warmup_rows
    assert list(predictions.columns) == ["date", "ticker", "prediction"]
    assert not predictions.duplicated(["date", "ticker"]).any()
    for ticker, bars in panel.groupby(level="ticker"):
        dates = bars.index.get_level_values("date")
        got = predictions.loc[predictions["ticker"] == ticker, "date"]
        assert list(got) == list(dates[warmup:]), ticker  # last input date in, warm-up out

    # From a history starting years later, the champion forecasts what its run forecast.
    (run_dir,) = [p.parent for p in workspace.glob("outputs/runs/*/*/holdout_predictions.csv")]
    recorded = pd.read_csv(run_dir / "holdout_predictions.csv", parse_dates=["date"])
    both = recorded.merge(predictions, on=["date", "ticker"], suffixes=("_run", "_predict"))
    assert len(both) > 100
    # over a year after the input starts, recursive features have forgotten their seed
    np.testing.assert_allclose(
        both["prediction_predict"], both["prediction_run"], rtol=1e-4, atol=1e-8
    )


@pytest.mark.slow
def test_predict_refuses_short_history_naming_rows_needed(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(workspace)
    run = mlflow.MlflowClient(tracking_uri=uri(workspace)).search_runs(["1"])[-1]
    code = predict_main(
        [
            f"model=runs:/{run.info.run_id}/{logged_model_name(run.data.tags)}",
            "data.start=2013-02-01",
            "out=short.parquet",
            "--tracking-uri",
            uri(workspace),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("stockml-predict: error: ticker AAPL has ")
    warmup = FeatureBuilder(preset="minimal").warmup_rows
    assert f"(warm-up {warmup} rows) needs at least {warmup + 1}" in err
    assert len(err.strip().splitlines()) == 1
    assert not (workspace / "short.parquet").exists()


def test_undefined_scores_never_win() -> None:
    assert not beats(math.nan, 0.01, "ic")
    assert beats(0.01, math.nan, "ic")
    assert beats(0.02, 0.01, "ic") and not beats(0.01, 0.01, "ic")
    assert beats(0.01, 0.02, "mse") and not beats(0.02, 0.01, "mse")
