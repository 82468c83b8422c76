"""Diagnostic plots of a holdout: is the signal stable through time, or one lucky month?"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from stockml.tuning.inner_search import SearchResult


def holdout_figure(predictions: pd.DataFrame) -> Figure:
    """Cumulative per-date rank IC (left) and forecast vs. realised return (right)."""
    figure = Figure(figsize=(11, 4))
    left, right = figure.subplots(1, 2)
    per_date = predictions.groupby("date")[["prediction", "y_true"]].corr(method="spearman")
    if isinstance(per_date.index, pd.MultiIndex) and len(per_date):
        rank_ic = per_date.xs("prediction", level=1)["y_true"].dropna()
    else:
        rank_ic = pd.Series(dtype=float)
    if len(rank_ic):
        left.plot(rank_ic.index, rank_ic.cumsum())
    left.set_title("cumulative rank IC per date (holdout)")
    left.axhline(0.0, color="grey", linewidth=0.8)
    right.scatter(predictions["prediction"], predictions["y_true"], s=3, alpha=0.3)
    right.set_xlabel("forecast")
    right.set_ylabel("realised forward log return")
    right.set_title("forecast vs. realised (holdout)")
    figure.tight_layout()
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
