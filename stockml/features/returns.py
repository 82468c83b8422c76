"""Returns and momentum: what the price did over the last few bars and over longer horizons."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from stockml.features import derived, kernels
from stockml.features.panel import PanelArrays
from stockml.features.spec import Family, Feature, Option


def _lagged_return(lag: int) -> Feature:
    """``ret_lag_1`` is the latest close-to-close log return, ``ret_lag_2`` the one before."""

    def compute(arrays: PanelArrays) -> np.ndarray:
        return arrays.lag(derived.log_return(arrays), lag - 1)

    return Feature(f"ret_lag_{lag}", lag, compute)


def _rate_of_change(window: int) -> Feature:
    def compute(arrays: PanelArrays) -> np.ndarray:
        return kernels.ratio(arrays.close, arrays.lag(arrays.close, window)) - 1.0

    return Feature(f"roc_{window}", window, compute)


def _build(options: Mapping[str, Any]) -> list[Feature]:
    return [_lagged_return(lag) for lag in options["lags"]] + [
        _rate_of_change(window) for window in options["windows"]
    ]


FAMILY = Family(
    name="returns",
    options={"lags": Option((1, 2, 3, 5)), "windows": Option((5, 20, 60))},
    build=_build,
)
