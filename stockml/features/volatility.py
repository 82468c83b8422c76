"""Volatility: close-to-close, range-based (Parkinson, Garman-Klass) and ATR relative to close.

Range estimators use the intraday high and low, so they see volatility that close-to-close
returns miss and are far less noisy for the same window.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from stockml.features import derived, kernels
from stockml.features.panel import PanelArrays
from stockml.features.spec import Family, Feature, Option

_PARKINSON_SCALE = 1.0 / (4.0 * math.log(2.0))
_GARMAN_KLASS_CLOSE = 2.0 * math.log(2.0) - 1.0


def _sqrt(values: np.ndarray) -> np.ndarray:
    """Square root with NaN for the (numerically) negative variances of inconsistent bars."""
    with np.errstate(invalid="ignore"):
        return np.sqrt(values)


def _close_to_close(window: int) -> Feature:
    def compute(arrays: PanelArrays) -> np.ndarray:
        return kernels.rolling_std(derived.log_return(arrays), arrays.windows(window))

    return Feature(f"vol_std_{window}", window, compute)


def _squared_range(arrays: PanelArrays) -> np.ndarray:
    return arrays.cached("squared_range", lambda: derived.log_high_low(arrays) ** 2)


def _garman_klass_bar(arrays: PanelArrays) -> np.ndarray:
    """One bar's Garman-Klass variance, computed once for every window."""

    def compute() -> np.ndarray:
        close_open = derived.log_close_open(arrays) ** 2
        return 0.5 * _squared_range(arrays) - _GARMAN_KLASS_CLOSE * close_open

    return arrays.cached("garman_klass_bar", compute)


def _parkinson(window: int) -> Feature:
    def compute(arrays: PanelArrays) -> np.ndarray:
        mean = kernels.rolling_mean(_squared_range(arrays), arrays.windows(window))
        return _sqrt(_PARKINSON_SCALE * mean)

    return Feature(f"vol_park_{window}", window - 1, compute)


def _garman_klass(window: int) -> Feature:
    def compute(arrays: PanelArrays) -> np.ndarray:
        return _sqrt(kernels.rolling_mean(_garman_klass_bar(arrays), arrays.windows(window)))

    return Feature(f"vol_gk_{window}", window - 1, compute)


def true_range(arrays: PanelArrays) -> np.ndarray:
    """max(high, previous close) - min(low, previous close); high - low on the first bar."""
    previous = derived.previous_close(arrays)
    high = np.fmax(arrays.high, previous)
    low = np.fmin(arrays.low, previous)
    return high - low


def _normalised_atr(window: int) -> Feature:
    """Wilder's ATR seeded with the mean of the first ``window`` true ranges, over close."""

    def compute(arrays: PanelArrays) -> np.ndarray:
        ranges = arrays.to_padded(true_range(arrays))  # a new array: true ranges are not shared
        if ranges.shape[1] >= window:
            ranges[:, window - 1] = ranges[:, :window].mean(axis=1)
        smoothed = kernels.ewm(ranges, 1.0 / window, start=window - 1)
        return kernels.ratio(arrays.from_padded(smoothed), arrays.close)

    return Feature(f"natr_{window}", window - 1, compute)


def _build(options: Mapping[str, Any]) -> list[Feature]:
    features: list[Feature] = []
    for window in options["windows"]:
        features += [_close_to_close(window), _parkinson(window), _garman_klass(window)]
    return features + [_normalised_atr(window) for window in options["atr_windows"]]


FAMILY = Family(
    name="volatility",
    options={"windows": Option((5, 20, 60), minimum=2), "atr_windows": Option((14,))},
    build=_build,
)
