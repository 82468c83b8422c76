"""Named feature sets, from a quick baseline to everything: family name -> options.

Options not given fall back to the family defaults (see `stockml.features.registry`); an empty
window list switches that part of a family off.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

_MINIMAL: dict[str, dict[str, Any]] = {
    "returns": {"lags": [1, 2, 5], "windows": [20]},
    "volatility": {"windows": [20], "atr_windows": []},
    "trend": {"windows": [20], "slope_windows": [], "macd": False},
    "oscillators": {
        "rsi_windows": [14],
        "stoch_windows": [],
        "williams_windows": [],
        "bollinger_windows": [],
    },
}

_TECHNICAL: dict[str, dict[str, Any]] = {
    "returns": {"lags": [1, 2, 3, 5], "windows": [5, 20]},
    "volatility": {"windows": [20], "atr_windows": [14]},
    "trend": {"windows": [20, 50], "slope_windows": [20]},
    "oscillators": {},
    "volume": {"windows": [20]},
    "candles": {},
}

_FULL: dict[str, dict[str, Any]] = {
    "returns": {"lags": [1, 2, 3, 4, 5], "windows": [5, 10, 20, 60, 120]},
    "volatility": {"windows": [5, 20, 60], "atr_windows": [14]},
    "trend": {"windows": [10, 20, 50, 200], "slope_windows": [20, 60]},
    "oscillators": {"rsi_windows": [7, 14], "stoch_windows": [14], "williams_windows": [14, 28]},
    "volume": {"windows": [5, 20, 60]},
    "candles": {},
    "statistics": {"windows": [20, 60]},
}

PRESETS: MappingProxyType[str, dict[str, dict[str, Any]]] = MappingProxyType(
    {"minimal": _MINIMAL, "technical": _TECHNICAL, "full": _FULL}
)
