"""`stockml report --sweep-dir DIR --html` after a real Optuna sweep: the study's own plots
(found through the sweep's recorded storage, relative to where it started) beside the board,
every figure drawn in headless Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_browser import chromium_or_skip, open_report
from stockml_runs import run_stockml

pytestmark = pytest.mark.slow

TRIALS = 3
SWEEP = [
    "hparams_search=ridge_optuna", f"hydra.sweeper.n_trials={TRIALS}", "hydra.sweeper.n_jobs=1",
    "data=synthetic", "data.n_tickers=5", "features=minimal", "cv.n_splits=2",
    "store.enabled=false", "tracking.log_model=false", "tracking.log_plots=false",
]  # fmt: skip


def test_a_sweeps_report_shows_its_study_and_renders(tmp_path: Path) -> None:
    chromium = chromium_or_skip()
    completed = run_stockml(tmp_path, *SWEEP)
    assert completed.returncode == 0, completed.stderr[-3000:]
    (sweep_dir,) = tmp_path.glob("outputs/multiruns/*/*")
    page = tmp_path / "sweep.html"
    completed = run_stockml(tmp_path, "report", "--sweep-dir", str(sweep_dir), "--html", str(page))
    assert completed.returncode == 0, completed.stderr[-3000:]
    text = page.read_text()
    assert "<h2>Optuna study ridge_optuna</h2>" in text
    assert "Optimization History Plot" in text  # Optuna's own figure, not a redrawn one
    figures = open_report(page, tmp_path / "sweep.png", chromium)
    assert len(figures) >= 3  # the board, the history, the parallel coordinates at least
    assert all(f["width"] > 0 and f["height"] > 0 for f in figures)
