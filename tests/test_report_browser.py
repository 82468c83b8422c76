"""Reports opened in headless Chromium from disk: no console or page error, every figure drawn.

A run's own page and an experiment-style page (leaderboard, an Optuna study's plotly figures,
a run) are built from synthetic documents, so this needs no MLflow. It skips only when
chromium is missing and STOCKML_REQUIRE_BROWSER is unset; CI sets it.
"""

from __future__ import annotations

from pathlib import Path

import optuna
import pandas as pd
from report_browser import chromium_or_skip, open_report
from report_documents import synthetic_document

from stockml.reporting.board_report import leaderboard_section
from stockml.reporting.page import Section as PageSection
from stockml.reporting.page import figure_count, write_page
from stockml.reporting.run_report import run_sections, write_run_report
from stockml.reporting.study_figures import study_figures

# Per period: equity, drawdown and cumulative IC are drawn against dates.
DATED_FIGURES_PER_PERIOD = 3
FIGURES_PER_PERIOD = 6


def _assert_all_drawn(figures: list[dict], expected: int) -> None:
    assert len(figures) == expected
    empty = [i for i, f in enumerate(figures)
             if not (f["width"] > 0 and f["height"] > 0 and f["drawn"] > 0)]  # fmt: skip
    assert not empty, f"figures {empty} drew nothing"


def test_a_runs_report_renders_every_figure_on_date_axes(tmp_path: Path) -> None:
    chromium = chromium_or_skip()
    document = synthetic_document(n_dates=120)
    page = write_run_report(document, tmp_path / "report.html", "stockml run test")
    screenshot = tmp_path / "report.png"
    figures = open_report(page, screenshot, chromium)
    _assert_all_drawn(figures, figure_count(run_sections(document, "stockml run test")))
    undrawn = [i for i, f in enumerate(figures) if f["drawn"] != f["traces"]]
    assert not undrawn, f"figures {undrawn} left series undrawn"  # every series has points
    for start in (0, FIGURES_PER_PERIOD):  # holdout, then CV
        dated = figures[start : start + DATED_FIGURES_PER_PERIOD]
        assert [f["x_type"] for f in dated] == ["date"] * DATED_FIGURES_PER_PERIOD
    assert screenshot.stat().st_size > 0


def test_an_experiment_page_renders_board_study_and_run(tmp_path: Path) -> None:
    chromium = chromium_or_skip()
    board = pd.DataFrame(
        {
            "run_name": ["j01 model=ridge", "j00 model=lasso"],
            "cv_ic_mean": [0.05, 0.03],
            "cv_ic_std": [0.01, 0.02],
            "test_ic": [0.04, 0.01],
            "baseline_test_ic": [float("nan")] * 2,
            "last_return_test_ic": [-0.01, -0.02],
        }
    )
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    study.optimize(lambda t: t.suggest_float("a", 0, 1) - t.suggest_float("b", 0, 1) / 3,
                   n_trials=10)  # fmt: skip
    sections = [
        leaderboard_section(board, board, "ic"),
        PageSection("Optuna study", list(study_figures(study, ["cv_ic_mean"]))),
        *run_sections(synthetic_document(seed=1), "#1 j01 model=ridge"),
    ]
    page = write_page(tmp_path / "board.html", "stockml report: experiment test", sections)
    figures = open_report(page, tmp_path / "board.png", chromium)
    _assert_all_drawn(figures, figure_count(sections))
