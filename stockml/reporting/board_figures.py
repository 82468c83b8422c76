"""The leaderboard as a chart: each run's CV mean ± std beside its holdout and the baselines."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

# Leaderboard column (with the metric filled in) -> legend name, in drawing order.
HOLDOUT_SERIES = {
    "test_{metric}": "holdout",
    "baseline_test_{metric}": "zero baseline, holdout",
    "last_return_test_{metric}": "last-return baseline, holdout",
}


def leaderboard_figure(board: pd.DataFrame, metric: str) -> go.Figure:
    """One column of points per run, best first (the board's order)."""
    runs = board["run_name"].astype(str)
    traces = [
        go.Scatter(
            x=runs, y=board[f"cv_{metric}_mean"], mode="markers", name="CV mean ± std",
            marker={"size": 10}, error_y={"type": "data", "array": board[f"cv_{metric}_std"]},
        )
    ]  # fmt: skip
    for column, name in HOLDOUT_SERIES.items():
        values = board[column.format(metric=metric)]
        if values.notna().any():
            traces.append(go.Scatter(x=runs, y=values, mode="markers", name=name,
                                     marker={"size": 9, "symbol": "diamond"}))  # fmt: skip
    return go.Figure(
        traces,
        layout={
            "title": f"{metric}: CV mean ± std beside the holdout and the baselines, best first",
            "height": 420, "xaxis": {"title": "run", "type": "category"},
            "yaxis": {"title": metric}, "margin": {"l": 60, "r": 20, "t": 50, "b": 120},
        },
    )  # fmt: skip
