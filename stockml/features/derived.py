"""Intermediate series shared across families, memoised on the `PanelArrays` they come from.

Several families need the same log returns, rolling extremes or EMAs; computing each once per
transform is a large part of what keeps the `full` preset fast.
"""

from __future__ import annotations

import numpy as np

from stockml.features import kernels
from stockml.features.panel import PanelArrays


def previous_close(arrays: PanelArrays) -> np.ndarray:
    return arrays.cached("previous_close", lambda: arrays.lag(arrays.close, 1))


def log_return(arrays: PanelArrays) -> np.ndarray:
    """Close-to-close log return; NaN on each ticker's first bar (no previous close)."""
    return arrays.cached(
        "log_return", lambda: kernels.log_ratio(arrays.close, previous_close(arrays))
    )


def log_volume(arrays: PanelArrays) -> np.ndarray:
    """log(volume), NaN for zero volume: volume is roughly log-normal, its log is not skewed."""
    return arrays.cached("log_volume", lambda: kernels.safe_log(arrays.volume))


def log_high_low(arrays: PanelArrays) -> np.ndarray:
    return arrays.cached("log_high_low", lambda: kernels.log_ratio(arrays.high, arrays.low))


def log_close_open(arrays: PanelArrays) -> np.ndarray:
    return arrays.cached("log_close_open", lambda: kernels.log_ratio(arrays.close, arrays.open))


def close_mean(arrays: PanelArrays, window: int) -> np.ndarray:
    """Rolling mean of close: the moving average of `trend` and the Bollinger mid-band."""
    return arrays.cached(
        ("close_mean", window), lambda: kernels.rolling_mean(arrays.close, arrays.windows(window))
    )


def volume_sum(arrays: PanelArrays, window: int) -> np.ndarray:
    """Rolling sum of volume: relative volume divides by it, volume flow normalises by it."""
    return arrays.cached(
        ("volume_sum", window), lambda: kernels.rolling_sum(arrays.volume, arrays.windows(window))
    )


def rolling_high(arrays: PanelArrays, window: int) -> np.ndarray:
    return arrays.cached(
        ("rolling_high", window), lambda: kernels.rolling_max(arrays.high, arrays.windows(window))
    )


def rolling_low(arrays: PanelArrays, window: int) -> np.ndarray:
    return arrays.cached(
        ("rolling_low", window), lambda: kernels.rolling_min(arrays.low, arrays.windows(window))
    )


def close_ema(arrays: PanelArrays, span: int) -> np.ndarray:
    """EMA of close like ``ewm(span=span, adjust=False)``, seeded at each ticker's first bar."""

    def compute() -> np.ndarray:
        padded = arrays.to_padded(arrays.close)
        return arrays.from_padded(kernels.ewm(padded, 2.0 / (span + 1.0)))

    return arrays.cached(("close_ema", span), compute)
