"""A sweep's Optuna study as interactive figures: Optuna's own plotly plots, reused.

The plan (which plots the study supports, per objective) is the one the sweep's PNG files
follow (`stockml.tracking.study_plots`); only the drawing module differs.
"""

from __future__ import annotations

import logging

import optuna
import plotly.graph_objects as go

from stockml.messages import first_line
from stockml.tracking.study_plots import study_plot_plan

log = logging.getLogger(__name__)


def study_figures(study: optuna.Study, names: list[str]) -> list[go.Figure]:
    """Each plot the study supports; one Optuna cannot draw is left out with a warning line."""
    from optuna import visualization

    figures = []
    for plot in study_plot_plan(study, names):
        try:
            figures.append(plot.draw(study, visualization))
        except Exception as exc:  # e.g. fANOVA on objectives that never varied
            log.warning("study %s: no %s plot: %s", study.study_name, plot.stem, first_line(exc))
    return figures
