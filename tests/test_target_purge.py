"""Every gap between training and test covers the label's whole reach, entry lag + horizon.

A row dated t is decided at t's close and its label is realised at t + entry_lag + horizon.
Training labels must be realised strictly before the first test date: otherwise the model
scoring a test date would have been fitted on prices after it. Purging only ``horizon``
dates would leave ``entry_lag`` training labels ending inside the test period. Each check
here recomputes the windows from the calendar itself, not from the code under test, and
fails if any purge counted the horizon alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hydra.utils import instantiate

from stockml.config import compose_config
from stockml.data import synthetic_panel
from stockml.data.schema import panel_dates
from stockml.dataset import build_modelling_data
from stockml.lifecycle.errors import LifecycleError
from stockml.lifecycle.rolling import rolling_retrain
from stockml.lifecycle.scoring import first_unseen_date, score_models
from stockml.target import TargetSpec, make_dataset

ENTRY_LAG, HORIZON = 2, 3
SPAN = ENTRY_LAG + HORIZON
LAGGED = [f"target.entry_lag={ENTRY_LAG}", f"target.horizon={HORIZON}"]


def gapped_dataset(spec: TargetSpec) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """(panel, X, y): four tickers, one with missing bars, every calendar date in X."""
    panel = synthetic_panel(n_tickers=4, n_days=260, seed=11)
    ticker = panel.index.get_level_values("ticker") == panel.index.levels[0][0]
    drop = np.flatnonzero(ticker)[np.random.default_rng(0).choice(ticker.sum(), 30, False)]
    panel = panel.drop(panel.index[drop])
    features = panel[["close"]].groupby(level="ticker").pct_change()
    X, y = make_dataset(features, spec.labels(panel))
    return panel, X, y


@pytest.mark.parametrize("cv", ["walk_forward", "expanding", "purged_kfold"])
def test_no_training_rows_label_window_overlaps_a_test_rows(cv: str) -> None:
    embargo = ["cv.embargo=0"] if cv == "purged_kfold" else []  # the purge alone, both sides
    cfg = compose_config([f"cv={cv}", *LAGGED, *embargo])
    assert cfg.cv.horizon == SPAN  # the splitter's least purge follows target:
    spec = TargetSpec.from_config(cfg.target)
    panel, X, y = gapped_dataset(spec)
    calendar = panel_dates(panel).unique().sort_values()
    position = calendar.get_indexer(panel_dates(X))
    present = np.unique(position)  # the splitters count X's dates: they must be the calendar's
    np.testing.assert_array_equal(present, np.arange(present[0], present[-1] + 1))
    for train, test in instantiate(cfg.cv).split(X, y):
        t, s = np.unique(position[train]), np.unique(position[test])
        # Window of a row: from its own date (its decision) to its label's last bar.
        distance = np.abs(t[:, None] - s[None, :]).min()
        assert distance > SPAN, f"a training window reaches a test window ({distance} dates)"
        before, after = t[t < s.min()], t[t > s.max()]
        # Exactly the reach is purged, not more: the purge is the label's, not a guess.
        if before.size:
            assert s.min() - before.max() == SPAN + 1
        if after.size:
            assert after.min() - s.max() == SPAN + 1


def test_the_holdout_purges_the_labels_reach() -> None:
    data = build_modelling_data(
        compose_config(["debug=fast", "tracking.enabled=false", *LAGGED])
    )
    assert data.target == TargetSpec(horizon=HORIZON, entry_lag=ENTRY_LAG)
    calendar = panel_dates(data.panel).unique().sort_values()
    last_dev = calendar.get_loc(panel_dates(data.X_dev).max())
    first_holdout = calendar.get_loc(panel_dates(data.X_holdout).min())
    assert first_holdout - last_dev == SPAN + 1
    # The development labels really are the lagged ones: log(close[t+5] / close[t+2]).
    close = data.panel["close"].unstack("ticker")
    expected = np.log(close.shift(-SPAN) / close.shift(-ENTRY_LAG)).stack().swaplevel()
    np.testing.assert_allclose(data.y_dev.to_numpy(), expected.reindex(data.y_dev.index))


def test_rolling_windows_train_only_on_labels_realised_before_them() -> None:
    cfg = compose_config(
        [
            "debug=fast",
            "data.tickers=[AAPL,MSFT]",
            "data.start=2010-01-01",
            "tracking.enabled=false",
            "holdout.fraction=0.1",
            *LAGGED,
        ]
    )
    result = rolling_retrain(cfg, step=20, window=200)
    assert result.target.label_span == SPAN
    panel = instantiate(cfg.data, _convert_="all")
    for window in result.windows.itertuples():
        for ticker, bars in panel.groupby(level="ticker"):
            dates = bars.index.get_level_values("date")
            end = dates.get_loc(window.train_end) + SPAN
            assert dates[end] < window.test_start, (window.window, ticker)
        # The last training row is the last one allowed: its label ends just before.
        calendar = panel_dates(panel).unique().sort_values()
        assert window.train_end == calendar[calendar.get_loc(window.test_start) - SPAN - 1]


class _Model:
    """A logged model's metadata, as far as the comparison reads it."""

    def __init__(self, target: TargetSpec, trained_until: str) -> None:
        self.metadata = self
        self.trained_until = trained_until
        self._target = target

    def target(self) -> TargetSpec:
        return self._target


def test_a_comparison_scores_only_dates_past_the_training_labels_reach() -> None:
    panel = synthetic_panel(n_tickers=3, n_days=120, seed=2)
    dates = panel_dates(panel).unique().sort_values()
    assert first_unseen_date(panel, f"{dates[50]:%Y-%m-%d}", SPAN) == dates[50 + SPAN]
    lagged = TargetSpec(horizon=HORIZON, entry_lag=ENTRY_LAG)
    other = _Model(TargetSpec(horizon=HORIZON), f"{dates[50]:%Y-%m-%d}")
    with pytest.raises(LifecycleError, match=r"entry lag 0 but the comparison scores .*lag 2"):
        score_models({"old": other}, panel, lagged)  # type: ignore[dict-item]
