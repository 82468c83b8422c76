"""Trend: distance of close from its moving averages, MACD, and the slope of log close.

Everything is relative to the current close, so the same trend reads the same on a $5 and a
$500 stock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from stockml.features import derived, kernels
from stockml.features.panel import PanelArrays
from stockml.features.spec import Family, Feature, Option
from stockml.messages import InputError


def _sma_gap(window: int) -> Feature:
    def compute(arrays: PanelArrays) -> np.ndarray:
        return kernels.ratio(arrays.close, derived.close_mean(arrays, window)) - 1.0

    return Feature(f"sma_gap_{window}", window - 1, compute)


def _ema_gap(window: int) -> Feature:
    def compute(arrays: PanelArrays) -> np.ndarray:
        return kernels.ratio(arrays.close, derived.close_ema(arrays, window)) - 1.0

    return Feature(f"ema_gap_{window}", window - 1, compute)


def slope_weights(window: int) -> np.ndarray:
    """FIR weights turning the last ``window - 1`` log returns into the OLS slope of log close.

    The least-squares slope of y over t = 0..w-1 equals sum_m r_m * m (w - m) / (2 S) with
    r_m = y_m - y_{m-1} and S = w (w^2 - 1) / 12. Working on returns instead of log prices keeps
    the numbers small (no large common level to cancel), so the slope is exactly scale-free.
    """
    lags = np.arange(window - 1)
    steps = window - 1 - lags
    return steps * (window - steps) / (window * (window**2 - 1) / 6.0)


def _slope(window: int) -> Feature:
    def compute(arrays: PanelArrays) -> np.ndarray:
        return kernels.causal_fir(
            derived.log_return(arrays), slope_weights(window), arrays.windows(window - 1)
        )

    return Feature(f"slope_{window}", window - 1, compute)


def _macd_lines(arrays: PanelArrays, fast: int, slow: int, signal: int) -> np.ndarray:
    """MACD and signal line (raw price units) stacked as two rows; the signal EMA starts where
    the MACD is first defined, i.e. once the slow EMA has ``slow`` bars."""

    def compute() -> np.ndarray:
        macd = derived.close_ema(arrays, fast) - derived.close_ema(arrays, slow)
        padded = kernels.ewm(arrays.to_padded(macd), 2.0 / (signal + 1.0), start=slow - 1)
        return np.stack([macd, arrays.from_padded(padded)])

    return arrays.cached(("macd", fast, slow, signal), compute)


def _macd(fast: int, slow: int, signal: int) -> list[Feature]:
    def line(arrays: PanelArrays) -> np.ndarray:
        return kernels.ratio(_macd_lines(arrays, fast, slow, signal)[0], arrays.close)

    def signal_line(arrays: PanelArrays) -> np.ndarray:
        return kernels.ratio(_macd_lines(arrays, fast, slow, signal)[1], arrays.close)

    def histogram(arrays: PanelArrays) -> np.ndarray:
        macd, smoothed = _macd_lines(arrays, fast, slow, signal)
        return kernels.ratio(macd - smoothed, arrays.close)

    signal_warmup = slow + signal - 2
    return [
        Feature(f"macd_{fast}_{slow}", slow - 1, line),
        Feature(f"macd_signal_{fast}_{slow}_{signal}", signal_warmup, signal_line),
        Feature(f"macd_hist_{fast}_{slow}_{signal}", signal_warmup, histogram),
    ]


def _build(options: Mapping[str, Any]) -> list[Feature]:
    features = [_sma_gap(window) for window in options["windows"]]
    features += [_ema_gap(window) for window in options["windows"]]
    features += [_slope(window) for window in options["slope_windows"]]
    if options["macd"]:
        fast, slow = options["macd_fast"], options["macd_slow"]
        if fast >= slow:
            raise InputError(
                f"feature family 'trend': macd_fast ({fast}) must be below macd_slow ({slow})"
            )
        features += _macd(fast, slow, options["macd_signal"])
    return features


FAMILY = Family(
    name="trend",
    options={
        "windows": Option((20, 50)),
        "slope_windows": Option((20,), minimum=2),
        "macd": Option(True),
        "macd_fast": Option(12),
        "macd_slow": Option(26),
        "macd_signal": Option(9),
    },
    build=_build,
)
