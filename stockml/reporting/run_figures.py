"""One run's figures, drawn from its evaluation document alone (plotly graph objects).

Every number drawn was computed by the evaluation inside the run; the only arithmetic here is
presentation: compounding daily returns into an equity curve, its drawdown, and the running
sum of per-date ICs. Dates become datetimes so plotly draws a date axis (readable ticks,
zoom by range) instead of one category label per bar. Graph objects rather than plotly
express, and plotly's default template applied when the page is written: both cut the build
of a figure from about 150 ms to about 15 ms (express and a per-figure template validate and
copy much more), which is most of what a run's report costs.

In the browser, the margins are fixed (`FIXED_MARGINS`, sized for these short tick labels)
instead of plotly's default automatic margins: those draw each figure again once its tick
labels are measured, which cost about a second of a run's page (bench_report.py); only the
feature names, whose lengths nobody knows, keep an automatic margin.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from stockml.reporting.schema import (
    DailySeries,
    DatedIC,
    FeatureImportance,
    FoldEvaluation,
    ICDecay,
    PeriodEvaluation,
    QuantileReturns,
)

MAX_FEATURES_SHOWN = 30  # a bar per feature beyond this is unreadable; the largest |value| win
IMPORTANCE_TITLES = {
    "coefficient": "model coefficients",
    "impurity": "impurity importances",
    "selected": "selected features",
}
FIGURE_HEIGHT = 360
FIXED_MARGINS = {"l": 60, "r": 20, "t": 50, "b": 45}
FOLD_PANELS_PER_ROW = 4
SUBPLOT_TITLE_SIZE = 16  # make_subplots' size for panel titles
DAILY_NAMES = {"gross": "gross", "net": "net of costs", "benchmark": "benchmark"}
# Forecast vs realised is a 2-D histogram of the sampled pairs, not a scatter of them: a
# scatter draws one SVG node per sampled pair and was the costliest figure to open.
DENSITY_BINS = 40
# Empty cells stay transparent (the grid shows through) and a cell of one pair is already
# visible, so lone outliers are not lost as they would be on a linear white-to-blue scale.
DENSITY_COLORS = [[0.0, "rgba(99, 110, 250, 0)"], [1e-6, "rgba(99, 110, 250, 0.3)"],
                  [1.0, "rgba(25, 30, 120, 1)"]]  # fmt: skip


def _figure(traces: list[go.BaseTraceType], title: str, x_title: str, y_title: str,
            **layout: object) -> go.Figure:  # fmt: skip
    return go.Figure(
        traces,
        layout={
            "title": title, "height": FIGURE_HEIGHT, "margin": FIXED_MARGINS,
            "xaxis": {"title": x_title, "automargin": False},
            "yaxis": {"title": y_title, "automargin": False}, **layout,
        },
    )  # fmt: skip


def _dates(values: list[str]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(pd.Series(values), format="ISO8601"))


def _equity(daily: DailySeries) -> pd.DataFrame:
    """Growth of 1 invested in each series (an undefined day's return counts as flat)."""
    frame = pd.DataFrame({k: daily[k] for k in DAILY_NAMES}, index=_dates(daily["date"]),
                         dtype=float)  # fmt: skip
    return (1.0 + frame.fillna(0.0)).cumprod()


def _lines(frame: pd.DataFrame, names: dict[str, str]) -> list[go.Scatter]:
    return [go.Scatter(x=frame.index, y=frame[c], mode="lines", name=names[c]) for c in names]


def equity_figure(daily: DailySeries, label: str) -> go.Figure:
    return _figure(
        _lines(_equity(daily), DAILY_NAMES),
        f"equity curve, gross and net of costs vs benchmark ({label})", "", "growth of 1",
    )  # fmt: skip


def drawdown_figure(daily: DailySeries, label: str) -> go.Figure:
    """Loss from the running peak of each equity curve."""
    equity = _equity(daily)
    figure = _figure(_lines(equity / equity.cummax() - 1.0, DAILY_NAMES),
                     f"drawdown ({label})", "", "drawdown")  # fmt: skip
    figure.update_yaxes(tickformat=".1~%")  # -0.5%, -1%: no repeated labels
    return figure


def cumulative_ic_figure(ic: DatedIC, label: str) -> go.Figure:
    """Running sum of per-date ICs: a steady slope is a stable signal, a step one lucky date."""
    frame = pd.DataFrame({"ic": ic["ic"], "rank_ic": ic["rank_ic"]}, index=_dates(ic["date"]),
                         dtype=float)  # fmt: skip
    return _figure(_lines(frame.fillna(0.0).cumsum(), {"ic": "IC", "rank_ic": "rank IC"}),
                   f"cumulative IC per date ({label})", "", "cumulative IC")  # fmt: skip


def quantile_figure(quantiles: QuantileReturns, label: str) -> go.Figure:
    figure = _figure(
        [go.Bar(x=quantiles["quantile"], y=quantiles["mean_return"], name="mean return")],
        f"mean realised return per forecast quantile ({label})",
        "forecast quantile (1 = lowest)", "mean realised return",
    )  # fmt: skip
    figure.update_xaxes(dtick=1)
    return figure


def ic_decay_figure(decay: ICDecay, label: str) -> go.Figure:
    figure = _figure(
        [go.Bar(x=decay["horizon"], y=decay["ic"], name="IC"),
         go.Bar(x=decay["horizon"], y=decay["rank_ic"], name="rank IC")],
        f"IC decay: forecast vs forward return at each horizon ({label})",
        "horizon (bars)", "IC", barmode="group",
    )  # fmt: skip
    figure.update_xaxes(dtick=1)
    return figure


def forecast_figure(period: PeriodEvaluation, label: str) -> go.Figure:
    """How many sampled (forecast, realised) pairs fall in each cell (hover for the count)."""
    sample = period["forecast_vs_realised"]
    return _figure(
        [go.Histogram2d(x=sample["prediction"], y=sample["y_true"], nbinsx=DENSITY_BINS,
                        nbinsy=DENSITY_BINS, colorscale=DENSITY_COLORS, showscale=False,
                        name="sampled pairs")],
        f"forecast vs realised, density of {len(sample['prediction']):,} sampled pairs ({label})",
        "forecast", "realised forward return",
    )  # fmt: skip


def period_figures(period: PeriodEvaluation, label: str) -> list[go.Figure]:
    """Every figure of one evaluated period (holdout, or out-of-fold CV), in reading order."""
    return [
        equity_figure(period["daily"], label),
        drawdown_figure(period["daily"], label),
        cumulative_ic_figure(period["ic_by_date"], label),
        quantile_figure(period["quantile_returns"], label),
        ic_decay_figure(period["ic_decay"], label),
        forecast_figure(period, label),
    ]


def folds_figure(folds: list[FoldEvaluation]) -> go.Figure:
    """Each metric across the CV folds, one small panel per metric (their scales differ).

    Laid out by plotly.js's own `layout.grid`, each panel titled by an annotation placed
    against its axes' domain: `make_subplots` computes and validates the same grid in Python,
    about 0.1 s for two dozen panels, most of what a run's report cost to build.
    """
    names = list(dict.fromkeys(name for fold in folds for name in fold["metrics"]))
    n_rows = -(-len(names) // FOLD_PANELS_PER_ROW)
    labels = [f"fold {fold['fold']}" for fold in folds]
    periods = [f"{fold['test_start']} to {fold['test_end']}" for fold in folds]
    traces, titles, axes = [], [], {}
    for index, name in enumerate(names):
        axis = "" if index == 0 else str(index + 1)  # plotly's axis ids: x, x2, x3, ...
        traces.append(
            go.Bar(x=labels, y=[fold["metrics"].get(name) for fold in folds], customdata=periods,
                   name=name, showlegend=False, xaxis=f"x{axis}", yaxis=f"y{axis}",
                   hovertemplate="%{x}: %{y:.4g}<br>test %{customdata}<extra></extra>")
        )  # fmt: skip
        titles.append({"text": name, "xref": f"x{axis} domain", "yref": f"y{axis} domain",
                       "x": 0.5, "y": 1.0, "xanchor": "center", "yanchor": "bottom",
                       "showarrow": False, "font": {"size": SUBPLOT_TITLE_SIZE}})  # fmt: skip
        axes |= {f"xaxis{axis}": {"automargin": False}, f"yaxis{axis}": {"automargin": False}}
    return go.Figure(
        traces,
        layout={
            "title": "scores per CV fold (hover a bar for its test period)",
            "grid": {"rows": n_rows, "columns": FOLD_PANELS_PER_ROW, "pattern": "independent",
                     "ygap": 0.5},
            "annotations": titles, "height": max(FIGURE_HEIGHT, 220 * n_rows + 60),
            "margin": {**FIXED_MARGINS, "t": 70}, **axes,
        },
    )  # fmt: skip


def importance_figure(importance: FeatureImportance) -> go.Figure:
    """The features by |importance|, largest at the top (at most MAX_FEATURES_SHOWN)."""
    frame = pd.DataFrame({"feature": importance["feature"], "importance": importance["importance"]})
    shown = frame.reindex(frame["importance"].abs().sort_values().index).tail(MAX_FEATURES_SHOWN)
    title = IMPORTANCE_TITLES[importance["kind"]]
    figure = _figure(
        [go.Bar(x=shown["importance"], y=shown["feature"], orientation="h", name=title)],
        f"{title} (largest {len(shown)} by size)", importance["kind"], "",
        height=max(FIGURE_HEIGHT, 18 * len(shown) + 100),
    )  # fmt: skip
    figure.update_yaxes(automargin=True)  # the margin grows to the longest feature name
    return figure
