"""Formula values against an independent per-ticker / per-date pandas reference, and causality.

The panel is ragged on purpose: a ticker that starts late, one with missing dates (so every
date's cross-section differs), one that stops early, a zero-volume bar (log -> NaN inside
windows) and a flat bar (close == open, a zero denominator).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata

from stockml.data import synthetic_panel
from stockml.features import FeatureBuilder
from stockml.features.formulas import inputs
from stockml.features.panel import PanelArrays

Reference = Callable[[pd.DataFrame], pd.Series]


def _ragged_panel() -> pd.DataFrame:
    full = synthetic_panel(4, 160, seed=5)
    tickers = full.index.get_level_values("ticker")
    names = tickers.unique()
    position = full.groupby(level="ticker").cumcount().to_numpy()
    keep = ~((tickers == names[1]) & (position < 40))
    keep &= ~((tickers == names[2]) & (position % 7 == 3))
    keep &= ~((tickers == names[3]) & (position >= 90))
    panel = full[keep].copy()
    panel.loc[panel.index[70], "volume"] = 0.0
    panel.loc[panel.index[75], "open"] = panel.loc[panel.index[75], "close"]
    return panel


PANEL = _ragged_panel()


def _per_ticker(values: pd.Series, function: Callable[[pd.Series], pd.Series]) -> pd.Series:
    return values.groupby(level="ticker", group_keys=False).transform(function)


def _shift(values: pd.Series, periods: int) -> pd.Series:
    return _per_ticker(values, lambda series: series.shift(periods))


def _rolling(values: pd.Series, window: int, how: str) -> pd.Series:
    return _per_ticker(values, lambda series: getattr(series.rolling(window), how)())


def _ts_rank(values: pd.Series, window: int) -> pd.Series:
    """pandas' rolling percentile rank r/n mapped to the kernel's (r - 1) / (n - 1) scale."""
    pct = _per_ticker(values, lambda series: series.rolling(window).rank(pct=True))
    return (pct * window - 1) / (window - 1)


def _ts_corr(panel: pd.DataFrame, left: str, right: str, window: int) -> pd.Series:
    return panel.groupby(level="ticker", group_keys=False).apply(
        lambda rows: rows[left].rolling(window).corr(rows[right])
    )


def _masked(values: pd.Series, warmup: int) -> pd.Series:
    """NaN for each ticker's first ``warmup`` rows and for infinities, as operators that mix
    rows read their input."""
    position = values.groupby(level="ticker").cumcount()
    return values.replace([np.inf, -np.inf], np.nan).mask(position < warmup)


def _ema(values: pd.Series, span: int, warmup: int = 0) -> pd.Series:
    return _per_ticker(_masked(values, warmup), lambda series: series.ewm(span=span).mean())


def _per_date(values: pd.Series, function: Callable[[np.ndarray], np.ndarray]) -> pd.Series:
    """``function`` of each date's non-NaN values, one date at a time."""
    result = pd.Series(np.nan, index=values.index)
    for _, rows in values.dropna().groupby(level="date"):
        result[rows.index] = function(rows.to_numpy())
    return result


def _cs_rank(values: pd.Series, warmup: int = 0) -> pd.Series:
    return _per_date(_masked(values, warmup), lambda day: rankdata(day) / len(day))


def _cs_zscore(values: pd.Series) -> pd.Series:
    def zscore(day: np.ndarray) -> np.ndarray:
        spread = day.std()
        return (day - day.mean()) / spread if spread > 0 else np.full(len(day), np.nan)

    return _per_date(values, zscore)


def _log(values: pd.Series) -> pd.Series:
    return np.log(values.where(values > 0))


def _ret(panel: pd.DataFrame) -> pd.Series:
    return _log(panel.close / _shift(panel.close, 1))


CASES: list[tuple[str, Reference]] = [
    ("delay(close, 3)", lambda p: _shift(p.close, 3)),
    ("delta(log(volume), 2)", lambda p: _log(p.volume) - _shift(_log(p.volume), 2)),
    ("ts_mean(close, 5)", lambda p: _rolling(p.close, 5, "mean")),
    ("ts_std(close, 5)", lambda p: _rolling(p.close, 5, "std")),
    ("ts_sum(volume, 4)", lambda p: _rolling(p.volume, 4, "sum")),
    ("ts_min(low, 6)", lambda p: _rolling(p.low, 6, "min")),
    ("ts_max(high, 6)", lambda p: _rolling(p.high, 6, "max")),
    ("ts_rank(close, 8)", lambda p: _ts_rank(p.close, 8)),
    ("ts_rank(log(volume), 5)", lambda p: _ts_rank(_log(p.volume), 5)),
    ("ts_corr(close, volume, 10)", lambda p: _ts_corr(p, "close", "volume", 10)),
    ("ema(close, 10)", lambda p: _ema(p.close, 10)),
    ("ema(log(volume), 5)", lambda p: _ema(_log(p.volume), 5)),
    ("ema(delay(close, 3), 4)", lambda p: _ema(_shift(p.close, 3), 4, warmup=3)),
    ("cs_rank(close / delay(close, 5) - 1)", lambda p: _cs_rank(p.close / _shift(p.close, 5) - 1)),
    ("cs_rank(ema(close, 5))", lambda p: _cs_rank(_ema(p.close, 5), warmup=4)),
    ("cs_zscore(volume)", lambda p: _cs_zscore(p.volume)),
    (
        "cs_demean(ts_mean(close, 5))",
        lambda p: _per_date(_rolling(p.close, 5, "mean"), lambda day: day - day.mean()),
    ),
    ("(high - low) / (close - open)", lambda p: (p.high - p.low) / (p.close - p.open)),
    (
        "sqrt(close - open) * sign(open - low)",
        lambda p: np.sqrt((p.close - p.open).where(p.close >= p.open)) * np.sign(p.open - p.low),
    ),
    ("-abs(log(low / high)) + 2 * 0.5", lambda p: 1 - np.abs(np.log(p.low / p.high))),
    ("clip(ret_lag_1, -0.01, 0.01)", lambda p: _ret(p).clip(-0.01, 0.01)),
    ("ts_mean(ret_lag_1, 5)", lambda p: _rolling(_ret(p), 5, "mean")),
]


def _builder(text: str) -> FeatureBuilder:
    """One formula over a builder whose only preset feature is ret_lag_1."""
    return FeatureBuilder(
        families={"returns": {"lags": [1], "windows": []}}, expressions={"f": text}
    )


@pytest.mark.parametrize(("text", "reference"), CASES, ids=[text for text, _ in CASES])
def test_formula_matches_the_pandas_reference(text: str, reference: Reference) -> None:
    builder = _builder(text)
    actual = builder.transform(PANEL)["f"]
    position = PANEL.groupby(level="ticker").cumcount()
    expected = _masked(reference(PANEL).reindex(PANEL.index), builder.feature_warmups()["f"])
    assert expected.notna().sum() > len(PANEL) / 3  # the comparison is not vacuous
    assert actual[position < builder.feature_warmups()["f"]].isna().all()
    np.testing.assert_allclose(
        actual.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-12, equal_nan=True
    )


def _perturbed_after(panel: pd.DataFrame, cut: pd.Timestamp, seed: int = 7) -> pd.DataFrame:
    """``panel`` with every bar after ``cut`` replaced by absurd values (all tickers)."""
    rng = np.random.default_rng(seed)
    later = panel.index.get_level_values("date") > cut
    perturbed = panel.copy()
    count = int(later.sum())
    for name in ("open", "high", "low", "close"):
        perturbed.loc[later, name] *= 1000 * np.exp(rng.normal(0, 1.5, count))
    perturbed.loc[later, "volume"] = 10 ** rng.uniform(0, 12, count)
    return perturbed


@pytest.mark.parametrize("text", [text for text, _ in CASES])
def test_values_up_to_a_date_ignore_every_later_bar(text: str) -> None:
    dates = PANEL.index.get_level_values("date")
    cut = dates.unique().sort_values()[100]
    builder = _builder(text)
    before = builder.transform(PANEL)["f"][dates <= cut]
    after = builder.transform(_perturbed_after(PANEL, cut))["f"][dates <= cut]
    assert before.notna().any()
    np.testing.assert_array_equal(after.to_numpy(), before.to_numpy())


@pytest.mark.parametrize(
    "text",
    [text for text, _ in CASES if "log(volume)" not in text and "close - open" not in text],
)
def test_the_first_row_past_the_warmup_has_a_value(text: str) -> None:
    """The derived warm-up is not longer than needed: on a clean rectangular panel, each
    ticker's row number ``warmup`` is already finite."""
    panel = synthetic_panel(3, 40, seed=11)
    builder = _builder(text)
    values = builder.transform(panel)["f"]
    position = panel.groupby(level="ticker").cumcount()
    assert np.isfinite(values[position == builder.feature_warmups()["f"]]).all()


@pytest.mark.parametrize(
    ("text", "reference"),
    [case for case in CASES if case[0].startswith("cs_")],
    ids=[text for text, _ in CASES if text.startswith("cs_")],
)
def test_cross_sections_grouped_by_date_code_match_the_reference(
    text: str, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The path for panels too sparse for a (date, ticker) matrix gives the same values."""
    monkeypatch.setattr(inputs, "DENSE_GRID_CELLS_PER_ROW", 0)
    test_formula_matches_the_pandas_reference(text, reference)


def test_tickers_listed_over_different_years_are_too_sparse_for_a_date_grid() -> None:
    panel = pd.concat(
        synthetic_panel(1, 100, seed=seed, start=f"{2000 + seed}-01-03").rename(
            index={"SYN0000": f"T{seed}"}
        )
        for seed in range(5)
    )
    builder = FeatureBuilder(families={}, expressions={"r": "cs_rank(close)"})
    data = inputs.FormulaInputs.from_panel(panel, PanelArrays.from_panel(panel), {})
    assert data.date_grid(panel.close.to_numpy()) is None
    assert (builder.transform(panel)["r"] == 1.0).all()  # each date has one ticker
    dense = inputs.FormulaInputs.from_panel(PANEL, PanelArrays.from_panel(PANEL), {})
    assert dense.date_grid(PANEL.close.to_numpy()).shape == (160, 4)
