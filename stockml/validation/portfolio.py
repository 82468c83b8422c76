"""Does the signal make money? Quantile returns, a long-short portfolio with costs, IC decay.

Everything is computed on a date x ticker grid in one vectorised pass, so a 200-ticker,
1,000-date holdout evaluates in a fraction of a second.

Conventions (the README's "Does the signal make money?" says the same in prose):

- **Returns.** Portfolios earn each bar's forward *simple* return ``close[t+1] / close[t] - 1``
  on the panel calendar (the union of all tickers' bars, as in `stockml.target`), so a
  ticker's gap is a missing return, never a return stretched over several bars. A held name
  whose next bar is missing earns 0 on that bar.
- **Portfolio.** On every date with forecasts, a slice is formed: long the top ``top_k`` names at
  ``+1/k`` each and short the bottom ``k`` at ``-1/k`` (``top_k`` null: the top quantile, i.e. the
  ``n // quantiles`` best names, at least one). One ticker cannot be ranked: the slice is then
  ``sign(forecast)`` (a timing strategy) against buy-and-hold. Each slice is held ``horizon``
  bars, the label's horizon, with ``1/horizon`` of the capital: the portfolio on a date is the
  average of the ``horizon`` most recent slices (staggered sub-portfolios, so the overlapping
  labels need no rebalancing calendar), and capital not yet given to a slice is in cash.
  With a target ``entry_lag`` of ``L`` bars the label is measured from ``L`` bars after the
  signal, and so is the portfolio: a slice formed on date ``t`` is entered at the close of
  ``t + L`` (the first return it earns is ``t + L`` to ``t + L + 1``) and held ``horizon``
  bars from there, exactly the bars its label spans. IC decay counts its 1..n bars from the
  same entry bar. Quantile means average the label itself (``y_true``, so in its units: a
  rank under ``target.transform=cs_rank``); the ``ls_*`` numbers always earn real returns.
  Weights are target weights, reset every bar; turnover is ``sum |w(d) - w(d-1)|`` and costs
  ``cost_bps`` basis points per unit of turnover.
- **Edge effects.** The daily series covers the dates that have forecasts: the first
  ``entry_lag + horizon - 1`` bars are partly in cash, the opening trades are charged, and
  slices formed near the end are cut off at the last forecast date (their closing trades are
  not charged; with an entry lag the last ``entry_lag`` slices are never entered).
- **Drawdown** is the worst peak-to-trough fall of the compounded equity curve, reported as a
  negative number (-0.25 = lost a quarter from a peak), so for every ``ls_*`` metric but
  volatility and turnover higher is better.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from stockml.data.schema import DATE_LEVEL, TICKER_LEVEL, stamp_format
from stockml.reporting.schema import (
    DailySeries,
    DatedIC,
    EvaluationSettings,
    ForecastSample,
    ICDecay,
    PeriodEvaluation,
    QuantileReturns,
)
from stockml.threads import job_cores
from stockml.validation.cross_section import ForecastGrid
from stockml.validation.metrics import mean_daily_correlation

# Portfolio metrics a sweep may optimise, and whether higher is better. The benchmark's are
# reported beside them but are not a model's score, so they are not selectable.
PORTFOLIO_GREATER_IS_BETTER: dict[str, bool] = {
    "ls_ann_return": True,
    "ls_net_ann_return": True,
    "ls_vol": False,
    "ls_sharpe": True,
    "ls_net_sharpe": True,
    "ls_max_drawdown": True,  # negative: closer to 0 is better
    "ls_net_max_drawdown": True,
    "ls_hit_rate": True,
    "ls_turnover": False,
    "q_spread": True,
    "q_spread_t": True,
    "q_monotonicity": True,
}
BENCHMARK_METRICS: tuple[str, ...] = (
    "benchmark_ann_return",
    "benchmark_sharpe",
    "benchmark_max_drawdown",
)
PORTFOLIO_METRICS: tuple[str, ...] = (*PORTFOLIO_GREATER_IS_BETTER, *BENCHMARK_METRICS)

TRADING_DAYS_PER_YEAR = 252
FORECAST_SAMPLE_SIZE = 2000


@dataclass(frozen=True)
class PortfolioSettings:
    """The `evaluation` config group (whose YAML holds the defaults), plus the label's horizon
    and entry lag (`stockml.target.TargetSpec`) and the bar frequency."""

    quantiles: int
    top_k: int | None
    cost_bps: float
    horizon: int
    max_decay_horizon: int
    periods_per_year: float
    entry_lag: int = 0

    def document(self, mode: Literal["long_short", "timing"]) -> EvaluationSettings:
        return {
            "quantiles": self.quantiles,
            "top_k": self.top_k,
            "cost_bps": self.cost_bps,
            "horizon": self.horizon,
            "entry_lag": self.entry_lag,
            "max_decay_horizon": self.max_decay_horizon,
            "periods_per_year": self.periods_per_year,
            "mode": mode,
        }


def periods_per_year(calendar: pd.DatetimeIndex) -> float:
    """Bars per year, for annualising: 252 for daily bars, 252 x bars per day for intraday
    bars, and 365.25 / the usual gap in days for coarser bars (about 52 for weekly)."""
    stamps = pd.DatetimeIndex(calendar).unique().sort_values()
    if len(stamps) < 2:
        return float(TRADING_DAYS_PER_YEAR)
    days = stamps.normalize()
    if (stamps != days).any():
        return float(TRADING_DAYS_PER_YEAR * pd.Series(days).value_counts().median())
    gap = float((days[1:] - days[:-1]).median() / pd.Timedelta(days=1))
    # Weekends and holidays lengthen some gaps of daily bars, never the median past 4 days.
    return float(TRADING_DAYS_PER_YEAR) if gap < 5 else 365.25 / gap


class PriceGrid:
    """A panel's closes as one calendar x ticker table, for forward returns at any horizon.

    ``before`` truncates the calendar: every forward return whose end bar is on or after it
    is NaN. The out-of-fold CV evaluation uses the holdout's first date there, so no CV
    number ever reads a holdout price.
    """

    def __init__(self, panel: pd.DataFrame, before: pd.Timestamp | None = None) -> None:
        calendar, self.tickers, close = _close_grid(panel)
        # One NaN row and column past the end: unknown dates and tickers, and bars past the
        # calendar's end, all index into them (built once, as the IC decay asks per horizon).
        self._padded = np.full((len(calendar) + 1, len(self.tickers) + 1), np.nan)
        self._padded[:-1, :-1] = close
        self.calendar = calendar
        if before is not None:
            self.calendar = calendar[: calendar.searchsorted(before)]

    def truncated(self, before: pd.Timestamp) -> PriceGrid:
        """This grid with its calendar ending before ``before``, sharing the prices: the CV
        evaluation's grid without a second pass over the panel."""
        grid = copy.copy(self)
        grid.calendar = self.calendar[: self.calendar.searchsorted(before)]
        return grid

    def forward(
        self, dates: pd.DatetimeIndex, tickers: pd.Index, bars: int, lag: int = 0
    ) -> np.ndarray:
        """``close[t + lag + bars] / close[t + lag]`` for every (date, ticker) pair of the two
        axes (a len(dates) x len(tickers) array; NaN past the calendar's end or a missing
        price): the return from ``lag`` bars after ``t``, over ``bars`` bars."""
        return self.forwards(dates, tickers, lag)(bars)

    def forwards(self, dates: pd.DatetimeIndex, tickers: pd.Index, lag: int = 0) -> ForwardReturns:
        """``forward`` at any horizon, for the IC decay: the axes are looked up and the start
        prices gathered once, not once per horizon."""
        rows = self.calendar.get_indexer(dates)
        cols = self.tickers.get_indexer(tickers)
        cols = np.where(cols < 0, len(self.tickers), cols)
        unknown = (rows < 0) | (rows + lag >= len(self.calendar))
        start = np.where(unknown, self._padded.shape[0] - 1, rows + lag)
        return ForwardReturns(self, rows, cols, lag, self._padded[np.ix_(start, cols)])


@dataclass(frozen=True)
class ForwardReturns:
    """`PriceGrid.forward` for fixed axes and lag, at any horizon (read-only, so the IC
    decay's threads share one)."""

    prices: PriceGrid
    rows: np.ndarray  # each date's position in the calendar, -1 if not in it
    cols: np.ndarray  # each ticker's column of the padded closes
    lag: int
    base: np.ndarray  # the start prices, close[t + lag]

    def __call__(self, bars: int) -> np.ndarray:
        padded, outside = self.prices._padded, len(self.prices.calendar)
        ahead = self.rows + self.lag + bars
        end = np.where((self.rows < 0) | (ahead >= outside), padded.shape[0] - 1, ahead)
        return padded[np.ix_(end, self.cols)] / self.base


def _close_grid(panel: pd.DataFrame) -> tuple[pd.DatetimeIndex, pd.Index, np.ndarray]:
    """(sorted dates, sorted tickers, closes as a date x ticker array, NaN where a ticker has no
    bar): ``panel["close"].unstack("ticker")``, placed by the index's own codes, which is
    ten times faster than pandas' unstack on a 5M-row panel."""
    index = panel.index.remove_unused_levels()
    axes, codes = [], []
    for name in (DATE_LEVEL, TICKER_LEVEL):
        level = index.names.index(name)
        values, code = index.levels[level], index.codes[level]
        if not values.is_monotonic_increasing:
            order = values.argsort()
            values, code = values[order], np.argsort(order)[code]
        axes.append(values)
        codes.append(code)
    close = np.full((len(axes[0]), len(axes[1])), np.nan)
    close[codes[0], codes[1]] = panel["close"].to_numpy(dtype=float)
    return pd.DatetimeIndex(axes[0]), axes[1], close


@dataclass(frozen=True)
class _Grid:
    """The forecasts as a date x ticker grid (NaN where a ticker has no row on a date)."""

    dates: pd.DatetimeIndex
    tickers: pd.Index
    prediction: np.ndarray
    label: np.ndarray

    @classmethod
    def of(cls, predictions: pd.DataFrame) -> _Grid:
        date_code, dates = pd.factorize(pd.DatetimeIndex(predictions[DATE_LEVEL]), sort=True)
        ticker_code, tickers = pd.factorize(predictions[TICKER_LEVEL], sort=True)
        shape = (len(dates), len(tickers))
        grids = []
        for column in ("prediction", "y_true"):
            grid = np.full(shape, np.nan)
            grid[date_code, ticker_code] = predictions[column].to_numpy(dtype=float)
            grids.append(grid)
        return cls(pd.DatetimeIndex(dates), pd.Index(tickers), *grids)

    @cached_property
    def present(self) -> np.ndarray:
        return ~np.isnan(self.prediction)

    @cached_property
    def ranking(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ordinal rank of each forecast within its date, 0 = lowest; names per date; whether
        the date's forecasts can be ranked at all). Ties go by ticker order, so the result is
        deterministic; a date whose forecasts are all equal ranks nothing (no signal that day).
        Cached: the portfolio's slices and the quantiles both need it."""
        present = self.present
        filled = np.where(present, self.prediction, np.inf)  # missing names sort last
        # A stable sort is four times slower than numpy's default; it only matters on dates
        # where two known forecasts tie, so only those are sorted again, stably.
        order = np.argsort(filled, axis=1)
        ordered = np.sort(filled, axis=1)
        tied = (ordered[:, 1:] == ordered[:, :-1]) & np.isfinite(ordered[:, 1:])
        redo = np.flatnonzero(tied.any(axis=1))
        order[redo] = np.argsort(filled[redo], axis=1, kind="stable")
        ranks = np.empty_like(order)
        np.put_along_axis(ranks, order, np.arange(self.prediction.shape[1])[None, :], axis=1)
        names = present.sum(axis=1)
        with np.errstate(invalid="ignore"):
            spread = np.nanmax(self.prediction, axis=1) - np.nanmin(self.prediction, axis=1)
        return np.where(present, ranks, -1), names, spread > 0


def formation_weights(grid: _Grid, settings: PortfolioSettings) -> np.ndarray:
    """Each date's freshly formed slice: +1/k on the top k names, -1/k on the bottom k
    (timing mode, one ticker: the forecast's sign)."""
    if len(grid.tickers) == 1:
        return np.nan_to_num(np.sign(grid.prediction))
    ranks, names, rankable = grid.ranking
    wanted = (
        np.full_like(names, settings.top_k)
        if settings.top_k is not None
        else np.maximum(1, names // settings.quantiles)
    )
    k = np.where(rankable, np.minimum(wanted, names // 2), 0)[:, None]
    long = (ranks >= names[:, None] - k) & (k > 0)
    short = (ranks >= 0) & (ranks < k)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(long, 1.0 / k, 0.0) - np.where(short, 1.0 / k, 0.0)


def staggered(formed: np.ndarray, horizon: int) -> np.ndarray:
    """The held weights: the mean of the last ``horizon`` slices, cash for slices not yet formed.

    Summed slice by slice (``horizon`` is small) rather than as a difference of cumulative
    sums, which would leave float dust where a position is closed and count it as turnover.
    """
    held = formed.copy()
    for lag in range(1, horizon):
        held[lag:] += formed[:-lag]
    return held / horizon


def entered(held: np.ndarray, entry_lag: int) -> np.ndarray:
    """The held weights ``entry_lag`` bars later: each slice goes on when its label starts,
    not on the signal bar (cash until the first slice is entered)."""
    if entry_lag == 0:
        return held
    late = np.zeros_like(held)
    late[entry_lag:] = held[:-entry_lag]
    return late


def _return_stats(returns: np.ndarray, per_year: float) -> dict[str, float]:
    """Annualised mean, volatility, Sharpe (no risk-free rate), max drawdown, hit rate."""
    returns = returns[np.isfinite(returns)]
    if returns.size == 0:
        return dict.fromkeys(("ann_return", "vol", "sharpe", "max_drawdown", "hit_rate"), math.nan)
    vol = float(returns.std(ddof=1)) * math.sqrt(per_year) if returns.size > 1 else math.nan
    ann = float(returns.mean()) * per_year
    equity = np.cumprod(np.concatenate([[1.0], 1.0 + returns]))
    traded = returns[returns != 0]
    return {
        "ann_return": ann,
        "vol": vol,
        "sharpe": ann / vol if vol > 0 else math.nan,
        "max_drawdown": float((equity / np.maximum.accumulate(equity) - 1.0).min()),
        "hit_rate": float((traded > 0).mean()) if traded.size else math.nan,
    }


def newey_west_t(series: np.ndarray, lags: int) -> float:
    """t-statistic of the mean with a Newey-West (Bartlett kernel) standard error.

    A label spans ``horizon`` bars, so neighbouring dates share ``horizon - 1`` bars of return
    and their spreads are autocorrelated even without any signal; the ordinary t would then
    overstate significance by about sqrt(horizon). ``lags = horizon - 1`` covers that overlap.
    """
    x = series[np.isfinite(series)]
    n = x.size
    if n < 2:
        return math.nan
    centred = x - x.mean()
    variance = centred @ centred / n
    for lag in range(1, min(lags, n - 1) + 1):
        variance += 2.0 * (1.0 - lag / (lags + 1)) * (centred[lag:] @ centred[:-lag]) / n
    return float(x.mean() / math.sqrt(variance / n)) if variance > 0 else math.nan


def _quantiles(grid: _Grid, settings: PortfolioSettings) -> tuple[np.ndarray, np.ndarray]:
    """(mean label per quantile, per-date top-minus-bottom series for the t-statistic).

    Per date when some dates have at least ``quantiles`` names (dates with fewer are skipped,
    as the IC skips dates with too few names); otherwise pooled over all rows, the only way a
    one- or two-ticker panel has quantiles. The pooled spread is written as a per-date series
    whose mean is the spread, so both cases share one t-statistic.
    """
    q = settings.quantiles
    ranks, names, rankable = grid.ranking
    usable = rankable & (names >= q)
    means = np.full(q, np.nan)
    spread = np.full(len(grid.dates), np.nan)
    present = grid.present
    if usable.any():
        bucket = np.where(present & usable[:, None], ranks * q // np.maximum(names, 1)[:, None], -1)
        per_date = np.full((len(grid.dates), q), np.nan)
        for b in range(q):  # quantiles, not dates: a handful of vectorised passes
            member = bucket == b
            with np.errstate(invalid="ignore"):
                per_date[:, b] = np.where(member, grid.label, 0.0).sum(axis=1) / member.sum(axis=1)
        means = np.nanmean(per_date[usable], axis=0)
        spread = per_date[:, q - 1] - per_date[:, 0]
        return means, spread
    rows = np.flatnonzero(present.ravel())
    forecasts, labels = grid.prediction.ravel()[rows], grid.label.ravel()[rows]
    if rows.size < q or forecasts.min() == forecasts.max():
        return means, spread
    bucket = np.argsort(np.argsort(forecasts, kind="stable"), kind="stable") * q // rows.size
    means = np.array([labels[bucket == b].mean() for b in range(q)])
    top, bottom = bucket == q - 1, bucket == 0
    weight = top / top.sum() - bottom / bottom.sum()
    dated = np.zeros(grid.prediction.size)
    dated[rows] = weight * labels
    per_date = dated.reshape(grid.prediction.shape).sum(axis=1)
    has_rows = present.any(axis=1)
    spread = np.where(has_rows, per_date * has_rows.sum(), np.nan)
    return means, spread


def _monotonicity(means: np.ndarray) -> float:
    """Spearman correlation of quantile number with its mean return (+1: strictly rising)."""
    if not np.isfinite(means).all() or means.min() == means.max():
        return math.nan
    return float(np.corrcoef(np.arange(means.size), rankdata(means))[0, 1])


@dataclass(frozen=True)
class PortfolioResult:
    """One period's portfolio: its metrics and the series a report draws."""

    metrics: dict[str, float]
    dates: pd.DatetimeIndex
    gross: np.ndarray
    net: np.ndarray
    benchmark: np.ndarray
    turnover: np.ndarray
    quantile_means: np.ndarray
    mode: Literal["long_short", "timing"]


def evaluate_portfolio(
    predictions: pd.DataFrame, prices: PriceGrid, settings: PortfolioSettings
) -> PortfolioResult:
    """Quantile returns and the staggered long-short (or timing) portfolio of one period.

    ``predictions`` has one row per (date, ticker) with ``prediction`` and ``y_true``; the
    portfolio earns the prices' one-bar forward returns (see the module docstring).
    """
    return _evaluate_grid(_Grid.of(predictions), prices, settings)


def _evaluate_grid(grid: _Grid, prices: PriceGrid, settings: PortfolioSettings) -> PortfolioResult:
    mode: Literal["long_short", "timing"] = "timing" if len(grid.tickers) == 1 else "long_short"
    held = entered(
        staggered(formation_weights(grid, settings), settings.horizon), settings.entry_lag
    )
    bar_return = prices.forward(grid.dates, grid.tickers, 1) - 1.0
    gross = (held * np.nan_to_num(bar_return)).sum(axis=1)
    changes = np.diff(held, axis=0, prepend=np.zeros((1, held.shape[1])))
    turnover = np.abs(changes).sum(axis=1)
    net = gross - settings.cost_bps * 1e-4 * turnover
    known = grid.present & np.isfinite(bar_return)
    with np.errstate(invalid="ignore"):  # a date with no known next bar: NaN
        benchmark = np.where(known, bar_return, 0.0).sum(axis=1) / known.sum(axis=1)
    per_year = settings.periods_per_year
    gross_stats = _return_stats(gross, per_year)
    net_stats = _return_stats(net, per_year)
    bench_stats = _return_stats(benchmark, per_year)
    means, spread_series = _quantiles(grid, settings)
    metrics = {
        "ls_ann_return": gross_stats["ann_return"],
        "ls_net_ann_return": net_stats["ann_return"],
        "ls_vol": gross_stats["vol"],
        "ls_sharpe": gross_stats["sharpe"],
        "ls_net_sharpe": net_stats["sharpe"],
        "ls_max_drawdown": gross_stats["max_drawdown"],
        "ls_net_max_drawdown": net_stats["max_drawdown"],
        "ls_hit_rate": gross_stats["hit_rate"],
        "ls_turnover": float(turnover.mean()),
        "q_spread": float(means[-1] - means[0]),
        "q_spread_t": newey_west_t(spread_series, settings.horizon - 1),
        "q_monotonicity": _monotonicity(means),
        "benchmark_ann_return": bench_stats["ann_return"],
        "benchmark_sharpe": bench_stats["sharpe"],
        "benchmark_max_drawdown": bench_stats["max_drawdown"],
    }
    return PortfolioResult(metrics, grid.dates, gross, net, benchmark, turnover, means, mode)


def ic_decay(
    predictions: pd.DataFrame, prices: PriceGrid, max_horizon: int, entry_lag: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Mean IC and rank IC of the forecast against the forward log return over 1..max_horizon
    bars from the entry bar (``entry_lag`` bars after the signal), averaged over dates by the
    rules of `regression_metrics` (undefined: NaN)."""
    grid = _Grid.of(predictions)
    with evaluation_threads(max_horizon) as pool:
        tasks = _decay(ForecastGrid(grid.prediction), grid, prices, max_horizon, entry_lag, pool)
        return _decay_curves(tasks)


def evaluation_threads(tasks: int) -> ThreadPoolExecutor:
    """Threads for independent evaluation tasks (a portfolio, an IC-decay horizon, a fold):
    as many as the job has cores (`stockml.threads.job_cores`), at most ``tasks``.

    Each task is a series of whole-grid numpy passes (row-wise sorts above all) that release
    the GIL, so on a large universe two cores halve the evaluation's time; each computes its
    numbers exactly as it would alone. Only the tasks in flight hold their grids, so the pool's
    size also bounds the memory they take."""
    workers = max(1, min(job_cores(), tasks))
    return ThreadPoolExecutor(workers, thread_name_prefix="evaluation")


def _decay(
    forecast: ForecastGrid,
    grid: _Grid,
    prices: PriceGrid,
    max_horizon: int,
    entry_lag: int,
    pool: ThreadPoolExecutor,
) -> list[Future[tuple[float, float]]]:
    """(IC, rank IC) at each horizon, a task of ``pool`` each: on a 5M-row run the decay was
    most of the evaluation."""
    forward = prices.forwards(grid.dates, grid.tickers, entry_lag)
    absent = ~grid.present

    def horizon(bars: int) -> tuple[float, float]:
        realised = forward(bars)
        with np.errstate(divide="ignore", invalid="ignore"):
            np.log(realised, out=realised)  # in place: a task holds as few grids as it can
        realised[absent] = np.nan
        ic, rank_ic = forecast.correlations(realised)
        return (
            mean_daily_correlation(ic, realised, grid.prediction),
            mean_daily_correlation(rank_ic, realised, grid.prediction, rank=True),
        )

    return [pool.submit(horizon, bars) for bars in range(1, max_horizon + 1)]


def _decay_curves(tasks: list[Future[tuple[float, float]]]) -> tuple[np.ndarray, np.ndarray]:
    """The IC and rank-IC curves of `_decay`'s tasks, in horizon order."""
    pairs = [task.result() for task in tasks]
    return (
        np.array([ic for ic, _ in pairs], dtype=float),
        np.array([rank_ic for _, rank_ic in pairs], dtype=float),
    )


def _listed(values: np.ndarray) -> list[float | None]:
    return [float(v) if math.isfinite(v) else None for v in values]


def _iso(dates: pd.DatetimeIndex) -> list[str]:
    return list(dates.strftime(stamp_format(dates)))


def evaluate_period(
    predictions: pd.DataFrame, prices: PriceGrid, settings: PortfolioSettings
) -> tuple[PeriodEvaluation, PortfolioResult]:
    """One period of the evaluation document, and its portfolio (metrics NaN, not null)."""
    with evaluation_threads(settings.max_decay_horizon + 2) as pool:
        return start_period(predictions, prices, settings, pool)()


def start_period(
    predictions: pd.DataFrame,
    prices: PriceGrid,
    settings: PortfolioSettings,
    pool: ThreadPoolExecutor,
) -> Callable[[], tuple[PeriodEvaluation, PortfolioResult]]:
    """`evaluate_period` begun: its portfolio, per-date IC and IC-decay horizons submitted to
    ``pool`` (see `evaluation_threads`); the function returned waits for them and assembles
    the period. Only the caller waits, so the pool may run other tasks and periods meanwhile
    (the run's evaluation lays out its out-of-fold rows while the holdout's tasks run)."""
    grid = _Grid.of(predictions)  # built once: the portfolio, the IC and its decay share it
    portfolio_task = pool.submit(_evaluate_grid, grid, prices, settings)
    # `daily_correlations` on the grid: the same per-date rules without a groupby. The
    # forecast's ranks and centred values are shared with the IC decay.
    forecast_grid = ForecastGrid(grid.prediction)
    ic_task = pool.submit(forecast_grid.correlations, grid.label)
    decay_tasks = _decay(
        forecast_grid, grid, prices, settings.max_decay_horizon, settings.entry_lag, pool
    )
    # drawn while the pool works: a permutation of every row (a tenth of a second at 3M rows)
    rng = np.random.default_rng(0)
    sample = np.sort(rng.permutation(len(predictions))[:FORECAST_SAMPLE_SIZE])
    forecasts: ForecastSample = {
        "prediction": predictions["prediction"].to_numpy(dtype=float)[sample].tolist(),
        "y_true": predictions["y_true"].to_numpy(dtype=float)[sample].tolist(),
    }
    dates = grid.dates  # the grids are freed as soon as the tasks are done with them
    return lambda: _period(dates, settings, forecasts, portfolio_task, ic_task, decay_tasks)


def _period(
    dates: pd.DatetimeIndex,
    settings: PortfolioSettings,
    forecasts: ForecastSample,
    portfolio_task: Future[PortfolioResult],
    ic_task: Future[tuple[np.ndarray, np.ndarray]],
    decay_tasks: list[Future[tuple[float, float]]],
) -> tuple[PeriodEvaluation, PortfolioResult]:
    """The period's document and portfolio, once its tasks are done."""
    portfolio = portfolio_task.result()
    ic, rank_ic = ic_task.result()
    decay_ic, decay_rank_ic = _decay_curves(decay_tasks)
    daily: DailySeries = {
        "date": _iso(portfolio.dates),
        "gross": _listed(portfolio.gross),
        "net": _listed(portfolio.net),
        "benchmark": _listed(portfolio.benchmark),
        "turnover": _listed(portfolio.turnover),
    }
    ic_by_date: DatedIC = {"date": _iso(dates), "ic": _listed(ic), "rank_ic": _listed(rank_ic)}
    quantiles: QuantileReturns = {
        "quantile": list(range(1, settings.quantiles + 1)),
        "mean_return": _listed(portfolio.quantile_means),
    }
    decay: ICDecay = {
        "horizon": list(range(1, settings.max_decay_horizon + 1)),
        "ic": _listed(decay_ic),
        "rank_ic": _listed(decay_rank_ic),
    }
    period: PeriodEvaluation = {
        "metrics": {k: v if math.isfinite(v) else None for k, v in portfolio.metrics.items()},
        "daily": daily,
        "ic_by_date": ic_by_date,
        "quantile_returns": quantiles,
        "ic_decay": decay,
        "forecast_vs_realised": forecasts,
    }
    return period, portfolio
