"""Bounded oscillators: RSI, stochastic %K/%D, Williams %R and Bollinger %B.

Definitions follow the `ta` library (checked against it in the tests) so the numbers mean what
a practitioner expects; each is bounded or scale-free by construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from stockml.features import derived, kernels
from stockml.features.panel import PanelArrays
from stockml.features.spec import Family, Feature, Option


def _rsi(window: int) -> Feature:
    """Wilder's RSI (EWM with alpha = 1/window); the first bar counts as unchanged, as in ta.

    A window without any price change is NaN here (ta reports 100): nothing moved, so there
    is no strength to measure.
    """

    def compute(arrays: PanelArrays) -> np.ndarray:
        gains, losses = _gains_and_losses(arrays)
        alpha = 1.0 / window
        mean_gain = kernels.ewm(arrays.to_padded(gains), alpha)
        mean_loss = kernels.ewm(arrays.to_padded(losses), alpha)
        return 100.0 * arrays.from_padded(kernels.ratio(mean_gain, mean_gain + mean_loss))

    return Feature(f"rsi_{window}", window - 1, compute)


def _gains_and_losses(arrays: PanelArrays) -> tuple[np.ndarray, np.ndarray]:
    """Each bar's rise and fall of the close (0 when it moved the other way), for every RSI."""

    def compute() -> tuple[np.ndarray, np.ndarray]:
        change = arrays.close - derived.previous_close(arrays)
        return np.where(change > 0, change, 0.0), np.where(change < 0, -change, 0.0)

    return arrays.cached("gains_and_losses", compute)


def _price_range(arrays: PanelArrays, window: int) -> np.ndarray:
    """Highest high minus lowest low of the window: stochastic and Williams %R divide by it."""

    def compute() -> np.ndarray:
        return derived.rolling_high(arrays, window) - derived.rolling_low(arrays, window)

    return arrays.cached(("price_range", window), compute)


def _stochastic_k_values(arrays: PanelArrays, window: int) -> np.ndarray:
    def compute() -> np.ndarray:
        low = derived.rolling_low(arrays, window)
        return 100.0 * kernels.ratio(arrays.close - low, _price_range(arrays, window))

    return arrays.cached(("stochastic_k", window), compute)


def _stochastic(window: int, smooth: int) -> list[Feature]:
    def percent_k(arrays: PanelArrays) -> np.ndarray:
        return _stochastic_k_values(arrays, window)

    def percent_d(arrays: PanelArrays) -> np.ndarray:
        return kernels.rolling_mean(_stochastic_k_values(arrays, window), arrays.windows(smooth))

    return [
        Feature(f"stoch_k_{window}", window - 1, percent_k),
        Feature(f"stoch_d_{window}_{smooth}", window + smooth - 2, percent_d),
    ]


def _williams(window: int) -> Feature:
    def compute(arrays: PanelArrays) -> np.ndarray:
        high = derived.rolling_high(arrays, window)
        return -100.0 * kernels.ratio(high - arrays.close, _price_range(arrays, window))

    return Feature(f"willr_{window}", window - 1, compute)


def _bollinger(window: int, deviations: float) -> Feature:
    """Bollinger %B with a population standard deviation (ddof=0), as in ta."""

    def compute(arrays: PanelArrays) -> np.ndarray:
        mean = derived.close_mean(arrays, window)
        width = deviations * kernels.rolling_std(arrays.close, arrays.windows(window), ddof=0)
        return kernels.ratio(arrays.close - (mean - width), 2.0 * width)

    return Feature(f"bb_pctb_{window}", window - 1, compute)


def _build(options: Mapping[str, Any]) -> list[Feature]:
    features = [_rsi(window) for window in options["rsi_windows"]]
    for window in options["stoch_windows"]:
        features += _stochastic(window, options["stoch_smooth"])
    features += [_williams(window) for window in options["williams_windows"]]
    features += [
        _bollinger(window, options["bollinger_dev"]) for window in options["bollinger_windows"]
    ]
    return features


FAMILY = Family(
    name="oscillators",
    options={
        "rsi_windows": Option((14,)),
        "stoch_windows": Option((14,)),
        "stoch_smooth": Option(3),
        "williams_windows": Option((14,)),
        "bollinger_windows": Option((20,), minimum=2),
        "bollinger_dev": Option(2.0, minimum=0),
    },
    build=_build,
)
