"""The bundled sample: the panel contract, split adjustment and the filters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from stockml.data import PRICE_COLUMNS, DataValidationError, load_sample

SAMPLE_TICKERS = ["AAPL", "GOOG", "IBM", "MSFT"]


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return load_sample()


def test_sample_meets_the_panel_contract(sample: pd.DataFrame) -> None:
    assert list(sample.columns) == list(PRICE_COLUMNS)
    assert all(dtype == np.float64 for dtype in sample.dtypes)
    assert sample.index.names == ["ticker", "date"]
    assert sample.index.is_monotonic_increasing
    assert not sample.index.has_duplicates
    dates = sample.index.get_level_values("date")
    assert isinstance(dates, pd.DatetimeIndex)
    assert dates.tz is None
    assert (dates == dates.normalize()).all()
    assert not sample.isna().to_numpy().any()
    assert sorted(sample.index.get_level_values("ticker").unique()) == SAMPLE_TICKERS


def test_sample_spans_the_documented_dates(sample: pd.DataFrame) -> None:
    aapl = sample.xs("AAPL").index
    goog = sample.xs("GOOG").index
    assert aapl[0] == pd.Timestamp("2000-03-01")
    assert aapl[-1] == pd.Timestamp("2013-03-01")
    assert goog[0] == pd.Timestamp("2004-08-19")


def test_sample_loads_from_any_working_directory(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert len(load_sample(tickers=["IBM"], end="2000-03-31")) == 23


@pytest.mark.parametrize(("adjust", "expect_jump"), [(True, False), (False, True)])
def test_aapl_split_is_adjusted_away(adjust: bool, expect_jump: bool) -> None:
    close = load_sample(tickers=["AAPL"], start="2000-06-01", end="2000-07-01", adjust=adjust)
    log_return = np.log(close.xs("AAPL")["close"]).diff().loc["2000-06-21"]
    if expect_jump:
        assert abs(log_return) > 0.5
    else:
        assert abs(log_return) < 0.2


def test_adjustment_preserves_traded_value() -> None:
    raw = load_sample(tickers=["AAPL"], end="2001-01-01", adjust=False)
    adjusted = load_sample(tickers=["AAPL"], end="2001-01-01")
    assert not np.allclose(raw["close"], adjusted["close"])
    np.testing.assert_allclose(
        raw["close"] * raw["volume"], adjusted["close"] * adjusted["volume"], rtol=1e-9
    )


def test_ticker_filter_is_case_insensitive_and_exact() -> None:
    panel = load_sample(tickers=["msft", "IBM"], end="2000-12-31")
    assert sorted(panel.index.get_level_values("ticker").unique()) == ["IBM", "MSFT"]


def test_a_bare_string_is_one_ticker() -> None:
    panel = load_sample(tickers="IBM", end="2000-03-31")
    assert list(panel.index.get_level_values("ticker").unique()) == ["IBM"]


def test_date_filter_is_inclusive_for_strings_and_timestamps() -> None:
    by_string = load_sample(tickers=["IBM"], start="2005-01-03", end="2005-12-30")
    by_stamp = load_sample(
        tickers=["IBM"], start=pd.Timestamp("2005-01-03"), end=pd.Timestamp("2005-12-30")
    )
    dates = by_string.index.get_level_values("date")
    assert dates[0] == pd.Timestamp("2005-01-03")
    assert dates[-1] == pd.Timestamp("2005-12-30")
    pd.testing.assert_frame_equal(by_string, by_stamp)


def test_unknown_ticker_lists_what_is_available() -> None:
    with pytest.raises(DataValidationError, match="FB") as caught:
        load_sample(tickers=["AAPL", "FB"])
    message = str(caught.value)
    assert "sample" in message
    assert all(ticker in message for ticker in SAMPLE_TICKERS)
    assert "\n" not in message


def test_ticker_without_rows_in_range_is_skipped_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="GOOG"):
        panel = load_sample(end="2003-12-31")
    assert "GOOG" not in panel.index.get_level_values("ticker")
    assert len(panel.index.get_level_values("ticker").unique()) == 3


def test_named_ticker_without_rows_in_range_is_an_error() -> None:
    with pytest.raises(DataValidationError, match="GOOG"):
        load_sample(tickers=["GOOG"], end="2003-12-31")


def test_empty_result_after_filters_is_an_error() -> None:
    with pytest.raises(DataValidationError, match="no rows left"):
        load_sample(start="2020-01-01")


def test_start_after_end_is_an_error() -> None:
    with pytest.raises(ValueError, match="after end"):
        load_sample(start="2010-01-01", end="2009-01-01")


def test_unknown_missing_policy_lists_the_allowed_values() -> None:
    with pytest.raises(ValueError, match="drop, ffill, raise") as caught:
        load_sample(missing="zero")
    assert not isinstance(caught.value, DataValidationError)


def test_hydra_config_with_list_config_tickers_instantiates() -> None:
    config = OmegaConf.create(
        "_target_: stockml.data.load_sample\n"
        "tickers: [aapl, MSFT]\nstart: 2005-01-03\nend: 2005-01-31\nmissing: drop\n"
    )
    panel = instantiate(config)
    assert list(panel.index.get_level_values("ticker").unique()) == ["AAPL", "MSFT"]
    assert len(panel) == 2 * 20
