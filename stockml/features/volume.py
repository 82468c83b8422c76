"""Volume: relative volume, signed volume flow (normalised OBV change), log-volume z-score and
the correlation of returns with volume changes.

Raw volume depends on share count and listing, so every feature compares volume with the same
ticker's own recent volume.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from stockml.features import derived, kernels
from stockml.features.panel import PanelArrays
from stockml.features.spec import Family, Feature, Option


def _relative_volume(window: int) -> Feature:
    def compute(arrays: PanelArrays) -> np.ndarray:
        return kernels.ratio(arrays.volume, derived.volume_sum(arrays, window) / window)

    return Feature(f"volume_ratio_{window}", window - 1, compute)


def _volume_flow(window: int) -> Feature:
    """Change of on-balance volume over the window divided by the volume traded in it: in
    [-1, 1], +1 when every bar of the window closed up."""

    def compute(arrays: PanelArrays) -> np.ndarray:
        signed = arrays.cached(
            "signed_volume", lambda: np.sign(derived.log_return(arrays)) * arrays.volume
        )
        flow = kernels.rolling_sum(signed, arrays.windows(window))
        return kernels.ratio(flow, derived.volume_sum(arrays, window))

    return Feature(f"obv_flow_{window}", window, compute)


def _volume_zscore(window: int) -> Feature:
    def compute(arrays: PanelArrays) -> np.ndarray:
        log_volume = derived.log_volume(arrays)
        deviation = log_volume - kernels.rolling_mean(log_volume, arrays.windows(window))
        return kernels.ratio(deviation, kernels.rolling_std(log_volume, arrays.windows(window)))

    return Feature(f"volume_z_{window}", window - 1, compute)


def _return_volume_correlation(window: int) -> Feature:
    def compute(arrays: PanelArrays) -> np.ndarray:
        log_volume = derived.log_volume(arrays)
        volume_change = arrays.cached(
            "log_volume_change", lambda: log_volume - arrays.lag(log_volume, 1)
        )
        return kernels.rolling_corr(
            derived.log_return(arrays), volume_change, arrays.windows(window)
        )

    return Feature(f"ret_volume_corr_{window}", window, compute)


def _build(options: Mapping[str, Any]) -> list[Feature]:
    features: list[Feature] = []
    for window in options["windows"]:
        features += [
            _relative_volume(window),
            _volume_flow(window),
            _volume_zscore(window),
            _return_volume_correlation(window),
        ]
    return features


FAMILY = Family(name="volume", options={"windows": Option((5, 20), minimum=3)}, build=_build)
