"""The look-ahead audit: proof, on the run's own data, that a feature ignores later bars.

The check is the one stockml's own feature tests make (`with_future_bars`): compute the
features on a slice of the panel, then on the same slice with absurd future bars appended
(prices x1000 jumping around, volume over twelve orders of magnitude); every row of the slice
must come out the same, NaN for NaN. It runs at several cut points of a small sample (a few
tickers, the panel's first few hundred dates past the warm-up), so a feature that reads one
bar ahead, peeks at the whole history (a full-sample mean) or lets one ticker's late bars
reach another's early rows is caught in well under a second, before any model sees it.

Only user-added features are audited by a run (the preset families are proven by the test
suite).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from stockml.data.schema import DATE_LEVEL, TICKER_LEVEL, format_stamp, panel_dates
from stockml.messages import InputError

if TYPE_CHECKING:
    from stockml.features.builder import FeatureBuilder

SAMPLE_TICKERS = 4
SAMPLE_DATES = 200  # past the warm-up
CUTS = (1 / 3, 2 / 3, 1.0)  # where the slices end, as fractions of the sample past its warm-up
FUTURE_BARS = 30
# Same inputs, same operations: equal up to float noise (a sum reassociated by a vectorised
# kernel), far below any change the absurd future bars cause.
RTOL, ATOL = 1e-9, 1e-12


@dataclass(frozen=True)
class AuditResult:
    """One feature's verdict: ``moved`` is the first date whose value changed, None if none."""

    feature: str
    warmup: int
    moved: pd.Timestamp | None

    @property
    def causal(self) -> bool:
        return self.moved is None


def with_future_bars(panel: pd.DataFrame, n_bars: int = FUTURE_BARS, seed: int = 1) -> pd.DataFrame:
    """``panel`` plus ``n_bars`` absurd bars per ticker after its last one: prices x1000
    jumping around, volume spanning twelve orders of magnitude. Built in one piece (one concat,
    one reorder) rather than per ticker: the audit calls it at every cut."""
    multi = isinstance(panel.index, pd.MultiIndex)  # else one ticker, as the builder reads it
    if multi:
        codes, tickers = pd.factorize(panel.index.get_level_values(TICKER_LEVEL))
    else:
        codes = np.zeros(len(panel), dtype=np.intp)
    last = np.flatnonzero(np.diff(codes, append=-1))  # each ticker's last row (rows grouped)
    dates = panel_dates(panel)
    rng = np.random.default_rng(seed)
    shape = (len(last), n_bars)
    close = panel["close"].to_numpy()[last, None] * 1000 * np.exp(rng.normal(0, 1.5, shape))
    open_ = close * np.exp(rng.normal(0, 0.5, shape))
    spread = np.exp(np.abs(rng.normal(0, 0.5, (2, *shape))))
    future_dates = [pd.bdate_range(dates[row], periods=n_bars + 1)[1:] for row in last]
    index = future_dates[0].append(future_dates[1:]).rename(DATE_LEVEL)
    if multi:
        index = pd.MultiIndex.from_arrays(
            [tickers[codes[last]].repeat(n_bars), index], names=[TICKER_LEVEL, DATE_LEVEL]
        )
    future = pd.DataFrame(
        {
            "open": open_.ravel(),
            "high": (np.maximum(open_, close) * spread[0]).ravel(),
            "low": (np.minimum(open_, close) / spread[1]).ravel(),
            "close": close.ravel(),
            "volume": 10 ** rng.uniform(0, 12, shape).ravel(),
        },
        index=index,
    )
    order = np.argsort(np.concatenate([codes, codes[last].repeat(n_bars)]), kind="stable")
    return pd.concat([panel, future]).iloc[order]


def audit_sample(panel: pd.DataFrame, warmup: int) -> pd.DataFrame:
    """The first `SAMPLE_TICKERS` tickers over the panel's first ``warmup`` + `SAMPLE_DATES`
    dates: the oldest data, as far as the panel allows from the holdout (its most recent
    slice), so a verdict that stops a run or a sweep trial is not drawn from holdout bars."""
    dates = panel_dates(panel)
    window = dates.unique().sort_values()[: warmup + SAMPLE_DATES]
    early = panel[dates.isin(window)]
    if not isinstance(early.index, pd.MultiIndex):
        return early
    tickers = early.index.get_level_values(TICKER_LEVEL).unique()[:SAMPLE_TICKERS]
    return early[early.index.get_level_values(TICKER_LEVEL).isin(tickers)]


def audit_features(
    builder: FeatureBuilder, panel: pd.DataFrame, names: list[str] | None = None
) -> list[AuditResult]:
    """Audit ``names`` (default: the user-added features) of ``builder`` on a sample of
    ``panel``, at every cut point; a feature moved at several reports its earliest date."""
    probe = clone(builder).set_params(dtype="float64", audit=False)
    sample = audit_sample(panel, probe.warmup_rows)
    probe.user_features(sample)  # learns the custom columns' names
    names = probe.user_feature_names() if names is None else names
    warmups = probe.feature_warmups()
    dates = panel_dates(sample).unique().sort_values()
    moved: dict[str, pd.Timestamp] = {}
    for cut in cut_dates(dates, probe.warmup_rows):
        base = sample[panel_dates(sample) <= cut]
        before = probe.user_features(base)[names]
        after = probe.user_features(with_future_bars(base))[names].reindex(base.index)
        for name, date in first_moved(before, after).items():
            moved[name] = min(date, moved.get(name, date))
    return [AuditResult(name, warmups[name], moved.get(name)) for name in names]


def cut_dates(dates: pd.DatetimeIndex, warmup: int) -> list[pd.Timestamp]:
    """The last date of each audited slice: spread over the dates past the warm-up."""
    first = min(warmup, len(dates) - 1)
    positions = {first + round((len(dates) - 1 - first) * fraction) for fraction in CUTS}
    return [dates[position] for position in sorted(positions)]


def first_moved(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, pd.Timestamp]:
    """Column -> first date where ``after`` differs from ``before`` (NaN equals NaN)."""
    same = np.isclose(after.to_numpy(), before.to_numpy(), rtol=RTOL, atol=ATOL, equal_nan=True)
    dates = panel_dates(before)
    return {
        name: dates[~same[:, column]].min()
        for column, name in enumerate(before.columns)
        if not same[:, column].all()
    }


def require_causal(builder: FeatureBuilder, panel: pd.DataFrame) -> None:
    """Refuse, in one line, the first user-added feature that reads ahead on ``panel``."""
    if not builder.user_feature_names():
        return
    for result in audit_features(builder, panel):
        if not result.causal:
            raise InputError(
                f"feature {result.feature!r} reads the future: its value on "
                f"{format_stamp(result.moved)} changed when later bars changed "
                "(look-ahead audit; features.audit=false skips it)"
            )


AUDIT_TAG = "feature_audit"


def audit_tags(features: Mapping[str, Any]) -> dict[str, str]:
    """The run's `feature_audit` tag from its features config: ``skipped`` with
    ``audit=false``, ``passed`` when user-added features were proven causal (the run would
    have stopped otherwise), none when there was nothing to audit."""
    if features.get("audit") is False:
        return {AUDIT_TAG: "skipped"}
    if features.get("custom") or features.get("expressions"):
        return {AUDIT_TAG: "passed"}
    return {}
