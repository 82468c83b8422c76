"""Labels of every kind, transform and entry lag, worked by hand on a tiny panel with a gap;
the defaults reproduce the label (and last-return baseline) stockml always had, bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from stockml.config import ConfigError, compose_config
from stockml.config_checks import check_config
from stockml.data import synthetic_panel
from stockml.data.schema import TICKER_LEVEL, make_panel_index
from stockml.messages import InputError
from stockml.target import TargetSpec, forward_log_return

NAN = math.nan
DATES = pd.bdate_range("2024-01-01", periods=6, name="date")
# B has no bar on D2 (a gap); D2 is still a calendar date (A and C trade).
CLOSES = {
    "A": [100.0, 110.0, 99.0, 99.0, 198.0, 99.0],
    "B": [10.0, 20.0, NAN, 40.0, 10.0, 20.0],
    "C": [50.0, 50.0, 25.0, 50.0, 100.0, 100.0],
}


def gap_panel() -> pd.DataFrame:
    close = np.concatenate([CLOSES[t] for t in CLOSES])
    index = make_panel_index(list(CLOSES), DATES)
    frame = pd.DataFrame({k: close for k in ("open", "high", "low", "close", "volume")}, index)
    return frame.dropna()


def labels(**spec: object) -> dict[str, list[float]]:
    """The spec's labels per ticker, on the ticker's own rows (B has five)."""
    series = TargetSpec(**spec).labels(gap_panel())  # type: ignore[arg-type]
    return {t: list(series.xs(t, level=TICKER_LEVEL)) for t in CLOSES}


def check(got: dict[str, list[float]], expected: dict[str, list[float]]) -> None:
    for ticker, values in expected.items():
        np.testing.assert_allclose(got[ticker], values, atol=1e-12, err_msg=ticker)


# Simple returns from the bar after the signal, over one bar: close[t+2] / close[t+1] - 1.
#   A: D0 99/110-1=-.1  D1 0  D2 198/99-1=1  D3 99/198-1=-.5  D4, D5: no exit bar
#   B (rows D0 D1 D3 D4 D5): D0 enters on D1, exits on D2 (missing): NaN; D1 enters on D2
#     (missing): NaN; D3 20/10-1=1; D4, D5 NaN
#   C: D0 25/50-1=-.5  D1 50/25-1=1  D2 100/50-1=1  D3 0
SIMPLE_LAG1 = {
    "A": [-0.1, 0.0, 1.0, -0.5, NAN, NAN],
    "B": [NAN, NAN, 1.0, NAN, NAN],
    "C": [-0.5, 1.0, 1.0, 0.0, NAN, NAN],
}


def test_default_label_is_the_next_bars_log_return_on_the_calendar() -> None:
    # B's D1 label would exit on D2, which B lacks: NaN, not stretched to D3.
    check(
        labels(),
        {
            "A": [math.log(1.1), math.log(0.9), 0.0, math.log(2), math.log(0.5), NAN],
            "B": [math.log(2), NAN, math.log(0.25), math.log(2), NAN],
            "C": [0.0, math.log(0.5), math.log(2), math.log(2), 0.0, NAN],
        },
    )


def test_entry_lag_measures_from_the_bar_after_the_signal() -> None:
    check(labels(entry_lag=1, kind="simple_return"), SIMPLE_LAG1)
    check(
        labels(entry_lag=1),
        {t: [math.log1p(v) for v in values] for t, values in SIMPLE_LAG1.items()},
    )


def test_a_gap_inside_the_window_keeps_the_label_but_a_missing_end_drops_it() -> None:
    # horizon 2, entry lag 1: close[t+3] / close[t+1]. B's D0 enters D1 (20), exits D3 (40):
    # its missing D2 is inside the window, so the label is the calendar's, log 2.
    check(
        labels(horizon=2, entry_lag=1),
        {
            "A": [math.log(99 / 110), math.log(2), 0.0, NAN, NAN, NAN],
            "B": [math.log(2), NAN, NAN, NAN, NAN],
            "C": [0.0, math.log(4), math.log(2), NAN, NAN, NAN],
        },
    )


def test_excess_return_subtracts_the_equal_weight_mean_of_the_dates_labelled_tickers() -> None:
    # Simple returns (entry lag 1) per date and their mean over the tickers labelled that date:
    #   D0 A -.1, C -.5 (mean -.3)   D1 A 0, C 1 (.5)   D2 A 1, C 1 (1)
    #   D3 A -.5, B 1, C 0 (1/6)     D4, D5: no label, so no mean either
    check(
        labels(entry_lag=1, kind="excess_return"),
        {
            "A": [0.2, -0.5, 0.0, -2 / 3, NAN, NAN],
            "B": [NAN, NAN, 5 / 6, NAN, NAN],
            "C": [-0.2, 0.5, 0.0, -1 / 6, NAN, NAN],
        },
    )
    demeaned = labels(entry_lag=1, kind="simple_return", transform="cs_demean")
    check(demeaned, labels(entry_lag=1, kind="excess_return"))


def test_cs_rank_maps_each_dates_ranks_onto_minus_half_to_half_with_ties_shared() -> None:
    # D0 C<A; D1 A<C; D2 A=C (tie: both the middle, 0); D3 A<C<B.
    check(
        labels(entry_lag=1, kind="simple_return", transform="cs_rank"),
        {
            "A": [0.5, -0.5, 0.0, -0.5, NAN, NAN],
            "B": [NAN, NAN, 0.5, NAN, NAN],
            "C": [-0.5, 0.5, 0.0, 0.0, NAN, NAN],
        },
    )


def test_cs_zscore_uses_the_population_deviation_and_drops_a_date_without_spread() -> None:
    # D0 mean -.3, deviation .2; D1 mean .5, deviation .5; D2 all equal: NaN;
    # D3 deviations -2/3, 5/6, -1/6 from 1/6, variance (16 + 25 + 1) / 36 / 3 = 7/18.
    sd = math.sqrt(7 / 18)
    check(
        labels(entry_lag=1, kind="excess_return", transform="cs_zscore"),
        {
            "A": [1.0, -1.0, NAN, -2 / 3 / sd, NAN, NAN],
            "B": [NAN, NAN, 5 / 6 / sd, NAN, NAN],
            "C": [-1.0, 1.0, NAN, -1 / 6 / sd, NAN, NAN],
        },
    )


def test_a_date_with_one_labelled_ticker_has_no_cross_section() -> None:
    # Without C's D0 row, D0 has one label (A's; B's needs its missing D2): NaN, not 0.
    got = TargetSpec(entry_lag=1, kind="excess_return").labels(gap_panel().drop(("C", DATES[0])))
    assert math.isnan(got.loc[("A", DATES[0])])
    assert got.loc[("A", DATES[1])] == pytest.approx(-0.5)  # other dates keep theirs


def test_the_trailing_baseline_has_the_labels_kind_and_transform() -> None:
    """The last-return forecast over the ticker's own last bar, made excess on each date."""
    panel = gap_panel()
    rows = np.arange(len(panel))
    got = pd.Series(
        TargetSpec(entry_lag=1, kind="excess_return").trailing(panel, rows), index=panel.index
    )
    # D3: A 99/99-1 = 0, B 40/20-1 = 1 (its previous row, D1), C 50/25-1 = 1; mean 2/3.
    np.testing.assert_allclose(
        got.xs(DATES[3], level="date").to_numpy(), [-2 / 3, 1 / 3, 1 / 3], atol=1e-12
    )
    # D0 has no earlier bar for anyone: no baseline there.
    assert got.xs(DATES[0], level="date").isna().all()


def old_forward_log_return(panel: pd.DataFrame, horizon: int) -> np.ndarray:
    """stockml.target.forward_log_return before TargetSpec existed, verbatim in effect."""
    from stockml.target import RowCodes

    codes = RowCodes.of(panel.index)
    close = panel["close"].to_numpy(dtype=np.float64)
    table = np.full((int(codes.tickers.max()) + 1, int(codes.dates.max()) + 1 + horizon), np.nan)
    table[codes.tickers, codes.dates] = close
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(table[codes.tickers, codes.dates + horizon] / close)


def old_trailing_log_return(panel: pd.DataFrame, horizon: int, rows: np.ndarray) -> np.ndarray:
    """stockml.dataset.trailing_log_return before TargetSpec existed."""
    close = panel["close"].to_numpy()
    tickers = panel.index.codes[panel.index.names.index(TICKER_LEVEL)]
    earlier = rows - horizon
    known = earlier >= 0
    known[known] = tickers[earlier[known]] == tickers[rows[known]]
    trailing = np.full(len(rows), np.nan)
    trailing[known] = np.log(close[rows[known]]) - np.log(close[earlier[known]])
    return trailing


@pytest.mark.parametrize("horizon", [1, 3])
def test_default_labels_and_baseline_are_bit_identical_to_the_old_ones(horizon: int) -> None:
    panel = synthetic_panel(n_tickers=5, n_days=300, seed=3)
    panel = panel.drop(panel.index[np.random.default_rng(1).choice(len(panel), 60, False)])
    spec = TargetSpec.from_config({"horizon": horizon})  # a config from before the new keys
    assert spec == TargetSpec(horizon=horizon)
    old = old_forward_log_return(panel, horizon)
    np.testing.assert_array_equal(spec.labels(panel).to_numpy(), old)
    np.testing.assert_array_equal(forward_log_return(panel, horizon).to_numpy(), old)
    rows = np.random.default_rng(2).permutation(len(panel))
    np.testing.assert_array_equal(
        spec.trailing(panel, rows), old_trailing_log_return(panel, horizon, rows)
    )


def test_the_description_names_every_part_of_the_label() -> None:
    assert TargetSpec().describe() == "forward log return, h=1, entry lag 0"
    assert (
        TargetSpec(horizon=5, entry_lag=1, kind="simple_return", transform="cs_rank").describe()
        == "cs_rank(forward simple return, h=5, entry lag 1)"
    )
    assert TargetSpec(entry_lag=2, horizon=3).label_span == 5


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"entry_lag": -1}, "target.entry_lag must be an integer >= 0 (bars), got -1"),
        ({"entry_lag": True}, "target.entry_lag must be an integer >= 0 (bars), got True"),
        ({"entry_lag": 1.5}, "target.entry_lag must be an integer >= 0 (bars), got 1.5"),
        ({"horizon": 0}, "target.horizon must be an integer >= 1 (bars ahead), got 0"),
        (
            {"kind": "log"},
            "target.kind must be one of log_return, simple_return, excess_return, got 'log'",
        ),
        (
            {"transform": "rank"},
            "target.transform must be one of none, cs_demean, cs_rank, cs_zscore, got 'rank'",
        ),
    ],
)
def test_bad_values_are_refused_in_one_line(spec: dict[str, object], message: str) -> None:
    with pytest.raises(InputError) as caught:
        TargetSpec(**spec)  # type: ignore[arg-type]
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "override",
    ["target.entry_lag=-1", "target.kind=excess", "target.transform=cs_ranks"],
)
def test_the_config_check_refuses_bad_target_values(override: str) -> None:
    key = override.split("=")[0]
    with pytest.raises(ConfigError, match=rf"^{key} must be"):
        check_config(compose_config([override]))


@pytest.mark.parametrize(
    ("spec", "setting"),
    [
        ({"kind": "excess_return"}, "target.kind=excess_return"),
        ({"transform": "cs_zscore"}, "target.transform=cs_zscore"),
    ],
)
def test_a_cross_sectional_label_of_one_ticker_is_refused(
    spec: dict[str, str], setting: str
) -> None:
    one = gap_panel().loc[["A"]]
    with pytest.raises(InputError, match=rf"^{setting} compares the tickers of each date, but "):
        TargetSpec(**spec).labels(one)  # type: ignore[arg-type]
