"""Single-bar shape: body, shadows, range and overnight gap, each relative to the bar's prices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from stockml.features import derived, kernels
from stockml.features.panel import PanelArrays
from stockml.features.spec import Family, Feature


def _body(arrays: PanelArrays) -> np.ndarray:
    return kernels.ratio(arrays.close - arrays.open, arrays.open)


def _upper_shadow(arrays: PanelArrays) -> np.ndarray:
    """How far the high rose above the body, relative to the body's top."""
    top = np.maximum(arrays.open, arrays.close)
    return kernels.ratio(arrays.high - top, top)


def _lower_shadow(arrays: PanelArrays) -> np.ndarray:
    """How far the low fell below the body, relative to the body's bottom."""
    bottom = np.minimum(arrays.open, arrays.close)
    return kernels.ratio(bottom - arrays.low, bottom)


def _range(arrays: PanelArrays) -> np.ndarray:
    return kernels.ratio(arrays.high - arrays.low, arrays.close)


def _gap(arrays: PanelArrays) -> np.ndarray:
    return kernels.ratio(arrays.open, derived.previous_close(arrays)) - 1.0


def _build(options: Mapping[str, Any]) -> list[Feature]:
    return [
        Feature("candle_body", 0, _body),
        Feature("candle_upper", 0, _upper_shadow),
        Feature("candle_lower", 0, _lower_shadow),
        Feature("candle_range", 0, _range),
        Feature("candle_gap", 1, _gap),
    ]


FAMILY = Family(name="candles", options={}, build=_build)
