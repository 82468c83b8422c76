"""The target through a whole run: the portfolio enters when the label starts, a peek at the
bar the entry lag skips predicts nothing, a config recorded before the target keys gives the
same numbers, and a run records which label it scored against."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf
from stockml_runs import run_stockml
from test_validation_portfolio import (
    CLOSES,
    DATES,
    forecast_frame,
    price_panel,
    settings_for,
)

import stockml.dataset
from stockml.config import compose_config
from stockml.config_checks import check_config
from stockml.dataset import build_modelling_data
from stockml.evaluation import portfolio_settings
from stockml.experiment import run_experiment
from stockml.validation.portfolio import PriceGrid, evaluate_portfolio, ic_decay


def test_a_slice_is_entered_entry_lag_bars_after_its_signal() -> None:
    """The hand-worked portfolio of test_validation_portfolio, one bar later."""
    settings = settings_for(quantiles=3, top_k=None, cost_bps=10.0, horizon=2)
    lagged = type(settings)(**{**vars(settings), "entry_lag": 1})
    prices = PriceGrid(price_panel(CLOSES, DATES))
    result = evaluate_portfolio(forecast_frame(["A", "B", "C"], DATES[:6]), prices, lagged)
    # Held (A, B, C), the unlagged held weights one bar later, cash on D0:
    #   D0 0  D1 (.5,0,-.5)  D2 (0,.5,-.5)  D3 (-1,1,0)  D4 0  D5 (.5,-1,.5)
    # Bar returns: D1 (-.1,.1,0)  D2 (0,-.2,.1)  D3 (.2,0,-.1)  D5 (.1,0,.05)
    np.testing.assert_allclose(result.gross, [0, -0.05, -0.15, -0.20, 0, 0.075], atol=1e-12)
    np.testing.assert_allclose(result.turnover, [0, 1, 1, 2, 2, 2], atol=1e-12)


def test_ic_decay_counts_its_bars_from_the_entry_bar() -> None:
    """A forecast equal to the first bar after entry has IC 1 at one bar, with entry lag 1."""
    prices = PriceGrid(price_panel(CLOSES, DATES))
    close = pd.DataFrame(CLOSES, index=DATES)
    after_entry = np.log(close.shift(-2) / close.shift(-1)).iloc[:4]
    frame = pd.DataFrame(
        [
            {"date": d, "ticker": t, "prediction": after_entry.loc[d, t], "y_true": 0.0}
            for d in after_entry.index
            for t in after_entry.columns
        ]
    )
    lagged, _ = ic_decay(frame, prices, 2, entry_lag=1)
    unlagged, _ = ic_decay(frame, prices, 2)
    assert lagged[0] == pytest.approx(1.0)
    assert unlagged[0] < 0.9


CANARY = [
    "data=synthetic",  # a pure random walk: successive bars' returns are independent
    "data.n_tickers=10",
    "data.n_days=700",
    "features=minimal",
    "cv.n_splits=3",
    "tracking.enabled=false",
    "seed=3",
]
NO_SIGNAL_BOUND = 0.15  # ~120 holdout dates of 10 names: the IC's s.e. is about 0.03


def _with_peek_at_the_next_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    """Add a feature that knows the next bar's log return: a leak of the bar after the signal."""
    real: Callable[..., tuple[pd.DataFrame, pd.Series]] = stockml.dataset.make_design_matrix

    def leaky(panel: pd.DataFrame, *args: Any) -> tuple[pd.DataFrame, pd.Series]:
        X, y = real(panel, *args)
        close = panel["close"].unstack("ticker")
        peek = np.log(close.shift(-1) / close).stack().swaplevel().reindex(X.index)
        return X.assign(peek=peek.to_numpy()), y

    monkeypatch.setattr(stockml.dataset, "make_design_matrix", leaky)


def test_a_peek_at_the_skipped_bar_predicts_nothing_once_the_entry_is_lagged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With entry lag 0 the next bar's return is the label (the peek scores IC ~1); with entry
    lag 1 the label starts after it, and on a random walk it must score nothing. A label that
    ignored the entry lag would score ~1 both times."""
    _with_peek_at_the_next_bar(monkeypatch)
    leaking = run_experiment(compose_config([*CANARY, "target.entry_lag=0"]))
    assert leaking.holdout["ic"] > 0.9
    lagged = run_experiment(compose_config([*CANARY, "target.entry_lag=1"]))
    assert abs(lagged.holdout["ic"]) < NO_SIGNAL_BOUND
    assert abs(lagged.cv.summary()["ic"]["mean"]) < NO_SIGNAL_BOUND


def test_a_config_recorded_before_the_target_keys_gives_identical_numbers() -> None:
    """An old snapshot: `target:` holds only the horizon and the cv group interpolates it."""
    current = compose_config(["debug=fast", "tracking.enabled=false", "target.horizon=2"])
    old = OmegaConf.create(OmegaConf.to_container(current, resolve=False))
    old.target = {"horizon": 2}
    old.cv.horizon = "${target.horizon}"
    check_config(old)
    new_data, old_data = build_modelling_data(current), build_modelling_data(old)
    assert old_data.target == new_data.target
    for part in ("X_dev", "y_dev", "X_holdout", "y_holdout", "last_return_holdout"):
        assert getattr(old_data, part).equals(getattr(new_data, part)), part
    calendar = old_data.panel.index.get_level_values("date")
    assert portfolio_settings(old, calendar) == portfolio_settings(current, calendar)


def test_a_run_records_the_label_it_scored_against(tmp_path: Path) -> None:
    done = run_stockml(
        tmp_path,
        "debug=fast",
        "target.entry_lag=1",
        "target.transform=cs_rank",
        "target.kind=excess_return",
        "tracking.enabled=false",
        "store=none",
    )
    assert done.returncode == 0, done.stderr
    described = (
        "cs_rank(forward simple return in excess of the equal-weight mean, h=1, entry lag 1)"
    )
    assert f"scored against: {described}" in done.stdout + done.stderr
    (metrics_file,) = tmp_path.glob("outputs/runs/*/*/metrics.json")
    metrics = json.loads(metrics_file.read_text())
    assert metrics["target"] == described
    assert metrics["target_spec"] == {
        "horizon": 1,
        "entry_lag": 1,
        "kind": "excess_return",
        "transform": "cs_rank",
    }
    settings = json.loads((metrics_file.parent / "evaluation.json").read_text())["settings"]
    assert settings["entry_lag"] == 1 and settings["target"] == described
    predictions = pd.read_csv(metrics_file.parent / "holdout_predictions.csv")
    # cs_rank labels lie on [-0.5, 0.5] and each date's ranks are centred on 0.
    assert predictions["y_true"].between(-0.5, 0.5).all()
    assert predictions.groupby("date")["y_true"].sum().abs().max() == pytest.approx(0, abs=1e-9)
