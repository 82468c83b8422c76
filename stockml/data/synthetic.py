"""Seeded synthetic OHLCV panels: geometric Brownian motion with an optional weak signal.

Real data is small and has a fixed signal-to-noise ratio; scale tests, property tests and the
leakage canary need panels of any size whose true predictability is known in advance. Daily
or intraday: intraday bars cover a US-style 09:30-16:00 session on business days only, so the
overnight and weekend gaps that real intraday data has are there too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stockml.data.schema import PRICE_COLUMNS, make_panel_index
from stockml.messages import InputError

SESSION_OPEN = pd.Timedelta(hours=9, minutes=30)
SESSION_CLOSE = pd.Timedelta(hours=16)


def synthetic_panel(
    n_tickers: int = 5,
    n_days: int = 1000,
    seed: int = 0,
    signal: float = 0.0,
    volatility: float = 0.02,
    drift: float = 0.0002,
    start: str = "2000-01-03",
    freq: str = "1D",
) -> pd.DataFrame:
    """A GBM panel of ``n_tickers`` x ``n_days`` business days.

    ``signal`` is the AR(1) coefficient of bar-to-bar log returns: 0 gives a pure random walk
    (no model may beat the zero forecast out of sample), a small positive value such as 0.05
    gives a weak, genuinely predictable momentum that models should find.

    ``freq`` is "1D" for one bar per day, or an intraday interval ("1h", "30min", "5min"):
    each day then holds the bars starting every ``freq`` from 09:30 to before 16:00 (seven
    hourly bars), stamped with their start time. ``volatility`` and ``drift`` stay per day
    and are scaled to the bar (by the square root of, and by, the bars per day), so a daily
    and an hourly panel describe the same market.
    """
    bar_offsets = _bar_offsets(freq)
    if n_tickers < 1 or n_days < 2:
        raise InputError(
            f"synthetic_panel needs n_tickers >= 1 and n_days >= 2, got {n_tickers}, {n_days}"
        )
    if not -1.0 < signal < 1.0:
        raise InputError(f"synthetic_panel: signal must lie in (-1, 1), got {signal}")
    per_day = len(bar_offsets)
    n_bars = n_days * per_day
    volatility /= np.sqrt(per_day)
    drift /= per_day
    rng = np.random.default_rng(seed)
    shocks = rng.normal(0.0, volatility, size=(n_tickers, n_bars))
    # AR(1) along each ticker's bars: r[t] = signal * r[t-1] + shock[t], r[0] = shock[0]
    if signal:
        # Imported here: scipy.signal costs about a second of start-up (it parses its
        # docstrings), and `stockml.data` is imported by every command, synthetic data or not.
        from scipy.signal import lfilter

        returns = lfilter([1.0], [1.0, -signal], shocks, axis=1)
    else:
        returns = shocks
    returns += drift
    start_price = rng.uniform(20.0, 200.0, size=(n_tickers, 1))
    # Each column is computed straight into its row of the one (column, ticker, bar) block
    # that the frame wraps as it is, and each noise array is transformed in place: no
    # per-column copies to stack, and a third fewer large temporaries.
    values = np.empty((len(PRICE_COLUMNS), n_tickers, n_bars))
    column = dict(zip(PRICE_COLUMNS, values, strict=True))
    open_, close = column["open"], column["close"]
    growth = np.cumsum(returns, axis=1)
    np.multiply(start_price, np.exp(growth, out=growth), out=close)
    previous_close = np.concatenate([start_price, close[:, :-1]], axis=1)
    noise = rng.normal(0.0, volatility / 4, size=close.shape)
    np.multiply(previous_close, np.exp(noise, out=noise), out=open_)
    noise = rng.normal(0.0, volatility / 2, size=close.shape)
    upward = np.exp(np.abs(noise, out=noise), out=noise)
    np.multiply(np.maximum(open_, close), upward, out=column["high"])
    noise = rng.normal(0.0, volatility / 2, size=close.shape)
    downward = np.exp(np.negative(np.abs(noise, out=noise), out=noise), out=noise)
    np.multiply(np.minimum(open_, close), downward, out=column["low"])
    np.round(rng.lognormal(mean=13.0, sigma=0.4, size=close.shape), out=column["volume"])

    days = pd.bdate_range(start=start, periods=n_days, name="date")
    dates = (days.repeat(per_day) + np.tile(bar_offsets, n_days)).as_unit(days.unit)
    tickers = [f"SYN{i:04d}" for i in range(n_tickers)]
    values = values.reshape(len(PRICE_COLUMNS), -1)
    return pd.DataFrame(
        values.T, index=make_panel_index(tickers, dates), columns=list(PRICE_COLUMNS), copy=False
    )


def _bar_offsets(freq: str) -> pd.TimedeltaIndex:
    """Each bar's start within its day: midnight alone for daily bars, else the session grid."""
    try:
        step = pd.Timedelta(str(freq))
    except ValueError:
        step = None
    if step == pd.Timedelta(days=1):
        return pd.TimedeltaIndex([pd.Timedelta(0)])
    session = SESSION_CLOSE - SESSION_OPEN
    if step is None or not pd.Timedelta(0) < step <= session:
        raise InputError(
            f"synthetic_panel: freq must be '1D' (daily bars) or an interval of at most "
            f"{session.total_seconds() / 3600:g} hours such as '1h' or '5min', got {freq!r}"
        )
    return pd.TimedeltaIndex(SESSION_OPEN + step * np.arange(-(-session // step)))
