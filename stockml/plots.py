"""Diagnostic plots of a holdout: is the signal stable through time, or one lucky month?"""

from __future__ import annotations

import pandas as pd
from matplotlib.dates import ConciseDateFormatter
from matplotlib.figure import Figure

from stockml.reporting.schema import DatedIC
from stockml.tuning.inner_search import SearchResult

# Fixed margins (fractions of the figure) instead of tight_layout, which draws the whole
# figure once more just to measure its labels: about a fifth of a second per plot.
HOLDOUT_MARGINS = {"left": 0.06, "right": 0.98, "bottom": 0.13, "top": 0.92, "wspace": 0.2}


def holdout_figure(predictions: pd.DataFrame, ic_by_date: DatedIC) -> Figure:
    """Cumulative per-date rank IC (left) and forecast vs. realised return (right).

    The rank ICs are the evaluation's own (`evaluation.json`), the numbers behind the run's
    `rank_ic` metrics, rather than computed again here.
    """
    figure = Figure(figsize=(11, 4))
    figure.subplots_adjust(**HOLDOUT_MARGINS)
    left, right = figure.subplots(1, 2)
    dates = pd.to_datetime(pd.Series(ic_by_date["date"]), format="ISO8601")
    rank_ic = pd.Series(ic_by_date["rank_ic"], index=dates, dtype=float).dropna()
    if len(rank_ic):
        left.plot(rank_ic.index, rank_ic.cumsum())
        left.xaxis.set_major_formatter(ConciseDateFormatter(left.xaxis.get_major_locator()))
    left.set_title("cumulative rank IC per date (holdout)")
    left.axhline(0.0, color="grey", linewidth=0.8)
    right.scatter(predictions["prediction"], predictions["y_true"], s=3, alpha=0.3)
    right.set_xlabel("forecast")
    right.set_ylabel("realised forward log return")
    right.set_title("forecast vs. realised (holdout)")
    return figure


def search_history_figure(search: SearchResult) -> Figure:
    """Each candidate's CV score in the order tried, with the best-so-far line."""
    figure = Figure(figsize=(6, 4))
    axes = figure.subplots()
    scores = search.trials["score_mean"]
    best = scores.cummax() if search.greater_is_better else scores.cummin()
    axes.scatter(search.trials["number"], scores, s=10, label="candidate")
    axes.plot(search.trials["number"], best, color="black", label="best so far")
    axes.set_xlabel(f"{search.method} candidate")
    axes.set_ylabel(f"CV {search.metric}")
    axes.legend()
    figure.tight_layout()
    return figure
