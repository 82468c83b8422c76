"""Our indicators against the `ta` library (and closed forms) on the bundled raw AAPL bars."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import ta

from stockml.features import FeatureBuilder

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "stockml" / "data" / "sample"


@pytest.fixture(scope="module")
def aapl() -> pd.DataFrame:
    """Raw (unadjusted) AAPL bars as a one-ticker panel: both sides see the same prices."""
    raw = pd.read_csv(SAMPLE_DIR / "AAPL.csv.gz", parse_dates=["Date"]).sort_values("Date")
    frame = raw.rename(columns=str.lower).drop(columns="adj close")
    frame.index = pd.MultiIndex.from_arrays(
        [np.repeat("AAPL", len(frame)), pd.DatetimeIndex(frame.pop("date"))],
        names=["ticker", "date"],
    )
    return frame.astype(np.float64)


@pytest.fixture(scope="module")
def features(aapl: pd.DataFrame) -> pd.DataFrame:
    families = {
        "returns": {"lags": [1], "windows": [12]},
        "volatility": {"windows": [], "atr_windows": [14]},
        "trend": {"windows": [], "slope_windows": [20]},
        "oscillators": {"williams_windows": [14], "stoch_windows": [14]},
        "statistics": {"windows": [20]},
    }
    return FeatureBuilder(families=families).transform(aapl)


def _assert_matches(
    ours: pd.Series, theirs: pd.Series, first_valid: int, atol: float = 1e-12
) -> None:
    assert ours.iloc[:first_valid].isna().all()
    np.testing.assert_allclose(
        ours.to_numpy()[first_valid:], theirs.to_numpy()[first_valid:], rtol=1e-8, atol=atol
    )


def test_rsi(aapl: pd.DataFrame, features: pd.DataFrame) -> None:
    expected = ta.momentum.RSIIndicator(aapl["close"], window=14).rsi()
    _assert_matches(features["rsi_14"], expected, 13)
    assert expected.iloc[:13].isna().all()


def test_stochastic_and_williams(aapl: pd.DataFrame, features: pd.DataFrame) -> None:
    stochastic = ta.momentum.StochasticOscillator(
        aapl["high"], aapl["low"], aapl["close"], window=14, smooth_window=3
    )
    _assert_matches(features["stoch_k_14"], stochastic.stoch(), 13)
    _assert_matches(features["stoch_d_14_3"], stochastic.stoch_signal(), 15)
    williams = ta.momentum.WilliamsRIndicator(aapl["high"], aapl["low"], aapl["close"], lbp=14)
    _assert_matches(features["willr_14"], williams.williams_r(), 13)


def test_bollinger_percent_b(aapl: pd.DataFrame, features: pd.DataFrame) -> None:
    bands = ta.volatility.BollingerBands(aapl["close"], window=20, window_dev=2)
    expected = bands.bollinger_pband()
    # ta's rolling std (pandas' running updates) drifts up to 1.5e-10 from exact on this series
    # (stockml's: 2e-12), which a %B near 0 amplifies to ~3e-11 absolute
    _assert_matches(features["bb_pctb_20"], expected, 19, atol=1e-9)


def test_atr_over_close(aapl: pd.DataFrame, features: pd.DataFrame) -> None:
    atr = ta.volatility.AverageTrueRange(aapl["high"], aapl["low"], aapl["close"], window=14)
    # ta reports 0 instead of NaN during the warm-up, hence the comparison from row 13 only.
    _assert_matches(features["natr_14"], atr.average_true_range() / aapl["close"], 13)


def test_macd_over_close(aapl: pd.DataFrame, features: pd.DataFrame) -> None:
    macd = ta.trend.MACD(aapl["close"], window_slow=26, window_fast=12, window_sign=9)
    _assert_matches(features["macd_12_26"], macd.macd() / aapl["close"], 25)
    _assert_matches(features["macd_signal_12_26_9"], macd.macd_signal() / aapl["close"], 33)
    _assert_matches(features["macd_hist_12_26_9"], macd.macd_diff() / aapl["close"], 33)


def test_rate_of_change(aapl: pd.DataFrame, features: pd.DataFrame) -> None:
    expected = ta.momentum.ROCIndicator(aapl["close"], window=12).roc() / 100
    _assert_matches(features["roc_12"], expected, 12)


def test_slope_is_the_least_squares_slope_of_log_close(
    aapl: pd.DataFrame, features: pd.DataFrame
) -> None:
    log_close = np.log(aapl["close"].to_numpy())
    for row in (19, 20, 500, len(aapl) - 1):
        expected = np.polyfit(np.arange(20), log_close[row - 19 : row + 1], 1)[0]
        assert features["slope_20"].iloc[row] == pytest.approx(expected, rel=1e-9)
    assert features["slope_20"].iloc[:19].isna().all()


def test_close_rank_is_pandas_rolling_rank_rescaled(
    aapl: pd.DataFrame, features: pd.DataFrame
) -> None:
    """Ties (common in cent-priced closes) count half, like pandas' average rank."""
    pandas_rank = aapl["close"].rolling(20).rank(method="average")
    _assert_matches(features["close_rank_20"], (pandas_rank - 1) / 19, 19)
