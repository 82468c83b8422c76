"""One run's part of a report: its settings, metrics and figures, holdout and CV side by side.

The same sections are the whole of a run's own `report.html` (logged into its MLflow run) and
one part of an experiment's or a sweep's page, so both always show a run the same way.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from stockml.reporting.page import Note, Section, Table, write_page
from stockml.reporting.run_figures import folds_figure, importance_figure, period_figures
from stockml.reporting.schema import EvaluationDocument, EvaluationSettings

REPORT_FILE = "report.html"
HOLDOUT_LABEL = "holdout"
CV_LABEL = "CV, out of fold"


def settings_note(settings: EvaluationSettings) -> Note:
    """How the portfolios were formed, in one sentence."""
    if settings["mode"] == "timing":
        legs = "one ticker: long or short by the forecast's sign, against buy and hold"
    elif settings["top_k"] is None:
        legs = (
            f"long the top and short the bottom of {settings['quantiles']} forecast quantiles, "
            "equal weight, against the equal-weight universe"
        )
    else:
        legs = (
            f"long the top {settings['top_k']} and short the bottom {settings['top_k']}, "
            "equal weight, against the equal-weight universe"
        )
    entry = f", entered {settings.get('entry_lag', 0)} bar(s) after the signal"
    label = f" Scored against: {settings['target']}." if "target" in settings else ""
    return Note(
        f"Portfolio: {legs}; each held {settings['horizon']} bar(s){entry}; costs "
        f"{settings['cost_bps']:g} bps per unit traded; annualised at "
        f"{settings['periods_per_year']:g} bars a year; IC decay to "
        f"{settings['max_decay_horizon']} bars.{label}"
    )


def metrics_table(document: EvaluationDocument) -> Table:
    """The period metrics, one row each, holdout beside the out-of-fold CV value."""
    columns = {HOLDOUT_LABEL: document["holdout"]["metrics"]}
    if document["cv"] is not None:
        columns[CV_LABEL] = document["cv"]["metrics"]
    frame = pd.DataFrame(columns, dtype=float)
    frame.index.name = "metric"
    return Table(frame, index=True)


def run_sections(document: EvaluationDocument, title: str) -> list[Section]:
    """The run's sections: a heading with its settings and metrics, then one sub-section
    per period, then the folds and the features."""
    sections = [Section(title, [settings_note(document["settings"]), metrics_table(document)])]
    sections.append(
        Section(HOLDOUT_LABEL, list(period_figures(document["holdout"], HOLDOUT_LABEL)), level=3)
    )
    if document["cv"] is None:
        sections.append(Section(CV_LABEL, [Note("No fold produced a prediction.")], level=3))
    else:
        sections.append(Section(CV_LABEL, list(period_figures(document["cv"], CV_LABEL)), level=3))
    if document["folds"]:
        sections.append(Section("CV folds", [folds_figure(document["folds"])], level=3))
    if document["feature_importance"] is not None:
        importance = importance_figure(document["feature_importance"])
        sections.append(Section("features", [importance], level=3))
    return sections


def write_run_report(document: EvaluationDocument, path: Path, title: str) -> Path:
    """A run's own report page."""
    return write_page(path, title, run_sections(document, title))
