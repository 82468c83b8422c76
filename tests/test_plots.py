"""The holdout plot draws the evaluation's own per-date rank ICs and every forecast."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.dates import date2num

from stockml.plots import holdout_figure


def test_holdout_figure_draws_the_cumulative_rank_ic_and_every_forecast() -> None:
    dates = pd.date_range("2020-01-01", periods=4, freq="D")
    ic_by_date = {
        "date": [d.strftime("%Y-%m-%d") for d in dates],
        "ic": [0.1, None, 0.3, -0.2],
        "rank_ic": [0.2, None, -0.1, 0.4],  # None: a date with too few tickers to rank
    }
    predictions = pd.DataFrame({"prediction": [0.1, -0.2, 0.3], "y_true": [0.0, 0.1, -0.1]})

    left, right = holdout_figure(predictions, ic_by_date).axes

    (line,) = left.get_lines()[:1]
    kept = dates[[0, 2, 3]]
    np.testing.assert_allclose(date2num(line.get_xdata()), date2num(kept))
    np.testing.assert_allclose(line.get_ydata(), [0.2, 0.1, 0.5])
    (points,) = right.collections
    np.testing.assert_allclose(points.get_offsets(), predictions[["prediction", "y_true"]])
