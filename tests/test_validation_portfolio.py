"""Portfolio and factor evaluation: a hand-worked panel, an independent pandas version, the
timing mode, and the CV side never reading a holdout price."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from stockml.config import compose_config
from stockml.data.schema import make_panel_index
from stockml.evaluation import evaluate_forecasts, portfolio_settings
from stockml.experiment import run_experiment
from stockml.target import forward_log_return
from stockml.validation import portfolio as portfolio_module
from stockml.validation.metrics import daily_correlations
from stockml.validation.portfolio import (
    PortfolioSettings,
    PriceGrid,
    evaluate_period,
    evaluate_portfolio,
    ic_decay,
    newey_west_t,
    periods_per_year,
)

DATES = pd.bdate_range("2024-01-01", periods=7)
# Closes chosen so that each bar's simple return close[t+1]/close[t] - 1 is round:
#   bar return on    D0     D1     D2     D3     D4     D5
#   A               +0.10  -0.10   0     +0.20  -0.05  +0.10
#   B                0     +0.10  -0.20   0     +0.10   0
#   C               -0.10   0     +0.10  -0.10   0     +0.05
CLOSES = {
    "A": [100, 110, 99, 99, 118.8, 112.86, 124.146],
    "B": [100, 100, 110, 88, 88, 96.8, 96.8],
    "C": [100, 90, 90, 99, 89.1, 89.1, 93.555],
}
# Forecasts on D0..D5 (highest = long, lowest = short) and the realised labels y_true.
FORECASTS = {
    "A": [3, 1, 1, 3, 2, 3],
    "B": [2, 3, 3, 1, 1, 2],
    "C": [1, 2, 2, 2, 3, 1],
}
LABELS = {
    "A": [0.03, 0.01, -0.03, 0.04, 0.01, 0.02],
    "B": [0.01, 0.02, -0.01, 0.00, 0.02, 0.00],
    "C": [-0.02, 0.00, 0.02, -0.01, 0.01, -0.01],
}


def settings_for(
    quantiles: int = 3, top_k: int | None = None, cost_bps: float = 10.0, horizon: int = 2
) -> PortfolioSettings:
    return PortfolioSettings(quantiles, top_k, cost_bps, horizon, 4, periods_per_year=252.0)


def price_panel(closes: dict[str, list[float]], dates: pd.DatetimeIndex) -> pd.DataFrame:
    close = np.concatenate([np.asarray(closes[t], dtype=float) for t in closes])
    frame = pd.DataFrame(
        {c: close for c in ("open", "high", "low", "close")},
        index=make_panel_index(list(closes), dates),
    )
    return frame.assign(volume=1.0)


def forecast_frame(tickers: list[str], dates: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"date": d, "ticker": t, "prediction": FORECASTS[t][i], "y_true": LABELS[t][i]}
            for i, d in enumerate(dates)
            for t in tickers
        ]
    )


def test_hand_worked_three_tickers_six_dates() -> None:
    settings = settings_for(quantiles=3, top_k=None, cost_bps=10.0, horizon=2)
    prices = PriceGrid(price_panel(CLOSES, DATES))
    result = evaluate_portfolio(forecast_frame(["A", "B", "C"], DATES[:6]), prices, settings)
    # Slices formed (A, B, C): top quantile of 3 names = 1 name long at +1, 1 short at -1.
    #   D0 (+1, 0,-1)  D1 (-1,+1, 0)  D2 (-1,+1, 0)  D3 (+1,-1, 0)  D4 ( 0,-1,+1)  D5 (+1, 0,-1)
    # Held = mean of the last 2 slices (D0: the D-1 slice is cash):
    #   D0 (.5, 0,-.5) D1 (0,.5,-.5) D2 (-1,1,0) D3 (0,0,0) D4 (.5,-1,.5) D5 (.5,-.5,0)
    # Gross = held . bar return:
    #   D0 .05+.05=.10  D1 .05  D2 -.20  D3 0  D4 -.025-.10=-.125  D5 .05
    np.testing.assert_allclose(result.gross, [0.10, 0.05, -0.20, 0.0, -0.125, 0.05], atol=1e-12)
    # Turnover = sum |held(d) - held(d-1)|, from cash:
    #   D0 .5+.5=1  D1 .5+.5=1  D2 1+.5+.5=2  D3 1+1=2  D4 .5+1+.5=2  D5 .5+.5=1
    np.testing.assert_allclose(result.turnover, [1, 1, 2, 2, 2, 1], atol=1e-12)
    # Net = gross - 10 bps x turnover.
    np.testing.assert_allclose(
        result.net, [0.099, 0.049, -0.202, -0.002, -0.127, 0.049], atol=1e-12
    )
    # Benchmark = mean bar return of the three: 0, 0, -.1/3, .1/3, .05/3, .15/3.
    np.testing.assert_allclose(
        result.benchmark, np.array([0, 0, -0.1, 0.1, 0.05, 0.15]) / 3, atol=1e-12
    )
    metrics = result.metrics
    assert metrics["ls_turnover"] == pytest.approx(9 / 6)
    # Mean gross -0.125/6 per bar, x252 a year.
    assert metrics["ls_ann_return"] == pytest.approx(-0.125 / 6 * 252)
    assert metrics["ls_net_ann_return"] == pytest.approx((-0.125 - 0.009) / 6 * 252)
    # Hit rate: 3 winning bars (D0, D1, D5) of the 5 with a non-zero return.
    assert metrics["ls_hit_rate"] == pytest.approx(0.6)
    # Equity 1, 1.1, 1.155, .924, .924, .8085, ...: peak 1.155 to trough .8085 = -30%.
    assert metrics["ls_max_drawdown"] == pytest.approx(-0.30)
    # Quantiles (1 name each on every date): labels of the lowest / middle / highest forecast
    #   Q1: -.02 .01 -.03 .00 .02 -.01 -> -.005   Q2: .01 .00 .02 -.01 .01 .00 -> .005
    #   Q3:  .03 .02 -.01 .04 .01  .02 -> .11/6
    np.testing.assert_allclose(result.quantile_means, [-0.005, 0.005, 0.11 / 6])
    assert metrics["q_spread"] == pytest.approx(0.14 / 6)
    assert metrics["q_monotonicity"] == pytest.approx(1.0)
    # Spread per date (in %): 5 1 2 4 -1 3, mean 7/3, deviations 8/3 -4/3 -1/3 5/3 -10/3 2/3.
    # Newey-West with 1 lag: g0 = 210/9/6, g1 = -103/9/6, variance g0 + g1 = 107/54; the
    # mean's standard error sqrt(107/54/6) and t = (7/3) / sqrt(107/324) = 42 / sqrt(107).
    assert metrics["q_spread_t"] == pytest.approx(42 / math.sqrt(107))
    # top_k=1 is the same portfolio as the top quantile of three names.
    top_one = evaluate_portfolio(
        forecast_frame(["A", "B", "C"], DATES[:6]), prices, replace(settings, top_k=1)
    )
    np.testing.assert_allclose(top_one.gross, result.gross)


def test_one_ticker_trades_the_forecasts_sign_against_buy_and_hold() -> None:
    settings = settings_for(quantiles=3, cost_bps=10.0, horizon=2)
    frame = forecast_frame(["A"], DATES[:6]).assign(prediction=[0.3, -0.1, -0.2, 0.1, 0.0, 0.2])
    result = evaluate_portfolio(frame, PriceGrid(price_panel({"A": CLOSES["A"]}, DATES)), settings)
    assert result.mode == "timing"
    # Slices sign(forecast): +1 -1 -1 +1 0 +1; held (2 slices): .5 0 -1 0 .5 .5
    # Gross: .5x.10, 0, -1x0, 0, .5x-.05, .5x.10; turnover .5 .5 1 1 .5 0.
    np.testing.assert_allclose(result.gross, [0.05, 0, 0, 0, -0.025, 0.05], atol=1e-12)
    np.testing.assert_allclose(result.turnover, [0.5, 0.5, 1, 1, 0.5, 0], atol=1e-12)
    np.testing.assert_allclose(result.net, result.gross - 1e-3 * result.turnover)
    np.testing.assert_allclose(
        result.benchmark, [0.1, -0.1, 0, 0.2, -0.05, 0.1], atol=1e-12
    )  # buy & hold
    # One name per date: quantiles pooled over time. Ascending forecast: D2 D1 | D4 D3 | D5 D0
    # Q1 (-.03 + .01)/2 = -.01   Q2 (.01 + .04)/2 = .025   Q3 (.02 + .03)/2 = .025
    np.testing.assert_allclose(result.quantile_means, [-0.01, 0.025, 0.025])
    assert result.metrics["q_spread"] == pytest.approx(0.035)
    # Ranks of the means 1, 2.5, 2.5 against 1, 2, 3: 1.5 / sqrt(2 x 1.5).
    assert result.metrics["q_monotonicity"] == pytest.approx(1.5 / math.sqrt(3))


# ---------------------------------------------------------------------------------------------
# An independent, loop-based version of the same conventions, on a random panel with gaps.


def reference(
    predictions: pd.DataFrame, panel: pd.DataFrame, settings: PortfolioSettings
) -> dict[str, object]:
    close = panel["close"].unstack("ticker")
    bar_return = close.shift(-1) / close - 1.0  # union calendar: a gap leaves NaN
    dates = sorted(predictions["date"].unique())
    tickers = sorted(predictions["ticker"].unique())
    slices: list[dict[str, float]] = []
    for date in dates:
        today = predictions[predictions["date"] == date].sort_values(
            ["prediction", "ticker"], ascending=[False, True]
        )
        n = len(today)
        k = settings.top_k if settings.top_k is not None else max(1, n // settings.quantiles)
        k = min(k, n // 2)
        weights = dict.fromkeys(tickers, 0.0)
        for ticker in today["ticker"].iloc[:k]:
            weights[ticker] += 1.0 / k
        for ticker in today["ticker"].iloc[n - k :] if k else []:
            weights[ticker] -= 1.0 / k
        slices.append(weights)
    gross, turnover, benchmark = [], [], []
    previous = dict.fromkeys(tickers, 0.0)
    for i, date in enumerate(dates):
        held = {
            t: sum(s[t] for s in slices[max(0, i - settings.horizon + 1) : i + 1])
            / settings.horizon
            for t in tickers
        }
        returns = {
            t: (0.0 if pd.isna(bar_return.at[date, t]) else bar_return.at[date, t]) for t in tickers
        }
        gross.append(sum(held[t] * returns[t] for t in tickers))
        turnover.append(sum(abs(held[t] - previous[t]) for t in tickers))
        present = predictions.loc[predictions["date"] == date, "ticker"]
        benchmark.append(bar_return.loc[date, list(present)].mean())
        previous = held
    q = settings.quantiles
    per_date = []
    for _, today in predictions.groupby("date"):
        if len(today) < q:
            continue
        ordered = today.sort_values(["prediction", "ticker"]).reset_index(drop=True)
        ordered["bucket"] = [position * q // len(ordered) for position in range(len(ordered))]
        per_date.append(ordered.groupby("bucket")["y_true"].mean())
    table = pd.DataFrame(per_date)
    spread = (table[q - 1] - table[0]).to_numpy()
    lags = settings.horizon - 1
    deviation = spread - spread.mean()
    variance = sum(
        (1.0 if lag == 0 else 2.0 * (1 - lag / (lags + 1)))
        * sum(deviation[t] * deviation[t - lag] for t in range(lag, len(spread)))
        / len(spread)
        for lag in range(lags + 1)
    )
    net = np.array(gross) - settings.cost_bps * 1e-4 * np.array(turnover)
    return {
        "gross": np.array(gross),
        "turnover": np.array(turnover),
        "net": net,
        "benchmark": np.array(benchmark),
        "quantile_means": table.mean().to_numpy(),
        "q_spread_t": spread.mean() / math.sqrt(variance / len(spread)),
        "ls_net_sharpe": net.mean() / net.std(ddof=1) * math.sqrt(settings.periods_per_year),
    }


@pytest.fixture(scope="module")
def random_case() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    dates = pd.bdate_range("2021-01-01", periods=60)
    tickers = [f"T{i}" for i in range(12)]
    closes = {t: 100 * np.exp(np.cumsum(rng.normal(0, 0.02, len(dates)))) for t in tickers}
    panel = price_panel(closes, dates)
    panel = panel.drop(index=[("T3", dates[20]), ("T7", dates[41]), ("T7", dates[42])])
    rows = panel.index.to_frame(index=False)
    rows = rows[rows["date"] < dates[-3]]  # forecasts on all but the last dates
    rows = rows.drop(index=rows.sample(frac=0.1, random_state=1).index)  # ragged universe
    predictions = rows.assign(
        prediction=rng.normal(size=len(rows)), y_true=rng.normal(0, 0.02, len(rows))
    )
    return predictions.reset_index(drop=True), panel


@pytest.mark.parametrize("horizon", [1, 3])
@pytest.mark.parametrize("top_k", [None, 2])
def test_matches_an_independent_pandas_implementation(random_case, horizon, top_k) -> None:
    predictions, panel = random_case
    settings = settings_for(quantiles=4, top_k=top_k, cost_bps=25.0, horizon=horizon)
    result = evaluate_portfolio(predictions, PriceGrid(panel), settings)
    expected = reference(predictions, panel, settings)
    for name in ("gross", "turnover", "net", "benchmark", "quantile_means"):
        np.testing.assert_allclose(getattr(result, name), expected[name], atol=1e-12, err_msg=name)
    assert result.metrics["q_spread_t"] == pytest.approx(expected["q_spread_t"])
    assert result.metrics["ls_net_sharpe"] == pytest.approx(expected["ls_net_sharpe"])
    assert result.turnover.mean() > 0.1  # costs and turnover are really exercised


def test_ic_decay_uses_the_labels_calendar_convention(random_case) -> None:
    predictions, panel = random_case
    ic, rank_ic = ic_decay(predictions, PriceGrid(panel), 4)
    from stockml.validation import regression_metrics

    for bars in (1, 4):
        realised = forward_log_return(panel, bars).reindex(
            pd.MultiIndex.from_frame(predictions[["ticker", "date"]])
        )
        known = realised.notna().to_numpy()
        expected = regression_metrics(
            realised.to_numpy()[known],
            predictions["prediction"].to_numpy()[known],
            dates=predictions["date"].to_numpy()[known],
        )
        assert ic[bars - 1] == pytest.approx(expected["ic"])
        assert rank_ic[bars - 1] == pytest.approx(expected["rank_ic"])


def test_a_constant_forecast_trades_nothing() -> None:
    frame = forecast_frame(["A", "B", "C"], DATES[:6]).assign(prediction=0.0)
    result = evaluate_portfolio(frame, PriceGrid(price_panel(CLOSES, DATES)), settings_for())
    assert not result.gross.any() and not result.turnover.any()
    assert math.isnan(result.metrics["ls_sharpe"]) and math.isnan(result.metrics["q_spread"])


def test_newey_west_without_lags_is_the_plain_t_statistic() -> None:
    x = np.array([0.3, -0.1, 0.4, 0.2, 0.0])
    assert newey_west_t(x, 0) == pytest.approx(x.mean() / (x.std(ddof=0) / math.sqrt(x.size)))


@pytest.mark.parametrize(
    ("calendar", "expected"),
    [
        (pd.bdate_range("2020-01-01", periods=300), 252.0),
        (pd.date_range("2020-01-03", periods=100, freq="W-FRI"), 365.25 / 7),
        (
            pd.DatetimeIndex(
                [
                    d + pd.Timedelta(hours=h)
                    for d in pd.bdate_range("2020-01-01", periods=5)
                    for h in range(10, 17)
                ]
            ),
            252.0 * 7,
        ),
    ],
)
def test_periods_per_year_follows_the_bar_frequency(calendar, expected) -> None:
    assert periods_per_year(calendar) == pytest.approx(expected)


# ---------------------------------------------------------------------------------------------
# Honesty: the out-of-fold side never reads a holdout price.


def test_cv_evaluation_is_blind_to_holdout_prices() -> None:
    cfg = compose_config(
        [
            "data=synthetic",
            "data.n_tickers=6",
            "data.n_days=500",
            "features=minimal",
            "cv.n_splits=2",
            "target.horizon=3",
            "tracking.enabled=false",
        ]
    )
    result = run_experiment(cfg)
    data = result.data
    holdout_start = data.X_holdout.index.get_level_values("date").min()
    in_holdout = data.panel.index.get_level_values("date") >= holdout_start
    shaken = data.panel.copy()
    factors = np.random.default_rng(0).uniform(0.5, 1.5, in_holdout.sum())
    shaken.loc[in_holdout, "close"] *= factors
    settings = portfolio_settings(cfg, data.panel.index.get_level_values("date"))
    cleared = replace(result.cv, folds=[replace(f, metrics={}) for f in result.cv.folds])
    importance = result.evaluation["feature_importance"]
    _, _, original = evaluate_forecasts(data, cleared, result.predictions, settings, importance)
    _, _, perturbed = evaluate_forecasts(
        replace(data, panel=shaken), cleared, result.predictions, settings, importance
    )
    assert perturbed["cv"] == original["cv"]
    assert perturbed["folds"] == original["folds"]
    assert perturbed["holdout"]["ic_decay"] != original["holdout"]["ic_decay"]  # it does read them
    decay = original["cv"]["ic_decay"]["ic"]
    assert all(value is not None for value in decay)


def test_the_period_document_matches_the_per_date_ic_and_the_portfolio(random_case) -> None:
    predictions, panel = random_case
    settings = settings_for(quantiles=4, horizon=3)
    period, portfolio = evaluate_period(predictions, PriceGrid(panel), settings)
    for name, rank in (("ic", False), ("rank_ic", True)):
        expected = daily_correlations(
            predictions["y_true"], predictions["prediction"], predictions["date"], rank
        )
        recorded = np.array(period["ic_by_date"][name], dtype=float)
        assert np.isfinite(recorded).sum() > 40
        np.testing.assert_allclose(recorded, expected.to_numpy(), rtol=1e-9, atol=1e-12)
    assert period["ic_by_date"]["date"] == period["daily"]["date"]
    assert pd.DatetimeIndex(period["daily"]["date"]).equals(portfolio.dates)
    assert period["daily"]["net"] == pytest.approx(list(portfolio.net))
    assert period["quantile_returns"]["quantile"] == [1, 2, 3, 4]
    assert period["ic_decay"]["horizon"] == [1, 2, 3, 4]
    assert len(period["forecast_vs_realised"]["prediction"]) == len(predictions)


def test_a_period_is_the_same_in_one_thread_or_several(random_case, monkeypatch) -> None:
    """The portfolio, the per-date IC and each IC-decay horizon are tasks of a pool as large
    as the job's thread budget: with one thread or four, every number of the period is the
    same, the decay's in horizon order."""
    predictions, panel = random_case
    settings = replace(settings_for(quantiles=4, horizon=3), max_decay_horizon=7)
    periods = []
    for threads in (1, 4):
        monkeypatch.setattr(portfolio_module, "job_cores", lambda threads=threads: threads)
        periods.append(evaluate_period(predictions, PriceGrid(panel), settings)[0])
    assert periods[0] == periods[1]
    serial = [ic_decay(predictions, PriceGrid(panel), bars)[0][-1] for bars in range(1, 8)]
    assert periods[1]["ic_decay"]["ic"] == serial


@pytest.mark.parametrize("cut", [None, 30, 0])
def test_price_grid_forward_returns_equal_pandas_unstack(random_case, cut) -> None:
    """The grid is placed by the panel index's codes; its forward returns must equal those of
    pandas' unstack, with the calendar cut before a date (by the constructor or `truncated`)
    and with the panel's rows in shuffled order."""
    _, panel = random_case
    close = panel["close"].unstack("ticker")
    before = None if cut is None else close.index[cut]
    if before is not None:
        close = close.loc[close.index < before]
    shuffled = panel.sample(frac=1.0, random_state=2)
    grids = [PriceGrid(shuffled, before=before)]
    if before is not None:
        grids.append(PriceGrid(panel).truncated(before))
    dates = pd.DatetimeIndex([*close.index[::7], pd.Timestamp("1999-01-01")])
    tickers = pd.Index([*close.columns[::-2], "NOPE"])
    for bars, lag in ((1, 0), (3, 2)):
        later = close.shift(-(bars + lag)).reindex(index=dates, columns=tickers).to_numpy()
        start = close.shift(-lag).reindex(index=dates, columns=tickers).to_numpy()
        expected = later / start
        assert cut == 0 or np.isfinite(expected).any()  # an empty calendar: all unknown
        for grid in grids:
            assert grid.calendar.equals(pd.DatetimeIndex(close.index))
            np.testing.assert_array_equal(grid.forward(dates, tickers, bars, lag), expected)
    for grid in grids:  # the IC decay's any-horizon form gives the same returns
        forward = grid.forwards(dates, tickers, 2)
        for bars in (1, 2, 5):
            np.testing.assert_array_equal(forward(bars), grid.forward(dates, tickers, bars, 2))


def test_forecast_ranking_breaks_ties_by_ticker_order() -> None:
    """Dates with tied forecasts are ranked by a stable sort (ties by ticker order), the others
    by a faster one; both must give the stable ordinal ranks."""
    from stockml.validation.portfolio import _Grid

    rng = np.random.default_rng(4)
    dates, tickers = pd.bdate_range("2024-01-01", periods=30), [f"T{i:02d}" for i in range(15)]
    rows = pd.MultiIndex.from_product([dates, tickers], names=["date", "ticker"]).to_frame(
        index=False
    )
    rows = rows.drop(index=rows.sample(frac=0.2, random_state=3).index).reset_index(drop=True)
    forecast = rng.normal(size=len(rows))
    tied = rows["date"].isin(dates[::3])
    forecast[tied] = np.round(forecast[tied], 0)  # ties on every third date only
    grid = _Grid.of(rows.assign(prediction=forecast, y_true=0.0))
    ranks, names, _ = grid.ranking
    filled = np.where(grid.present, grid.prediction, np.inf)
    expected = np.argsort(np.argsort(filled, axis=1, kind="stable"), axis=1, kind="stable")
    np.testing.assert_array_equal(ranks, np.where(grid.present, expected, -1))
    np.testing.assert_array_equal(names, grid.present.sum(axis=1))
    assert (pd.Series(forecast[tied]).duplicated()).any()
