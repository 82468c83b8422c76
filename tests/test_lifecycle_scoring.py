"""Comparing models fairly: same horizon, and only rows no model trained on."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest

from stockml.data import synthetic_panel
from stockml.lifecycle.errors import LifecycleError
from stockml.lifecycle.scoring import first_unseen_date, score_models
from stockml.target import TargetSpec


@dataclass
class Meta:
    horizon: int
    trained_until: str

    def target(self) -> TargetSpec:
        return TargetSpec(self.horizon)


class FakeModel:
    """Forecasts the last return; only its metadata matters to the row selection."""

    def __init__(self, horizon: int, trained_until: str) -> None:
        self.metadata = Meta(horizon, trained_until)

    def features(self, panel: pd.DataFrame) -> pd.DataFrame:
        return panel[["close"]].pct_change().dropna()

    def predict(self, X: pd.DataFrame) -> pd.Series:
        return X["close"]


PANEL = synthetic_panel(n_tickers=4, n_days=300, seed=5)
DATES = PANEL.index.get_level_values("date").unique()


def test_first_unseen_date_skips_the_training_labels_reach() -> None:
    assert first_unseen_date(PANEL, f"{DATES[100]:%Y-%m-%d}", label_span=5) == DATES[105]
    assert first_unseen_date(PANEL, f"{DATES[-1]:%Y-%m-%d}", label_span=1) is None


def test_only_rows_after_every_models_training_labels_are_scored() -> None:
    models = {
        "old": FakeModel(5, f"{DATES[100]:%Y-%m-%d}"),
        "new": FakeModel(5, f"{DATES[200]:%Y-%m-%d}"),
    }
    comparison = score_models(models, PANEL, TargetSpec(5))
    scored = comparison.rows.get_level_values("date")
    assert scored.min() == DATES[205]
    everything = score_models(models, PANEL, TargetSpec(5), allow_in_sample=True)
    assert everything.rows.get_level_values("date").min() < DATES[100]


def test_a_comparison_with_no_unseen_row_is_refused() -> None:
    models = {"late": FakeModel(1, f"{DATES[-2]:%Y-%m-%d}")}
    with pytest.raises(LifecycleError, match="did not train on"):
        score_models(models, PANEL, TargetSpec(1))


def test_models_of_another_horizon_are_refused() -> None:
    models = {"daily": FakeModel(1, f"{DATES[50]:%Y-%m-%d}")}
    with pytest.raises(LifecycleError, match=r"forecasts forward log return, h=1, entry lag 0 but"):
        score_models(models, PANEL, TargetSpec(5))
