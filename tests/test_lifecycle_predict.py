"""`stockml-predict` forecasts every row training would have kept: after the feature warm-up."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from stockml.data import load_sample
from stockml.data.schema import DataValidationError
from stockml.features import FeatureBuilder
from stockml.lifecycle.metadata import ModelMetadata, metadata_for
from stockml.lifecycle.predict import predict_panel
from stockml.lifecycle.scoring import ScoringModel
from stockml.target import TargetSpec, forward_log_return, make_dataset

HORIZON = 5


@pytest.fixture(scope="module")
def full_model() -> ScoringModel:
    """A ridge on the `full` preset (200-row warm-up, EMAs that remember their seed for years)."""
    builder = FeatureBuilder(preset="full")
    panel = load_sample(tickers=["IBM", "MSFT"], start="2003-01-01", end="2008-12-31")
    X, y = make_dataset(builder.fit_transform(panel), forward_log_return(panel, HORIZON))
    pipeline = make_pipeline(StandardScaler(), Ridge(alpha=10.0)).fit(X, y)
    metadata = metadata_for(builder, X, TargetSpec(HORIZON))
    return ScoringModel(uri="test", pipeline=pipeline, metadata=metadata)


def test_a_ticker_with_five_years_gets_a_forecast_for_every_row_after_the_warm_up(
    full_model: ScoringModel,
) -> None:
    panel = load_sample(tickers=["AAPL"], start="2008-03-03")  # five years to 2013-03-01
    assert 1250 <= len(panel) <= 1270
    forecasts = predict_panel(full_model, panel)
    warmup = full_model.metadata.warmup_rows
    dates = panel.index.get_level_values("date")
    assert list(forecasts["date"]) == list(dates[warmup:])  # the latest date included
    assert np.isfinite(forecasts["prediction"]).all()


def test_a_ticker_shorter_than_the_warm_up_is_left_out_with_a_warning(
    full_model: ScoringModel,
) -> None:
    warmup = full_model.metadata.warmup_rows
    panel = load_sample(tickers=["AAPL", "MSFT"], start="2012-01-01")
    msft = panel.index[panel.index.get_level_values("ticker") == "MSFT"]
    short = panel.drop(msft[:-warmup])  # MSFT keeps exactly `warmup` rows: one too few
    needs = rf"need {warmup + 1} \(warm-up {warmup} rows\)"
    with pytest.warns(UserWarning, match=rf"ticker MSFT has {warmup} rows; .* {needs}"):
        forecasts = predict_panel(full_model, short)
    assert set(forecasts["ticker"]) == {"AAPL"}
    with pytest.raises(DataValidationError, match=rf"warm-up {warmup} rows\) needs at least"):
        predict_panel(full_model, short.loc[short.index.get_level_values("ticker") == "MSFT"])


def test_models_logged_with_the_old_history_rule_still_load() -> None:
    recorded = {
        "feature_builder": {"preset": "minimal", "families": None},
        "feature_names": ["ret_1"],
        "warmup_rows": 20,
        "horizon": 1,
        "trained_until": "2012-01-03",
        "history_rows": 1805,
    }
    metadata = ModelMetadata.from_model_metadata({"stockml": recorded}, "models:/old/1")
    assert metadata.warmup_rows == 20
