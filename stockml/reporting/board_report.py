"""The page of an experiment or a sweep: the leaderboard, the study, and the best runs.

Each of the best `top` runs is drawn from its own logged evaluation document, exactly as in
that run's own report; a run without one (recorded before the evaluation existed) keeps its
place with a note, so the page never silently shows fewer runs than it says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from stockml.reporting.board_figures import leaderboard_figure
from stockml.reporting.page import Note, Section, Table
from stockml.reporting.run_report import run_sections
from stockml.reporting.sources import EVALUATION_FILE, run_evaluation, sweep_study
from stockml.reporting.study_figures import study_figures


def leaderboard_section(board: pd.DataFrame, shown: pd.DataFrame, metric: str) -> Section:
    note = Note(
        f"{len(board)} finished runs ranked by the CV mean of {metric}. A tuned run's CV score "
        "is the best of many tried on the same folds, so trust its holdout."
    )
    return Section("leaderboard", [note, leaderboard_figure(board, metric), Table(shown)])


def study_section(sweep_dir: Path) -> Section:
    found = sweep_study(sweep_dir)
    if isinstance(found, str):
        return Section("Optuna study", [Note(found)])
    study, names = found
    figures = study_figures(study, names)
    blocks = figures or [Note("The study has no completed trial to plot.")]
    return Section(f"Optuna study {study.study_name}", list(blocks))


def best_run_sections(client: Any, board: pd.DataFrame, top: int) -> list[Section]:
    sections = []
    for rank, row in enumerate(board.head(top).itertuples(index=False), start=1):
        title = f"#{rank} {row.run_name} (run {row.run_id})"
        document = run_evaluation(client, row.run_id)
        if document is None:
            note = Note(f"This run logged no {EVALUATION_FILE} (it was recorded before stockml "
                        "evaluated portfolios, or its artifacts are gone).")  # fmt: skip
            sections.append(Section(title, [note]))
        else:
            sections += run_sections(document, title)
    return sections


def board_sections(
    client: Any, board: pd.DataFrame, shown: pd.DataFrame, metric: str, top: int,
    sweep_dir: Path | None,
) -> list[Section]:  # fmt: skip
    """Every section of the page, in reading order."""
    sections = [leaderboard_section(board, shown, metric)]
    if sweep_dir is not None:
        sections.append(study_section(sweep_dir))
    return sections + best_run_sections(client, board, top)
