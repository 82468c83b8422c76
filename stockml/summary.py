"""The short tables a run prints: CV mean ± std, holdout, and the naive baselines beside it;
then whether the forecast makes money, beside an equal-weight (or buy-and-hold) benchmark."""

from __future__ import annotations

import math

from stockml.console_table import table
from stockml.experiment import ExperimentResult

SUMMARY_METRICS: tuple[str, ...] = (
    "mse",
    "mae",
    "r2",
    "directional_accuracy",
    "ic",
    "rank_ic",
    "icir",
)
# Portfolio metric -> the benchmark's counterpart (None: the benchmark has none).
PORTFOLIO_SUMMARY: dict[str, str | None] = {
    "ls_net_sharpe": "benchmark_sharpe",
    "ls_sharpe": "benchmark_sharpe",
    "ls_net_ann_return": "benchmark_ann_return",
    "ls_max_drawdown": "benchmark_max_drawdown",
    "ls_turnover": None,
    "q_spread": None,
    "q_spread_t": None,
}


def _fmt(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.3e}" if 0 < abs(value) < 1e-3 else f"{value:.4f}"


def _portfolio_lines(result: ExperimentResult) -> list[str]:
    cv = result.cv.summary()
    settings = result.evaluation["settings"]
    benchmark = "buy&hold" if settings["mode"] == "timing" else "equal-weight"
    rows = []
    for name, counterpart in PORTFOLIO_SUMMARY.items():
        rows.append(
            [
                name,
                f"{_fmt(cv[name]['mean'])} ± {_fmt(cv[name]['std'])}",
                _fmt(result.portfolio.get(name, math.nan)),
                "" if counterpart is None else _fmt(result.portfolio.get(counterpart, math.nan)),
            ]
        )
    strategy = (
        "timing: the forecast's sign"
        if settings["mode"] == "timing"
        else f"long top {settings['top_k'] or 'quantile'} / short bottom"
    )
    return [
        "",
        f"{strategy}, entered {settings.get('entry_lag', 0)} bar(s) after the signal, held "
        f"{settings['horizon']} bar(s) as staggered slices, "
        f"{settings['cost_bps']:g} bps per unit traded (net); {settings['quantiles']} quantiles",
        table(["portfolio", "cv mean ± std", "holdout", benchmark], rows, rule=True),
    ]


def summary_table(result: ExperimentResult) -> str:
    cv = result.cv.summary()
    baselines = list(result.baselines)
    header = ["metric", "cv mean ± std", "holdout", *(f"base:{b}" for b in baselines)]
    rows = []
    for name in SUMMARY_METRICS:
        rows.append(
            [
                name,
                f"{_fmt(cv[name]['mean'])} ± {_fmt(cv[name]['std'])}",
                _fmt(result.holdout.get(name, math.nan)),
                *(_fmt(result.baselines[b].get(name, math.nan)) for b in baselines),
            ]
        )
    lines = [
        f"scored against: {result.data.target.describe()}",
        table(header, rows, rule=True),
        *_portfolio_lines(result),
    ]
    if result.search is not None:
        search = result.search
        lines.append(
            f"{search.method} search: {search.n_candidates} candidates, best CV {search.metric} "
            f"{_fmt(search.best_score)} at {search.best_params}"
        )
        lines.append(
            "  (the CV column is the selected candidate on the folds it was selected on, so it "
            "is optimistic; the holdout is the honest estimate)"
        )
    return "\n".join(lines)
