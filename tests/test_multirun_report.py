"""A model comparison multirun on the joblib launcher, then its leaderboard from MLflow."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from stockml_runs import FAST, run_stockml

from stockml.reporting.cli import main
from stockml.reporting.leaderboard import leaderboard

pytestmark = pytest.mark.slow

SMALL = [
    "data.tickers=[AAPL,IBM]",
    "data.start=2008-01-01",
    *FAST,
    "store.enabled=false",
    "tracking.log_model=false",
    "tracking.log_plots=false",
]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("sweep")
    completed = run_stockml(
        cwd, "-m", "model=linear,ridge,lasso", "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2", *SMALL,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    return cwd


def test_multirun_writes_one_run_dir_per_model(sweep: Path) -> None:
    runs = sorted(sweep.glob("outputs/multiruns/*/*/*/metrics.json"))
    assert len(runs) == 3
    assert {p.parent.name for p in runs} == {"0", "1", "2"}


def test_leaderboard_ranks_the_sweep_runs_by_cv_score(sweep: Path, capsys) -> None:
    uri = f"sqlite:///{sweep}/outputs/mlflow.db"
    (sweep_dir,) = sweep.glob("outputs/multiruns/*/*")
    board = leaderboard(uri, sweep_dir=str(sweep_dir), metric="mse")
    assert sorted(board["model"]) == ["Lasso", "LinearRegression", "Ridge"]
    assert board["cv_mse_mean"].is_monotonic_increasing  # lower MSE is better: best first
    assert (board["baseline_test_mse"] > 0).all()
    assert (board["last_return_test_mse"] > 0).all()

    out_csv = sweep / "board.csv"
    out_md = sweep / "board.md"
    code = main(
        [
            "--tracking-uri",
            uri,
            "--sweep-dir",
            str(sweep_dir),
            "--metric",
            "mse",
            "--csv",
            str(out_csv),
            "--markdown",
            str(out_md),
        ]
    )
    assert code == 0
    assert "Ridge" in capsys.readouterr().out
    assert len(pd.read_csv(out_csv)) == 3
    assert out_md.read_text().count("\n") == 2 + 3


def test_leaderboard_errors_name_the_problem(sweep: Path, capsys) -> None:
    uri = f"sqlite:///{sweep}/outputs/mlflow.db"
    assert main(["--tracking-uri", uri, "--experiment", "nope"]) == 2
    assert "no MLflow experiment named 'nope'" in capsys.readouterr().err
    assert main(["--tracking-uri", uri, "--metric", "sharpe"]) == 2
