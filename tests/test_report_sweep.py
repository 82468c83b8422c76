"""`stockml report --sweep-dir DIR --html` after a real Optuna sweep: the study's own plots
(found through the sweep's recorded storage, relative to where it started) beside the board,
every figure drawn in headless Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from report_browser import chromium_or_skip, open_report
from stockml_runs import run_stockml

from stockml.reporting.run_report import REPORT_FILE
from stockml.sweep_files import RESULTS_FILE
from stockml.tracking.identity import TRIAL_TAG

pytestmark = pytest.mark.slow

TRIALS = 3
SWEEP = [
    "hparams_search=ridge_optuna", f"hydra.sweeper.n_trials={TRIALS}", "hydra.sweeper.n_jobs=1",
    "data=synthetic", "data.n_tickers=5", "features=minimal", "cv.n_splits=2",
    "store.enabled=false", "tracking.log_plots=false",
]  # fmt: skip


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The directory the sweep ran in, and its sweep directory."""
    cwd = tmp_path_factory.mktemp("sweep")
    completed = run_stockml(cwd, *SWEEP)
    assert completed.returncode == 0, completed.stderr[-3000:]
    (sweep_dir,) = cwd.glob("outputs/multiruns/*/*")
    return cwd, sweep_dir


def test_a_sweeps_report_shows_its_study_and_renders(
    sweep: tuple[Path, Path], tmp_path: Path
) -> None:
    chromium = chromium_or_skip()
    cwd, sweep_dir = sweep
    page = tmp_path / "sweep.html"
    completed = run_stockml(cwd, "report", "--sweep-dir", str(sweep_dir), "--html", str(page))
    assert completed.returncode == 0, completed.stderr[-3000:]
    text = page.read_text()
    assert "<h2>Optuna study ridge_optuna</h2>" in text
    assert "Optimization History Plot" in text  # Optuna's own figure, not a redrawn one
    figures = open_report(page, tmp_path / "sweep.png", chromium)
    assert len(figures) >= 3  # the board, the history, the parallel coordinates at least
    assert all(f["width"] > 0 and f["height"] > 0 for f in figures)


def test_only_the_best_trial_logs_its_report(sweep: tuple[Path, Path]) -> None:
    """With its model, at the sweep's end (`stockml.tracking.best_model`), like its plots."""
    from mlflow import MlflowClient

    cwd, sweep_dir = sweep
    best = yaml.safe_load((sweep_dir / RESULTS_FILE).read_text())["best_mlflow_run_id"]
    client = MlflowClient(tracking_uri=f"sqlite:///{cwd}/outputs/mlflow.db")
    runs = client.search_runs(
        [client.get_experiment_by_name("stockml").experiment_id],
        f"tags.sweep_dir = '{sweep_dir.resolve()}'",
    )
    trials = [run for run in runs if TRIAL_TAG in run.data.tags]  # not the sweep's parent run
    assert len(trials) == TRIALS
    with_report = [
        run.info.run_id
        for run in trials
        if REPORT_FILE in {a.path for a in client.list_artifacts(run.info.run_id)}
    ]
    assert with_report == [best]
