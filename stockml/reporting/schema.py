"""The evaluation document: one run's factor and portfolio results, as `evaluation.json`.

It is the single hand-over between the evaluation (which computes it once, inside the run) and
every report (per-run `report.html`, `stockml-report --html` for an experiment or a sweep), so
a report never recomputes a number and an old run's report draws what that run measured.
Series are column-wise lists (one list per column, equal lengths) to keep the file small; dates
are ISO-8601 strings; an undefined number is `null`.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

SCHEMA_VERSION = 1


class EvaluationSettings(TypedDict):
    """How the portfolios were formed (from the `evaluation` config group and the target)."""

    quantiles: int
    top_k: int | None  # None: long the top quantile, short the bottom one
    cost_bps: float
    horizon: int  # bars each sub-portfolio is held (target.horizon)
    # Documents written before target.entry_lag existed have neither key: lag 0, log return.
    entry_lag: NotRequired[int]  # bars from the signal to entering (target.entry_lag)
    target: NotRequired[str]  # the label y_true holds (stockml.target.TargetSpec.describe)
    max_decay_horizon: int
    periods_per_year: float  # annualisation, from the panel's bar frequency
    mode: Literal["long_short", "timing"]  # timing: one ticker, trade the forecast's sign


class DailySeries(TypedDict):
    """Per-bar portfolio returns (simple returns, earned from `date` to the next bar)."""

    date: list[str]
    gross: list[float | None]
    net: list[float | None]  # gross minus cost_bps per unit of turnover
    benchmark: list[float | None]  # equal-weight long-only universe (timing: buy and hold)
    turnover: list[float | None]  # sum of |weight change| on that bar


class DatedIC(TypedDict):
    date: list[str]
    ic: list[float | None]
    rank_ic: list[float | None]


class QuantileReturns(TypedDict):
    quantile: list[int]  # 1 = lowest forecast
    mean_return: list[float | None]  # mean realised label, averaged over dates


class ICDecay(TypedDict):
    horizon: list[int]  # 1 .. max_decay_horizon bars
    ic: list[float | None]
    rank_ic: list[float | None]


class ForecastSample(TypedDict):
    """At most a few thousand (forecast, realised label) pairs, sampled with a fixed seed."""

    prediction: list[float]
    y_true: list[float]


class PeriodEvaluation(TypedDict):
    """One evaluated period: the holdout, or the stitched out-of-fold CV predictions."""

    metrics: dict[str, float | None]  # ls_sharpe, ls_net_sharpe, q_spread, ... (no prefix)
    daily: DailySeries
    ic_by_date: DatedIC
    quantile_returns: QuantileReturns
    ic_decay: ICDecay
    forecast_vs_realised: ForecastSample


class FoldEvaluation(TypedDict):
    fold: int
    test_start: str
    test_end: str
    metrics: dict[str, float | None]  # regression and portfolio metrics of this fold


class FeatureImportance(TypedDict):
    feature: list[str]
    importance: list[float]
    kind: Literal["coefficient", "impurity", "selected"]


class EvaluationDocument(TypedDict):
    schema_version: int
    settings: EvaluationSettings
    holdout: PeriodEvaluation
    cv: PeriodEvaluation | None  # None when no fold produced a prediction
    folds: list[FoldEvaluation]
    feature_importance: FeatureImportance | None
