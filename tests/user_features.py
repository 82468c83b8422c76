"""A user's feature module, as `features.custom` imports it: causal features, leaking ones
(what the look-ahead audit must refuse) and broken ones (what the builder must refuse)."""

from __future__ import annotations

import pandas as pd


def _previous_close(panel: pd.DataFrame) -> pd.Series:
    return panel["close"].groupby(level="ticker").shift(1)


def overnight_gap(panel: pd.DataFrame) -> pd.Series:
    """Open over the previous close: causal, undefined on each ticker's first bar."""
    return (panel["open"] / _previous_close(panel) - 1).rename("overnight_gap")


overnight_gap.warmup = 1  # type: ignore[attr-defined]


def gap_and_range(panel: pd.DataFrame) -> pd.DataFrame:
    """Two causal columns from one function."""
    return pd.DataFrame(
        {
            "gap": panel["open"] / _previous_close(panel) - 1,
            "range": (panel["high"] - panel["low"]) / panel["close"],
        }
    )


def volume_rank(panel: pd.DataFrame) -> pd.Series:
    """Cross-sectional: each date's volume rank among the tickers; causal."""
    return panel["volume"].groupby(level="date").rank(pct=True).rename("volume_rank")


def tomorrow_return(panel: pd.DataFrame) -> pd.Series:
    """Leaks: reads the next bar's close."""
    close = panel["close"]
    return (close.groupby(level="ticker").shift(-1) / close - 1).rename("tomorrow_return")


def full_sample_zscore(panel: pd.DataFrame) -> pd.Series:
    """Leaks: standardised with the mean and spread of the whole history, future included."""
    close = panel["close"]
    return ((close - close.mean()) / close.std()).rename("full_sample_zscore")


def ungrouped_return(panel: pd.DataFrame) -> pd.Series:
    """Leaks across tickers: a shift over the long frame gives each ticker's first row the
    previous ticker's last close, a bar from the end of the panel."""
    return panel["close"].pct_change().rename("ungrouped_return")


def range_of_day(panel: pd.DataFrame) -> pd.Series:
    """Causal, and needs no ticker level (a single ticker's date-indexed frame)."""
    return ((panel["high"] - panel["low"]) / panel["close"]).rename("range_of_day")


def next_close(panel: pd.DataFrame) -> pd.Series:
    """Leaks, on a single ticker's date-indexed frame."""
    return panel["close"].shift(-1).rename("next_close")


def wrong_index(panel: pd.DataFrame) -> pd.Series:
    return overnight_gap(panel).iloc[1:]


def text_column(panel: pd.DataFrame) -> pd.Series:
    return pd.Series("up", index=panel.index, name="direction")


def clashing_name(panel: pd.DataFrame) -> pd.Series:
    return overnight_gap(panel).rename("ret_lag_1")


def not_a_frame(panel: pd.DataFrame) -> list[float]:
    return list(panel["close"])


def failing(panel: pd.DataFrame) -> pd.Series:
    return panel["vwap"]
