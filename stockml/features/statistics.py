"""Rolling distribution statistics: where the close sits in its recent range and rank, and the
shape (skew, kurtosis) of recent returns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from stockml.features import derived, kernels
from stockml.features.panel import PanelArrays
from stockml.features.spec import Family, Feature, Option


def _range_position(window: int) -> Feature:
    """0 at the lowest close of the window, 1 at the highest."""

    def compute(arrays: PanelArrays) -> np.ndarray:
        low = kernels.rolling_min(arrays.close, arrays.windows(window))
        high = kernels.rolling_max(arrays.close, arrays.windows(window))
        return kernels.ratio(arrays.close - low, high - low)

    return Feature(f"close_pos_{window}", window - 1, compute)


def _rank(window: int) -> Feature:
    def compute(arrays: PanelArrays) -> np.ndarray:
        return kernels.rolling_rank(arrays.close, arrays.windows(window))

    return Feature(f"close_rank_{window}", window - 1, compute)


def _skew(window: int) -> Feature:
    def compute(arrays: PanelArrays) -> np.ndarray:
        return kernels.rolling_skew(derived.log_return(arrays), arrays.windows(window))

    return Feature(f"ret_skew_{window}", window, compute)


def _kurtosis(window: int) -> Feature:
    def compute(arrays: PanelArrays) -> np.ndarray:
        return kernels.rolling_kurt(derived.log_return(arrays), arrays.windows(window))

    return Feature(f"ret_kurt_{window}", window, compute)


def _build(options: Mapping[str, Any]) -> list[Feature]:
    features: list[Feature] = []
    for window in options["windows"]:
        features += [_range_position(window), _rank(window), _skew(window), _kurtosis(window)]
    return features


FAMILY = Family(name="statistics", options={"windows": Option((20, 60), minimum=4)}, build=_build)
