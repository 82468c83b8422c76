"""How much history features need before they stop depending on where the input starts."""

from __future__ import annotations

import numpy as np

from stockml.data import synthetic_panel
from stockml.features import FeatureBuilder
from stockml.features.history import settled_history_rows


def test_windowed_features_settle_with_their_warm_up() -> None:
    builder = FeatureBuilder(families={"returns": {"lags": [1, 2], "windows": [10]}})
    assert settled_history_rows(builder) <= builder.warmup_rows


def test_recursive_features_settle_exactly_when_measured_on_other_data() -> None:
    builder = FeatureBuilder(
        families={"trend": {"windows": [30], "slope_windows": [], "macd": False}}
    )
    settled = settled_history_rows(builder)
    assert settled > 3 * builder.warmup_rows  # an EMA remembers its seed long after warm-up
    panel = synthetic_panel(n_tickers=1, n_days=3000, seed=11)  # not the probe's series
    cut = 500
    full = builder.fit_transform(panel)["ema_gap_30"].to_numpy()[cut:]
    late = builder.fit_transform(panel.iloc[cut:])["ema_gap_30"].to_numpy()
    close = np.isclose(late, full, rtol=1e-6, atol=1e-9)
    assert close[settled:].all()
    assert not close[: settled // 2].all()
