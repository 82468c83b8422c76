"""Properties every feature must have: causal, unit-free, isolated per ticker, honest warm-up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stockml.data import synthetic_panel
from stockml.features import FeatureBuilder
from stockml.features.audit import with_future_bars

FULL = FeatureBuilder(preset="full")


def _assert_same(actual: pd.DataFrame, expected: pd.DataFrame, rtol: float, atol: float) -> None:
    assert list(actual.columns) == list(expected.columns)
    assert actual.index.equals(expected.index)
    for name in expected.columns:
        np.testing.assert_allclose(
            actual[name].to_numpy(),
            expected[name].to_numpy(),
            rtol=rtol,
            atol=atol,
            equal_nan=True,
            err_msg=name,
        )


@pytest.mark.parametrize("n_tickers", [1, 3])
def test_every_full_feature_ignores_future_bars(n_tickers: int) -> None:
    panel = synthetic_panel(n_tickers, 320, seed=3)
    before = FULL.transform(panel)
    after = FULL.transform(with_future_bars(panel, n_bars=50)).loc[panel.index]
    _assert_same(after, before, rtol=1e-12, atol=0.0)
    assert before.iloc[-1].notna().all()


def test_features_are_unit_free() -> None:
    panel = synthetic_panel(2, 400, seed=4)
    scaled = panel.copy()
    scaled[["open", "high", "low", "close"]] *= 1000.0
    scaled["volume"] *= 7.0
    _assert_same(FULL.transform(scaled), FULL.transform(panel), rtol=1e-9, atol=1e-12)


def test_tickers_do_not_bleed_into_each_other() -> None:
    """Neighbours at wildly different price levels and of different lengths (the ragged path)."""
    parts = [synthetic_panel(1, length, seed=seed) for seed, length in enumerate((420, 260, 380))]
    for scale, (name, part) in zip((1e5, 1.0, 1e-3), zip("ABC", parts, strict=True), strict=True):
        part[["open", "high", "low", "close"]] *= scale
        part.index = part.index.set_levels([name], level="ticker")
    panel = pd.concat(parts)
    together = FULL.transform(panel)
    for part in parts:
        _assert_same(together.loc[part.index], FULL.transform(part), rtol=1e-12, atol=1e-15)


def test_a_ticker_gets_the_same_numbers_alone_and_among_tickers_of_other_lengths() -> None:
    """Bit for bit: no value depends on the panel's layout. Irregular highs and lows make any
    change in the order of a sum show (the ATR seed once summed in another order on panels
    of unequal tickers)."""
    panel = synthetic_panel(12, 120, seed=6)
    noise = np.random.default_rng(6).random((2, len(panel)))
    panel["high"] *= 1.0 + 0.3 * noise[0]
    panel["low"] *= 1.0 - 0.3 * noise[1]
    ragged = panel.drop(panel.index[110:120]).drop(panel.index[600:640])
    together = FULL.transform(ragged)
    for _, part in ragged.groupby(level="ticker"):
        alone = FULL.transform(part)
        np.testing.assert_array_equal(together.loc[part.index].to_numpy(), alone.to_numpy())


def test_warmup_rows_are_exactly_the_leading_nans() -> None:
    """Each feature is NaN on precisely its declared warm-up, so `warmup_rows` is honest."""
    panel = synthetic_panel(2, 300, seed=5)
    features = FULL.transform(panel)
    warmups = FULL.feature_warmups()
    first_valid = features.notna().groupby(level="ticker").apply(lambda rows: rows.values.argmax(0))
    for ticker_first_valid in first_valid:
        assert dict(zip(features.columns, ticker_first_valid, strict=True)) == warmups
    trailing = features.groupby(level="ticker").tail(300 - FULL.warmup_rows)
    assert trailing.notna().all().all()
    assert FULL.warmup_rows == max(warmups.values())
