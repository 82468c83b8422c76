"""Labels and the modelling frame: what the models predict, and the rows they may learn from.

The label of a row dated ``t`` is a forward return over ``horizon`` bars that starts
``entry_lag`` bars after the signal bar: ``close[t + L + h] / close[t + L]`` with ``L`` the
entry lag (0: trade at the signal bar's own close; 1: at the next bar's, as Qlib does), where
``t + k`` is ``k`` bars ahead on the panel's own calendar (the union of all tickers' dates, or
timestamps for intraday bars, so an hourly horizon of 2 at 15:30 ends at 10:30 next morning).
A row dated ``t`` holds only what was known at the close of ``t``. Rows whose entry or exit
bar is missing (the last dates, or a gap in that ticker's history) have no label; they are
NaN and dropped, never filled, because any fill invents a return that never happened.

Counting on the shared calendar, not on each ticker's rows, is what makes the splitters'
purge exact: a label reaches ``label_span = entry_lag + horizon`` calendar dates ahead, and
the splitters, the holdout and the lifecycle commands leave exactly that many dates between
training and test (a label that skipped over a ticker's missing bars would reach further).

`TargetSpec` is the one description of the label (built from the config's ``target:``
section): it computes the labels, knows how far they reach, and names them in every report.
Its ``kind`` is the log return, the simple return, or the simple return in excess of the
equal-weight mean of all tickers labelled that date (simple, because an equal-weight
portfolio's return is the mean of simple returns, not of log returns). Its ``transform``
normalises each date's labels across tickers (demean, rank, z-score). Both cross-sectional
steps read only the same date's labels of other tickers: no date's label borrows another
date's, so they leak nothing the per-ticker label does not (each label still looks forward,
which the purge covers). The cross-section is every ticker with a label that date, before
feature warm-up rows are dropped, so a label never depends on the feature choice; a date
with fewer than two labelled tickers has no cross-section and its labels are NaN.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from stockml.data.schema import DATE_LEVEL, TICKER_LEVEL
from stockml.messages import InputError

TARGET_NAME = "target"
TARGET_KINDS: tuple[str, ...] = ("log_return", "simple_return", "excess_return")
TARGET_TRANSFORMS: tuple[str, ...] = ("none", "cs_demean", "cs_rank", "cs_zscore")
_KIND_TEXT = {
    "log_return": "forward log return",
    "simple_return": "forward simple return",
    "excess_return": "forward simple return in excess of the equal-weight mean",
}


@dataclass(frozen=True)
class RowCodes:
    """Every row's ticker and date as integer codes, in the order of their values.

    Labels and the time order of rows are computed from these by position; making them once
    serves both.
    """

    tickers: np.ndarray
    dates: np.ndarray

    @classmethod
    def of(cls, index: pd.Index) -> RowCodes:
        return cls(sortable_codes(index, TICKER_LEVEL), sortable_codes(index, DATE_LEVEL))


def forward_log_return(
    panel: pd.DataFrame, horizon: int = 1, codes: RowCodes | None = None
) -> pd.Series:
    """Per-ticker ``log(close[t + horizon] / close[t])`` on the panel calendar, named "target":
    the default `TargetSpec`'s labels (no entry lag, no cross-sectional step)."""
    if isinstance(horizon, bool) or not isinstance(horizon, numbers.Integral) or horizon < 1:
        raise InputError(
            f"forward_log_return: horizon must be an integer >= 1 (bars ahead), got {horizon!r}"
        )
    return TargetSpec(horizon=int(horizon)).labels(panel, codes)


@dataclass(frozen=True)
class TargetSpec:
    """What the models predict: ``kind`` over ``horizon`` bars from ``entry_lag`` bars after
    the signal, then ``transform`` across each date's tickers. The defaults are the label
    stockml always had (a config recorded before these keys existed gets them)."""

    horizon: int = 1
    entry_lag: int = 0
    kind: str = "log_return"
    transform: str = "none"

    def __post_init__(self) -> None:
        for key, least, unit in (("horizon", 1, "bars ahead"), ("entry_lag", 0, "bars")):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
                raise InputError(
                    f"target.{key} must be an integer >= {least} ({unit}), got {value!r}"
                )
            object.__setattr__(self, key, int(value))
        for key, allowed in (("kind", TARGET_KINDS), ("transform", TARGET_TRANSFORMS)):
            if getattr(self, key) not in allowed:
                raise InputError(
                    f"target.{key} must be one of {', '.join(allowed)}, "
                    f"got {getattr(self, key)!r}"
                )

    @classmethod
    def from_config(cls, node: Mapping[str, Any]) -> TargetSpec:
        """The spec of a config's ``target:`` section; absent keys keep today's defaults."""
        return cls(**{f.name: node.get(f.name, f.default) for f in fields(cls)})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def label_span(self) -> int:
        """How many calendar bars past its own date a row's label reaches: what every purge,
        embargo and holdout gap between training and test must cover."""
        return self.entry_lag + self.horizon

    @property
    def cross_sectional(self) -> bool:
        """Whether a row's label depends on other tickers' labels of the same date."""
        return self.kind == "excess_return" or self.transform != "none"

    def describe(self) -> str:
        """The label in words, as metrics files, summaries and reports state what they score:
        e.g. ``cs_rank(forward log return, h=1, entry lag 1)``."""
        text = f"{_KIND_TEXT[self.kind]}, h={self.horizon}, entry lag {self.entry_lag}"
        return text if self.transform == "none" else f"{self.transform}({text})"

    def labels(self, panel: pd.DataFrame, codes: RowCodes | None = None) -> pd.Series:
        """Each panel row's label, named "target" (NaN where it cannot be known).

        Each ticker is its own row of a ticker x date table, so one ticker's last rows never
        borrow another ticker's prices, and a gap in a ticker's history leaves its labels
        NaN rather than silently stretching them over more dates. The table is filled and
        read by position (ticker code, date code), never by index joins; ``codes`` are
        `RowCodes.of(panel.index)` when the caller has them already.
        """
        codes = codes or RowCodes.of(panel.index)
        tickers, dates = codes.tickers, codes.dates
        close = panel["close"].to_numpy(dtype=np.float64)
        width = int(dates.max()) + 1 + self.label_span
        table = np.full((int(tickers.max()) + 1) * width, np.nan)
        cells = tickers * width + dates  # the flat table's cells: cheaper than 2-D indexing
        table[cells] = close
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = table[cells + self.label_span] / table[cells + self.entry_lag]
            values = np.log(ratio) if self.kind == "log_return" else ratio - 1.0
        return pd.Series(self._across_tickers(values, codes), index=panel.index, name=TARGET_NAME)

    def trailing(self, panel: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
        """The same label looking back instead of ahead, at the panel rows ``rows``: the
        naive "last return persists" forecast (the last ``horizon`` bars of the ticker's own
        rows, up to the signal bar), of the same kind and transform as the label, so the
        baseline is scored on the label's scale. NaN where the ticker has no bar ``horizon``
        rows back (rows are grouped by ticker)."""
        close = panel["close"].to_numpy()
        rows = np.asarray(rows, dtype=np.intp)
        # only a cross-sectional step needs every row's value; a plain return, only ``rows``'
        at = np.arange(len(close)) if self.cross_sectional else rows
        tickers = sortable_codes(panel.index, TICKER_LEVEL)
        earlier = at - self.horizon
        known = earlier >= 0
        known[known] = tickers[earlier[known]] == tickers[at[known]]
        now, then = at[known], earlier[known]
        trailing = np.full(len(at), np.nan)
        if self.kind == "log_return":
            trailing[known] = np.log(close[now]) - np.log(close[then])
        else:
            trailing[known] = close[now] / close[then] - 1.0
        if not self.cross_sectional:
            return trailing
        return self._across_tickers(trailing, RowCodes.of(panel.index))[rows]

    def _across_tickers(self, values: np.ndarray, codes: RowCodes) -> np.ndarray:
        """Per-row returns of this spec's kind -> its labels: the excess over each date's
        mean, then the transform, both across that date's tickers (nothing to do when the
        spec is not cross-sectional)."""
        if not self.cross_sectional:
            return values
        if int(codes.tickers.max()) == 0:
            setting = (
                f"target.kind={self.kind}"
                if self.kind == "excess_return"
                else f"target.transform={self.transform}"
            )
            raise InputError(
                f"{setting} compares the tickers of each date, but the panel has one ticker; "
                "use target.kind=log_return or simple_return with target.transform=none"
            )
        grid = np.full((int(codes.tickers.max()) + 1, int(codes.dates.max()) + 1), np.nan)
        grid[codes.tickers, codes.dates] = values
        if self.kind == "excess_return":
            grid = cross_section(grid, "cs_demean")
        if self.transform != "none":
            grid = cross_section(grid, self.transform)
        return grid[codes.tickers, codes.dates]


def cross_section(grid: np.ndarray, transform: str) -> np.ndarray:
    """``transform`` of each column (one date) of a ticker x date grid, over its known values.

    ``cs_demean`` subtracts the date's mean, ``cs_zscore`` also divides by its standard
    deviation (population, ddof 0), ``cs_rank`` maps average ranks (ties share one) linearly
    onto [-0.5, 0.5]. A date with fewer than two known values, or (z-score) all equal, has no
    cross-section: NaN.
    """
    known = ~np.isnan(grid)
    count = known.sum(axis=0)
    usable = count >= 2
    divisor = np.maximum(count, 1)
    centred = grid - np.where(known, grid, 0.0).sum(axis=0) / divisor
    if transform == "cs_demean":
        out = centred
    elif transform == "cs_zscore":
        std = np.sqrt(np.where(known, centred**2, 0.0).sum(axis=0) / divisor)
        usable &= std > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            out = centred / std
    elif transform == "cs_rank":
        ranks = pd.DataFrame(grid).rank(axis=0, method="average").to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (ranks - 1.0) / (count - 1) - 0.5
    else:
        raise InputError(f"unknown cross-sectional transform {transform!r}")
    return np.where(usable, out, np.nan)


def sortable_codes(index: pd.Index, level: str) -> np.ndarray:
    """Integer codes of ``level`` whose order is the order of its values (0 = earliest date).

    Only values that occur get a code, so consecutive codes are consecutive panel dates: the
    calendar is the union of the dates present, as the splitters count it. A plain
    DatetimeIndex is one ticker (every code 0) on its own dates.
    """
    if not isinstance(index, pd.MultiIndex):
        if level == TICKER_LEVEL:
            return np.zeros(len(index), dtype=np.intp)
        return pd.factorize(index, sort=True)[0]
    number = index.names.index(level)
    codes, values = index.codes[number], index.levels[number]
    by_value = values.argsort()
    present = np.zeros(len(values), dtype=bool)
    present[codes] = True  # a level may list values no row has any more (after slicing)
    dense = np.empty(len(values), dtype=np.intp)
    dense[by_value] = np.cumsum(present[by_value]) - 1
    return dense[codes]


def time_order(codes: RowCodes, keep: np.ndarray) -> np.ndarray:
    """Positions of the rows where ``keep`` is true, ordered by date, then ticker.

    Rows grouped by ticker in ticker order (every panel is) need only a stable sort by
    date, which NumPy does by radix for date codes that fit 16 bits: about twice as fast
    as the two-key sort that any other row order takes.
    """
    rows = np.flatnonzero(keep)
    tickers, dates = codes.tickers[rows], codes.dates[rows]
    if len(rows) and np.all(tickers[1:] >= tickers[:-1]):
        return rows[np.argsort(dates.astype(np.min_scalar_type(dates.max())), kind="stable")]
    return rows[np.lexsort((tickers, dates))]


def complete_rows(columns: Iterable[np.ndarray], label: np.ndarray) -> np.ndarray:
    """Mask of the rows where the label and every feature column are known (not NaN).

    One column at a time, so the check never builds a boolean copy of a wide frame.
    """
    complete = ~np.isnan(label)
    for column in columns:
        complete &= ~np.isnan(column)
    return complete


def make_dataset(features: pd.DataFrame, target: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """Rows with complete features and a known label, ordered by date then ticker.

    Rows present in only one of ``features`` and ``target`` are dropped, as is every row with
    any NaN (indicator warm-up, missing label); nothing is filled. The index stays
    ``(ticker, date)``, but the rows are sorted by date, then ticker, so that positional
    order is time order: the splitters and the holdout can then cut on positions without a
    later date ever preceding an earlier one. When both share one index (the usual case)
    rows are matched by position and each frame is copied once, by a single row take.
    """
    if not features.index.equals(target.index):
        features, target = features.align(target, join="inner", axis=0)
    label = target.to_numpy(dtype=np.float64)
    columns = (features[name].to_numpy() for name in features.columns)
    order = time_order(RowCodes.of(features.index), complete_rows(columns, label))
    return features.take(order), target.take(order)
