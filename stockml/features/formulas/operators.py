"""The formula operators: each one vectorised over the whole ticker-major panel.

Every operator is causal by construction. Time-series operators read trailing windows that
stay within a ticker (`PanelArrays.windows`, `PanelArrays.lag`); the recursive `ema` runs along
the padded (ticker, row-in-ticker) matrix; cross-sectional operators group rows by date code
and read only rows of the same date. An operator adds to the warm-up of its operands (the
leading rows per ticker that may be NaN) exactly what its window needs, so the warm-up of any
formula follows from its operators (`Operator.warmup`).

NaN conventions: a window holding any NaN gives NaN (as the preset features' full windows
do); a cross-section ignores NaN rows; `ema` skips NaN inputs and keeps their weight slot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from stockml.features import kernels
from stockml.features.formulas.inputs import FormulaInputs


class Operand(NamedTuple):
    """An evaluated argument: its values and the warm-up rows per ticker they may not fill."""

    values: np.ndarray
    warmup: int


@dataclass(frozen=True)
class Operator:
    """One callable of the formula language.

    ``parameters`` names the series arguments; ``window`` says whether a trailing integer
    window ``n`` follows them (it must be a literal >= ``min_window``). ``added_warmup(n)`` is
    what the operator adds to the largest warm-up of its arguments.
    """

    name: str
    parameters: tuple[str, ...]
    compute: Callable[..., np.ndarray]
    summary: str
    window: bool = False
    min_window: int = 1
    added_warmup: Callable[[int], int] = lambda window: 0

    @property
    def arguments(self) -> int:
        return len(self.parameters)

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(self.parameters + (('n',) if self.window else ()))})"

    def warmup(self, operand_warmups: Sequence[int], window: int | None) -> int:
        return max(operand_warmups, default=0) + self.added_warmup(window or 0)


def _log(data: FormulaInputs, x: Operand) -> np.ndarray:
    return kernels.safe_log(x.values)


def _abs(data: FormulaInputs, x: Operand) -> np.ndarray:
    return np.abs(x.values)


def _sign(data: FormulaInputs, x: Operand) -> np.ndarray:
    return np.sign(x.values)


def _sqrt(data: FormulaInputs, x: Operand) -> np.ndarray:
    return np.sqrt(x.values)  # negative values: NaN (the evaluator silences the warning)


def _clip(data: FormulaInputs, x: Operand, low: Operand, high: Operand) -> np.ndarray:
    return np.clip(x.values, low.values, high.values)


def _delay(data: FormulaInputs, x: Operand, window: int) -> np.ndarray:
    return data.arrays.lag(x.values, window)


def _delta(data: FormulaInputs, x: Operand, window: int) -> np.ndarray:
    return x.values - data.arrays.lag(x.values, window)


def _rolling(kernel: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    def compute(data: FormulaInputs, x: Operand, window: int) -> np.ndarray:
        return kernel(x.values, data.arrays.windows(window))

    return compute


def _ts_rank(data: FormulaInputs, x: Operand, window: int) -> np.ndarray:
    """`kernels.rolling_rank`, made NaN where the window holds a NaN (the kernel would count
    a NaN as "not below")."""
    windows = data.arrays.windows(window)
    rank = kernels.rolling_rank(x.values, windows)
    missing = np.isnan(x.values)
    if missing.any():
        rank[kernels.rolling_sum(missing.astype(np.float64), windows) != 0] = np.nan
    return rank


def _ts_corr(data: FormulaInputs, x: Operand, y: Operand, window: int) -> np.ndarray:
    corr = kernels.rolling_corr(x.values, y.values, data.arrays.windows(window))
    return np.where(np.isinf(corr), np.nan, corr)  # a constant window has no correlation


def _ema(data: FormulaInputs, x: Operand, window: int) -> np.ndarray:
    """pandas' ``ewm(span=n).mean()`` (adjust=True) per ticker, started after ``x``'s warm-up.

    The normalised form sum_k (1-a)^k x[t-k] / sum_k (1-a)^k over the valid rows is two linear
    filters along the rows of the padded matrix, which is also how NaN inputs are skipped: they
    add nothing to either sum but keep their place in the decay, as pandas does with
    ``ignore_na=False``.
    """
    values = data.masked(x.values, x.warmup)
    valid = ~np.isnan(values)
    decay = [1.0, 2.0 / (window + 1.0) - 1.0]
    arrays = data.arrays
    weighted = lfilter([1.0], decay, arrays.to_padded(np.where(valid, values, 0.0)), axis=1)
    weights = lfilter([1.0], decay, arrays.to_padded(valid.astype(np.float64)), axis=1)
    return kernels.ratio(arrays.from_padded(weighted), arrays.from_padded(weights))


def _by_date(data: FormulaInputs, values: np.ndarray) -> pd.core.groupby.SeriesGroupBy:
    return pd.Series(values, copy=False).groupby(data.date_codes, sort=False)


def _cs_rank(data: FormulaInputs, x: Operand) -> np.ndarray:
    """Percentile rank within the date, in (0, 1]: ties share their average rank, NaN rows
    are left out (pandas ``rank(method="average", pct=True)``, on the rows of the (date,
    ticker) matrix when the panel is dense enough for one)."""
    values = data.masked(x.values, x.warmup)
    grid = data.date_grid(values)
    if grid is None:
        return _by_date(data, values).rank(method="average", pct=True).to_numpy()
    ranks = pd.DataFrame(grid, copy=False).rank(axis=1, method="average", pct=True)
    return data.from_date_grid(ranks.to_numpy())


def _cs_demean(data: FormulaInputs, x: Operand) -> np.ndarray:
    values = data.masked(x.values, x.warmup)
    return values - _by_date(data, values).transform("mean").to_numpy()


def _cs_zscore(data: FormulaInputs, x: Operand) -> np.ndarray:
    """(x - mean) / std within the date, population std (ddof=0): the z-scores describe the
    cross-section itself; a date whose values are all equal gives NaN."""
    values = data.masked(x.values, x.warmup)
    grouped = _by_date(data, values)
    demeaned = values - grouped.transform("mean").to_numpy()
    return kernels.ratio(demeaned, grouped.transform("std", ddof=0).to_numpy())


def _window_minus_one(window: int) -> int:
    return window - 1


def _whole_window(window: int) -> int:
    return window


def _time_series(
    name: str,
    compute: Callable[..., np.ndarray],
    summary: str,
    *,
    parameters: tuple[str, ...] = ("x",),
    min_window: int = 1,
    added_warmup: Callable[[int], int] = _window_minus_one,
) -> Operator:
    """A per-ticker operator with a trailing window; by default a window of n rows needs
    n - 1 rows before the first full one."""
    return Operator(name, parameters, compute, summary, True, min_window, added_warmup)


OPERATORS: MappingProxyType[str, Operator] = MappingProxyType(
    {
        op.name: op
        for op in (
            Operator("log", ("x",), _log, "natural log; NaN for values <= 0"),
            Operator("abs", ("x",), _abs, "absolute value"),
            Operator("sign", ("x",), _sign, "-1, 0 or 1"),
            Operator("sqrt", ("x",), _sqrt, "square root; NaN for negative values"),
            Operator("clip", ("x", "lo", "hi"), _clip, "x limited to [lo, hi]"),
            _time_series("delay", _delay, "x n bars earlier", added_warmup=_whole_window),
            _time_series("delta", _delta, "x - delay(x, n)", added_warmup=_whole_window),
            _time_series("ts_mean", _rolling(kernels.rolling_mean), "mean of the last n bars"),
            _time_series(
                "ts_std",
                _rolling(kernels.rolling_std),
                "sample std (ddof=1), last n bars",
                min_window=2,
            ),
            _time_series("ts_sum", _rolling(kernels.rolling_sum), "sum of the last n bars"),
            _time_series("ts_min", _rolling(kernels.rolling_min), "min of the last n bars"),
            _time_series("ts_max", _rolling(kernels.rolling_max), "max of the last n bars"),
            _time_series(
                "ts_rank",
                _ts_rank,
                "rank of x among the last n bars in [0, 1], ties count half",
                min_window=2,
            ),
            _time_series(
                "ts_corr",
                _ts_corr,
                "Pearson correlation of x and y over the last n bars",
                parameters=("x", "y"),
                min_window=2,
            ),
            _time_series("ema", _ema, "exponential average, span n (pandas ewm(span=n))"),
            Operator(
                "cs_rank", ("x",), _cs_rank, "percentile rank among the date's tickers, (0, 1]"
            ),
            Operator("cs_zscore", ("x",), _cs_zscore, "(x - date mean) / date std (ddof=0)"),
            Operator("cs_demean", ("x",), _cs_demean, "x - date mean"),
        )
    }
)
