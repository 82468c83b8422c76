"""Each metric against numbers worked out by hand, per-date IC, NaN-not-crash, and baselines."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV

from stockml.validation import METRIC_NAMES, baseline_metrics, regression_metrics
from stockml.validation.metrics import GREATER_IS_BETTER, make_metric_scorer

Y = [1.0, -2.0, 3.0]
P = [2.0, -1.0, -1.0]


def test_pooled_metrics_match_hand_computed_values() -> None:
    # errors y - p = [-1, -1, 4]: squares 1, 1, 16; absolutes 1, 1, 4
    # mean(y) = 2/3, SS_tot = (1/3)^2 + (8/3)^2 + (7/3)^2 = 114/9, SS_res = 18
    # signs y = [+, -, +], p = [+, -, -]: 2 of 3 agree
    # Pearson: p - mean(p) = [2, -1, -1], y - mean(y) = [1/3, -8/3, 7/3]
    #   cov sum = 2/3 + 8/3 - 7/3 = 1, var sums 6 and 114/9, r = 1 / sqrt(76)
    # Spearman: ranks y = [2, 1, 3], ranks p = [3, 1.5, 1.5]; centred [0, -1, 1] . [1, -.5, -.5] = 0
    scores = regression_metrics(Y, P)
    expected = {
        "mse": 6.0,
        "mae": 2.0,
        "rmse": math.sqrt(6.0),
        "r2": -8 / 19,
        "directional_accuracy": 2 / 3,
        "ic": 1 / math.sqrt(76),
        "rank_ic": 0.0,
    }
    assert set(scores) == {*METRIC_NAMES, "icir", "rank_icir"}
    for name, value in expected.items():
        assert scores[name] == pytest.approx(value, abs=1e-12), name
    assert math.isnan(scores["icir"]) and math.isnan(scores["rank_icir"])


def test_zero_forecasts_and_zero_returns_make_no_call() -> None:
    # Only row 2 has both a forecast and a move: it agrees. Rows 1 and 3 are not misses.
    scores = regression_metrics([0.0, 1.0, -1.0, 0.0, 2.0], [0.0, 0.0, -2.0, 1.0, -1.0])
    assert scores["directional_accuracy"] == 0.5  # rows 2 (hit) and 4 (miss) are the calls
    assert math.isnan(regression_metrics([1.0, -1.0], [0.0, 0.0])["directional_accuracy"])


def test_per_date_ic_differs_from_pooled_ic() -> None:
    # Date A: y = [0, 1, 2], p = [0, 1, 2] -> IC +1. Date B: y = [10, 11, 12], p = [12, 11, 10]
    # -> IC -1. Per date: mean IC 0, ICIR 0 / std([1, -1]) = 0.
    # Pooled: y - 6 = [-6, -5, -4, 4, 5, 6], p - 6 = [-6, -5, -4, 6, 5, 4]
    #   r = 150 / 154; ranks p = [1, 2, 3, 6, 5, 4], sum d^2 = 8 -> rho = 1 - 48 / 210 = 27 / 35
    y = [0.0, 1.0, 2.0, 10.0, 11.0, 12.0]
    p = [0.0, 1.0, 2.0, 12.0, 11.0, 10.0]
    dates = pd.to_datetime(["2024-01-02"] * 3 + ["2024-01-03"] * 3)
    pooled = regression_metrics(y, p)
    per_date = regression_metrics(y, p, dates=dates)
    assert pooled["ic"] == pytest.approx(150 / 154)
    assert pooled["rank_ic"] == pytest.approx(27 / 35)
    assert per_date["ic"] == pytest.approx(0.0) and per_date["rank_ic"] == pytest.approx(0.0)
    assert per_date["icir"] == pytest.approx(0.0) and per_date["rank_icir"] == pytest.approx(0.0)
    assert per_date["mse"] == pooled["mse"]  # only the correlations are per date


def test_two_names_per_date_fall_back_to_the_pooled_correlation() -> None:
    # Across two names a per-date correlation is always +-1; it must not be reported as IC.
    y = [0.0, 1.0, 10.0, 11.0]
    p = [0.0, 1.0, 10.0, 9.0]
    dates = pd.to_datetime(["2024-01-02", "2024-01-02", "2024-01-03", "2024-01-03"])
    per_date = regression_metrics(y, p, dates=dates)
    assert per_date["ic"] == pytest.approx(regression_metrics(y, p)["ic"])
    assert math.isnan(per_date["icir"])


def test_icir_skips_undefined_dates() -> None:
    # Date 1: IC +1. Date 2: one row (skipped). Date 3: constant forecast (skipped).
    # Date 4: y = [1, 2, 3], p = [1, 3, 2] -> IC 0.5. Mean 0.75, std(ddof=1) = sqrt(0.125).
    y = [0.0, 1.0, 2.0, 5.0, 1.0, 2.0, 3.0, 1.0, 2.0, 3.0]
    p = [0.0, 1.0, 2.0, 5.0, 7.0, 7.0, 7.0, 1.0, 3.0, 2.0]
    dates = [1, 1, 1, 2, 3, 3, 3, 4, 4, 4]
    scores = regression_metrics(y, p, dates=dates)
    assert scores["ic"] == pytest.approx(0.75)
    assert scores["icir"] == pytest.approx(0.75 / math.sqrt(0.125))


def test_falls_back_to_pooled_ic_when_no_date_has_a_correlation() -> None:
    y, p, dates = [1.0, 2.0, 4.0], [1.0, 3.0, 2.0], [1, 2, 3]
    scores = regression_metrics(y, p, dates=dates)
    assert scores["ic"] == pytest.approx(regression_metrics(y, p)["ic"])
    assert math.isnan(scores["icir"])


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dates", [None, [1, 1, 2, 2]])
def test_constant_forecast_gives_nan_ic_without_warnings(dates: list[int] | None) -> None:
    scores = regression_metrics([0.01, -0.02, 0.03, 0.0], [0.1] * 4, dates=dates)
    for name in ("ic", "rank_ic", "icir", "rank_icir"):
        assert math.isnan(scores[name]), name
    assert scores["mse"] == pytest.approx(np.mean((np.array([0.01, -0.02, 0.03, 0.0]) - 0.1) ** 2))


@pytest.mark.filterwarnings("error")
def test_constant_target_gives_nan_r2() -> None:
    assert math.isnan(regression_metrics([1.0, 1.0], [0.5, 2.0])["r2"])


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        ([1.0, 2.0], [1.0], "y_true has 2 values but y_pred has 1"),
        ([], [], "at least one row"),
        ([1.0, np.nan], [1.0, 2.0], "must not contain NaN"),
    ],
)
def test_bad_inputs_are_refused(y_true: list[float], y_pred: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        regression_metrics(y_true, y_pred)


def test_every_metric_has_a_direction_and_a_picklable_scorer() -> None:
    assert set(METRIC_NAMES) <= set(GREATER_IS_BETTER)
    assert not GREATER_IS_BETTER["mse"] and GREATER_IS_BETTER["rank_ic"]
    model = Ridge().fit(np.array([[0.0], [1.0], [2.0]]), np.array(Y))
    for name in METRIC_NAMES:
        scorer = pickle.loads(pickle.dumps(make_metric_scorer(name)))
        direct = regression_metrics(Y, model.predict(np.array([[0.0], [1.0], [2.0]])))[name]
        sign = 1 if GREATER_IS_BETTER[name] else -1
        assert scorer(model, np.array([[0.0], [1.0], [2.0]]), Y) == pytest.approx(sign * direct)
    with pytest.raises(ValueError, match="unknown metric 'sharpe'"):
        make_metric_scorer("sharpe")


def test_scorer_drives_grid_search() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = X @ np.array([1.0, -0.5]) + rng.normal(scale=0.1, size=60)
    grid = GridSearchCV(Ridge(), {"alpha": [0.01, 1000.0]}, cv=3, scoring=make_metric_scorer("mae"))
    assert grid.fit(X, y).best_params_ == {"alpha": 0.01}


@pytest.mark.filterwarnings("error")
def test_baselines_score_constant_forecasts() -> None:
    # zero: errors = y -> MSE = (1 + 4 + 9) / 3 = 14/3, and it never makes a directional call.
    # train_mean = 1.0: errors [0, -3, 2] -> MSE = 13/3, MAE = 5/3; signs agree on rows 0 and 2.
    baselines = baseline_metrics(Y, y_train=[0.5, 1.5, 1.0], dates=[1, 1, 2])
    assert set(baselines) == {"zero", "train_mean"}
    assert baselines["zero"]["mse"] == pytest.approx(14 / 3)
    assert math.isnan(baselines["zero"]["directional_accuracy"])
    assert baselines["train_mean"]["mse"] == pytest.approx(13 / 3)
    assert baselines["train_mean"]["mae"] == pytest.approx(5 / 3)
    assert baselines["train_mean"]["directional_accuracy"] == pytest.approx(2 / 3)
    for scores in baselines.values():
        assert math.isnan(scores["ic"]) and math.isnan(scores["rank_ic"])


def test_baselines_need_training_labels() -> None:
    with pytest.raises(ValueError, match="y_train must be non-empty"):
        baseline_metrics(Y, y_train=[])


@pytest.mark.filterwarnings("error")
def test_per_date_ic_matches_scipy_date_by_date_with_ties_and_constant_dates() -> None:
    from scipy.stats import pearsonr, spearmanr

    rng = np.random.default_rng(3)
    dates = np.repeat(np.arange(60), 5)
    rng.shuffle(dates)
    y = rng.normal(size=dates.size)
    p = np.round(rng.normal(size=dates.size), 1)  # ties within dates
    p[dates == 7] = 0.25  # a constant forecast on one date: skipped
    expected_ic, expected_rank = [], []
    for date in range(60):
        if date == 7:
            continue
        on = dates == date
        expected_ic.append(pearsonr(p[on], y[on])[0])
        expected_rank.append(spearmanr(p[on], y[on])[0])
    scores = regression_metrics(y, p, dates=dates)
    assert scores["ic"] == pytest.approx(np.mean(expected_ic), abs=1e-12)
    assert scores["rank_ic"] == pytest.approx(np.mean(expected_rank), abs=1e-12)
    assert scores["icir"] == pytest.approx(
        np.mean(expected_ic) / np.std(expected_ic, ddof=1), abs=1e-10
    )


def unbalanced_panel(seed: int) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """Rows in shuffled order over dates with 1 to 12 names, ties on both sides, a date with
    a constant target and one with a constant forecast."""
    rng = np.random.default_rng(seed)
    stamps = pd.bdate_range("2024-01-01", periods=40)
    dates = np.repeat(stamps, rng.integers(1, 13, size=stamps.size))
    dates = dates[rng.permutation(dates.size)]
    y = np.round(rng.normal(size=dates.size), 1)
    p = np.round(0.5 * y + rng.normal(size=dates.size), 1)
    y[dates == stamps[3]] = 0.5
    p[dates == stamps[4]] = -0.5
    return pd.DatetimeIndex(dates), y, p


def per_date_reference(dates: pd.DatetimeIndex, y: np.ndarray, p: np.ndarray) -> pd.DataFrame:
    """Per date, scipy's Pearson and Spearman over that date's rows, NaN by the stated rules."""
    from scipy.stats import pearsonr, spearmanr

    rows = {}
    for date in sorted(set(dates)):
        on = dates == date
        usable = on.sum() >= 3 and np.ptp(y[on]) > 0 and np.ptp(p[on]) > 0
        rows[date] = (
            (pearsonr(y[on], p[on])[0], spearmanr(y[on], p[on])[0]) if usable else (np.nan,) * 2
        )
    return pd.DataFrame.from_dict(rows, orient="index", columns=["ic", "rank_ic"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_date_ic_matches_scipy_on_an_unbalanced_shuffled_panel(seed: int) -> None:
    from stockml.validation.metrics import daily_correlations

    dates, y, p = unbalanced_panel(seed)
    expected = per_date_reference(dates, y, p)
    assert expected.notna().any().all() and expected.isna().any().all()  # both kinds of date
    for rank, name in ((False, "ic"), (True, "rank_ic")):
        got = daily_correlations(y, p, dates, rank=rank)
        assert list(got.index) == list(expected.index)
        np.testing.assert_allclose(got.to_numpy(), expected[name].to_numpy(), rtol=1e-12)
    scores = regression_metrics(y, p, dates=dates)
    for name in ("ic", "rank_ic"):
        daily = expected[name].dropna()
        assert scores[name] == pytest.approx(daily.mean(), rel=1e-12)
        assert scores[f"{name}ir"] == pytest.approx(daily.mean() / daily.std(ddof=1), rel=1e-10)


def test_a_constant_side_has_no_daily_correlation_on_any_date() -> None:
    from stockml.validation.metrics import daily_correlations

    dates, y, _ = unbalanced_panel(0)
    got = daily_correlations(y, np.zeros_like(y), dates, rank=True)
    assert list(got.index) == sorted(set(dates)) and got.isna().all()


def test_date_grid_lays_each_dates_rows_out_in_input_order() -> None:
    from stockml.validation.cross_section import date_grid

    dates, values = ["b", "a", "b", "c", "b"], np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    uniques, (grid,) = date_grid(dates, values)
    assert list(uniques) == ["a", "b", "c"]
    np.testing.assert_array_equal(
        grid, [[2.0, np.nan, np.nan], [1.0, 3.0, 5.0], [4.0, np.nan, np.nan]]
    )
