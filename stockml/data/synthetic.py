"""Seeded synthetic OHLCV panels: geometric Brownian motion with an optional weak signal.

Real data is small and has a fixed signal-to-noise ratio; scale tests, property tests and the
leakage canary need panels of any size whose true predictability is known in advance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stockml.data.schema import PRICE_COLUMNS, make_panel_index
from stockml.messages import InputError


def synthetic_panel(
    n_tickers: int = 5,
    n_days: int = 1000,
    seed: int = 0,
    signal: float = 0.0,
    volatility: float = 0.02,
    drift: float = 0.0002,
    start: str = "2000-01-03",
) -> pd.DataFrame:
    """A GBM panel of ``n_tickers`` x ``n_days`` business days.

    ``signal`` is the AR(1) coefficient of daily log returns: 0 gives a pure random walk (no
    model may beat the zero forecast out of sample), a small positive value such as 0.05
    gives a weak, genuinely predictable momentum that models should find.
    """
    if n_tickers < 1 or n_days < 2:
        raise InputError(
            f"synthetic_panel needs n_tickers >= 1 and n_days >= 2, got {n_tickers}, {n_days}"
        )
    if not -1.0 < signal < 1.0:
        raise InputError(f"synthetic_panel: signal must lie in (-1, 1), got {signal}")
    rng = np.random.default_rng(seed)
    shocks = rng.normal(0.0, volatility, size=(n_tickers, n_days))
    returns = np.empty_like(shocks)
    returns[:, 0] = shocks[:, 0]
    for day in range(1, n_days):  # AR(1) recursion runs over days, vectorised over tickers
        returns[:, day] = signal * returns[:, day - 1] + shocks[:, day]
    returns += drift
    start_price = rng.uniform(20.0, 200.0, size=(n_tickers, 1))
    close = start_price * np.exp(np.cumsum(returns, axis=1))
    previous_close = np.concatenate([start_price, close[:, :-1]], axis=1)
    open_ = previous_close * np.exp(rng.normal(0.0, volatility / 4, size=close.shape))
    body_high = np.maximum(open_, close)
    body_low = np.minimum(open_, close)
    high = body_high * np.exp(np.abs(rng.normal(0.0, volatility / 2, size=close.shape)))
    low = body_low * np.exp(-np.abs(rng.normal(0.0, volatility / 2, size=close.shape)))
    volume = np.round(rng.lognormal(mean=13.0, sigma=0.4, size=close.shape))

    dates = pd.bdate_range(start=start, periods=n_days, name="date")
    tickers = [f"SYN{i:04d}" for i in range(n_tickers)]
    columns = {
        "open": open_,
        "high": high,
        "low": low,
        "close": close,
        "volume": volume,
    }
    data = {name: columns[name].reshape(-1).astype(np.float64) for name in PRICE_COLUMNS}
    return pd.DataFrame(data, index=make_panel_index(tickers, dates))
