"""How much history a ticker needs before its features stop depending on where it started.

`warmup_rows` says when a feature stops being NaN; recursive features (EMAs, Wilder's RSI and
ATR, MACD) keep a memory of their seed far longer, so the same date gets a different value
from a history that starts later. Forecasting from a short history would then feed a model
values it never saw in training. The answer depends only on the feature recipe, so it is
measured once on a synthetic series: features from the full series against features from the
same series with its start cut off.
"""

from __future__ import annotations

import numpy as np

from stockml.data.synthetic import synthetic_panel
from stockml.features.builder import FeatureBuilder

# Agreement asked of every feature: far below any difference a model would act on.
RELATIVE_TOLERANCE = 1e-6
ABSOLUTE_TOLERANCE = 1e-9
PROBE_ROWS = 6000  # cut start + the longest memory measured; longer memories are capped here


def settled_history_rows(builder: FeatureBuilder) -> int:
    """Rows of history after which every feature matches its full-history value."""
    cut = 2 * builder.warmup_rows + 10
    panel = synthetic_panel(n_tickers=1, n_days=cut + PROBE_ROWS, seed=0)
    full = builder.fit_transform(panel).to_numpy()[cut:]
    late = builder.fit_transform(panel.iloc[cut:]).to_numpy()
    agree = np.isclose(late, full, rtol=RELATIVE_TOLERANCE, atol=ABSOLUTE_TOLERANCE)
    agree |= np.isnan(late) & np.isnan(full)
    disagreeing_rows = np.flatnonzero(~agree.all(axis=1))
    return int(disagreeing_rows[-1]) + 1 if disagreeing_rows.size else 0
