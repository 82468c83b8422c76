"""Split and dividend adjustment from a vendor's adjusted close.

Raw prices fall by half on a 2:1 split although no holder lost anything; models trained on
them learn crashes that never happened. Scaling every price by adj_close/close (and volume
by the inverse, so traded value is unchanged) removes those jumps.
"""

from __future__ import annotations

import pandas as pd

from stockml.data.parse import ADJUSTED_CLOSE

_SCALED_PRICES = ("open", "high", "low", "close")


def adjust_prices(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with prices adjusted and the adjusted-close column consumed.

    Without an adjusted close there is nothing to adjust by, and the raw prices are returned:
    plenty of sources (and synthetic data) are already adjusted or have no corporate actions.
    """
    if ADJUSTED_CLOSE not in frame.columns:
        return frame
    ratio = frame[ADJUSTED_CLOSE] / frame["close"]
    adjusted = frame.drop(columns=ADJUSTED_CLOSE)
    for column in _SCALED_PRICES:
        adjusted[column] = frame[column] * ratio
    adjusted["volume"] = frame["volume"] / ratio
    return adjusted
