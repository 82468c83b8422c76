"""Split and dividend adjustment, and a word when prices cannot be adjusted.

Raw prices fall by half on a 2:1 split although no holder lost anything; models trained on
them learn crashes that never happened. Prices are scaled by the vendor's adjusted close over
the close, which removes splits and dividends. Volume counts shares: a split multiplies them
and a dividend does not, so volume is scaled by the splits alone (dividing it by the full
factor would invent volume before every dividend). Price times volume is then the traded
value up to the dividends paid since.

Where splits come from: a split column when the file has one (``split_coefficient``,
``Stock Splits``, ``splitFactor``: new shares per old share on the first bar traded on the
new basis, 0, 1 or blank elsewhere); otherwise the one-bar steps of the factor adj_close/close
that lie within ``SPLIT_TOLERANCE`` (in log) of a split ratio in ``SPLIT_RATIOS``, the rest of
the factor being dividends. A special dividend of a third of the price steps like a 3:2
split; only a split column tells those apart.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd

from stockml.data.parse import ADJUSTED_CLOSE, SPLIT, Table

# Forward split ratios (new shares per old share); their reciprocals are the reverse splits.
SPLIT_RATIOS: tuple[float, ...] = (1.5, 2, 3, 4, 5, 6, 7, 8, 10, 15, 20, 25, 30, 40, 50, 100)
# How far (in log) a one-bar move may be from log(ratio) and still count as that split: wider
# than a quiet day's noise, narrower than the gap between neighbouring ratios (7:1 vs 8:1).
SPLIT_TOLERANCE = 0.05
_RATIOS = np.array([*SPLIT_RATIOS, *(1.0 / ratio for ratio in SPLIT_RATIOS)])
_LOG_RATIOS = np.log(_RATIOS)
_SCALED_PRICES = ("open", "high", "low", "close")
_MAX_LISTED = 5


def split_ratios(log_steps: np.ndarray) -> np.ndarray:
    """The split ratio whose log each step lies within SPLIT_TOLERANCE of, or 1 (no split)."""
    distance = np.abs(np.asarray(log_steps, dtype=float)[:, None] - _LOG_RATIOS[None, :])
    nearest = np.where(np.isnan(distance), np.inf, distance).argmin(axis=1)
    hit = distance[np.arange(len(distance)), nearest] < SPLIT_TOLERANCE
    return np.where(hit, _RATIOS[nearest], 1.0)


def cumulate_splits(table: Table) -> Table:
    """Turn a per-bar split column into a running share index (1, then x ratio per split).

    Runs on rows in date order and before any row is dropped, so a split on a bar dropped
    for a missing price still moves the index of the bars after it.
    """
    if SPLIT not in table.frame.columns:
        return table
    return table.replace(table.frame.assign(**{SPLIT: table.frame[SPLIT].cumprod()}))


def adjust_prices(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with prices and volume adjusted and the adjustment columns consumed.

    With an adjusted close, prices take the vendor's factor and volume the splits within it;
    with only a split column, both are split-adjusted to the last bar's share basis; with
    neither there is nothing to adjust by and the frame is returned as it is.
    """
    if ADJUSTED_CLOSE not in frame.columns and SPLIT not in frame.columns:
        return frame
    price_factor, volume_factor = _factors(frame)
    adjusted = frame.drop(columns=[ADJUSTED_CLOSE, SPLIT], errors="ignore")
    for column in _SCALED_PRICES:
        adjusted[column] = frame[column] * price_factor
    adjusted["volume"] = frame["volume"] * volume_factor
    return adjusted


def _factors(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """What each bar's prices and volume are multiplied by (ones with nothing to adjust by)."""
    if ADJUSTED_CLOSE in frame.columns:
        price_factor = frame[ADJUSTED_CLOSE] / frame["close"]
        # Anchored to the factor of the last bar, so that bar's traded value is unchanged.
        return price_factor, _later_splits(frame) / price_factor.iloc[-1]
    if SPLIT in frame.columns:
        volume_factor = _later_splits(frame)
        return 1.0 / volume_factor, volume_factor
    ones = pd.Series(1.0, index=frame.index)
    return ones, ones


def _later_splits(frame: pd.DataFrame) -> pd.Series:
    """For each bar, the product of the split ratios of the bars after it."""
    if SPLIT in frame.columns:
        shares = frame[SPLIT]
    else:
        factor = np.log(frame[ADJUSTED_CLOSE] / frame["close"])
        shares = pd.Series(split_ratios(factor.diff().to_numpy()), index=frame.index).cumprod()
    return shares.iloc[-1] / shares


def adjustment_warning(table: Table) -> str | None:
    """One line saying what adjustment a ticker's prices lack, or None when nothing is amiss.

    Without an adjusted close, a 2:1 split is a -69% log return in labels and features. The
    overnight moves of the prices as they will be used that lie close to a split ratio are
    listed as probable unadjusted splits, also when a stale adjusted close left one in.
    """
    frame = table.frame
    price_factor, _ = _factors(frame)
    found = _probable_splits(frame, price_factor)
    if ADJUSTED_CLOSE in frame.columns:
        if not found:
            return None
        return f"{table.where()}: adjusted prices still jump like unadjusted split(s): {found}"
    if SPLIT in frame.columns:
        message = (
            f"{table.where()}: no adjusted-close column; prices are split-adjusted from the "
            "split column only, dividends stay in returns"
        )
    else:
        message = (
            f"{table.where()}: prices are unadjusted (no adjusted-close or split column; "
            "data.adjust=false states it is meant): splits and dividends stay in returns"
        )
    return f"{message}; probable unadjusted split(s): {found}" if found else message


def _probable_splits(frame: pd.DataFrame, price_factor: pd.Series) -> str:
    """The bars whose overnight move (previous close to open) lies close to a split ratio."""
    prices = frame[["open", "close"]].mul(price_factor, axis=0)
    gaps = np.log(prices["open"] / prices["close"].shift(1)).to_numpy()
    ratios = split_ratios(-gaps)
    found = [
        f"{date:%Y-%m-%d} ({_ratio_text(ratio)})"
        for date, ratio in zip(frame["date"], ratios, strict=True)
        if ratio != 1.0
    ]
    more = f" and {len(found) - _MAX_LISTED} more" if len(found) > _MAX_LISTED else ""
    return ", ".join(found[:_MAX_LISTED]) + more


def _ratio_text(ratio: float) -> str:
    """2.0 -> '2:1', 1.5 -> '3:2', 0.1 -> '1:10' (new shares : old shares)."""
    fraction = Fraction(ratio).limit_denominator(100)
    return f"{fraction.numerator}:{fraction.denominator}"
